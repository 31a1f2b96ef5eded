/**
 * Dates of Apple Health's export.xml. The Health app writes `2024-01-15 08:30:00 -0800` (local
 * wall time plus the offset in force), the same form as HAE, so parseHaeDate does the work.
 * Some locales with the 24-hour clock off have been seen writing `2024-01-15 8:30:00 AM -0800`
 * (sometimes with U+202F NARROW NO-BREAK SPACE before AM/PM): accepted as a fallback.
 */
import { parseHaeDate } from '../records/dates.js';

const TWELVE_HOUR = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?[\s\u202f\u00a0]*([AaPp])\.?[Mm]\.?\s*([+-]\d{2}:?\d{2}|Z)$/;

/** Epoch ms of an export.xml date, or null. */
export function appleDate(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = parseHaeDate(s);
  if (t !== null) return t;
  const m = TWELVE_HOUR.exec(s);
  if (m === null) return null;
  let h = Number(m[2]);
  if (h < 1 || h > 12) return null;
  const pm = m[5] === 'P' || m[5] === 'p';
  if (h === 12) h = 0;
  if (pm) h += 12;
  const hh = h < 10 ? `0${h}` : String(h);
  return parseHaeDate(`${m[1]} ${hh}:${m[3]}:${m[4] ?? '00'} ${m[6]}`);
}
