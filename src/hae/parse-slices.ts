/**
 * Parse a batch of record slices (from scanner.ts).
 *
 * Each slice is parsed on its own. The "one JSON.parse('[' + texts.join(',') + ']') per batch,
 * per-slice fallback on failure" design was measured on the 205 MB synthetic export
 * (bench/scan-bench.ts): scan+parse took 1.67-1.82 CPU-s batched against 1.56-1.60 CPU-s per
 * slice. Building and flattening the joined string costs more than the per-call overhead of
 * JSON.parse saves, and parsing slice by slice isolates a broken record for free.
 *
 * (Had the batch form been kept, it could not be fooled either: every slice is one bracket- and
 * string-balanced unit, or a scalar ended by a delimiter, so the joined array parses only if
 * each slice alone is exactly one JSON value.)
 */
import type { RecordSlice } from './scanner.js';

export type ParsedSlice =
  | { slice: RecordSlice; value: unknown; error?: undefined }
  | { slice: RecordSlice; value?: undefined; error: string };

const MAX_ERROR_CHARS = 200;

function oneLine(message: string): string {
  const s = message.replace(/\s+/g, ' ').trim();
  return s.length > MAX_ERROR_CHARS ? s.slice(0, MAX_ERROR_CHARS - 1) + '…' : s;
}

/** One result per slice, in order; a slice that is not valid JSON carries a one-line error. */
export function parseSlices(slices: RecordSlice[]): ParsedSlice[] {
  const n = slices.length;
  const out: ParsedSlice[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const slice = slices[i];
    try {
      out[i] = { slice, value: JSON.parse(slice.text) };
    } catch (e) {
      out[i] = { slice, error: 'invalid JSON: ' + oneLine(e instanceof Error ? e.message : String(e)) };
    }
  }
  return out;
}
