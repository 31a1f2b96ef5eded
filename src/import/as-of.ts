/**
 * The "as of" instant of an input: when the data it carries was current. A stored row is updated
 * only by an ingestion not older than the one that wrote it (src/load/writer.ts), so the order
 * in which exports are imported stops mattering. In order of trust:
 *   option   `import --as-of` (or a caller's explicit value);
 *   content  the export says it (Apple's <ExportDate>: applied when the reader reads it);
 *   name     the file name says it: Health Auto Export names exports by their dates
 *            (`HealthAutoExport-2024-01-01-2024-01-31.json`: the last date is the end, taken as
 *            the END of that day, UTC) or by the moment of export (`HealthAutoExport_20240604141813`,
 *            taken as UTC: the zone is not written);
 *   mtime    the file's modification time;
 *   received the time it was received (stdin, a REST POST).
 */
import type { AsOf } from '../load/ingestions.js';
import { parseHaeDate } from '../records/dates.js';
import type { InputSource } from '../input/open-input.js';

const DAY_MS = 86_400_000;
const STAMP = /(?:^|[^0-9])(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?![0-9])/g;
const DATE = /(?:^|[^0-9])(\d{4})-(\d{2})-(\d{2})(?![0-9])/g;

function valid(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number | null {
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  if (y < 1990 || y > 2200 || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return t;
}

/** The instant a source's name states, or null. The last date in the name wins (its own file's). */
export function asOfFromName(name: string): number | null {
  let best: { at: number; index: number } | null = null;
  const take = (t: number | null, index: number) => {
    if (t !== null && (best === null || index > best.index)) best = { at: t, index };
  };
  for (const m of name.matchAll(STAMP)) take(valid(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6]), m.index ?? 0);
  for (const m of name.matchAll(DATE)) {
    const day = valid(+m[1], +m[2], +m[3]);
    take(day === null ? null : day + DAY_MS - 1, m.index ?? 0);
  }
  return (best as { at: number } | null)?.at ?? null;
}

/** The best "as of" known before reading: option, then name, then mtime; null: the time received. */
export function asOfBeforeReading(src: Pick<InputSource, 'name' | 'modifiedAt'>, option?: number): AsOf | null {
  if (option !== undefined) return { at: option, source: 'option' };
  const named = asOfFromName(src.name);
  if (named !== null) return { at: named, source: 'name' };
  if (src.modifiedAt !== undefined) return { at: Math.round(src.modifiedAt), source: 'mtime' };
  return null;
}

/** An `--as-of` value: any date form the importer reads (a bare date is UTC midnight), or null. */
export function parseAsOf(value: string): number | null {
  return parseHaeDate(value.trim());
}
