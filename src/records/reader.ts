/**
 * What the import pipeline needs from a format reader (HAE JSON, Apple Health XML, ...): typed
 * records and rejects in input order, in batches, plus what the summary reports about the
 * input. A reader throws InputError (src/errors.ts) when the input itself breaks (not JSON,
 * truncated, ...), after yielding everything complete before that point.
 */
import type { HealthRecord, RecordKind } from './model.js';

export interface ReaderReject {
  /** The kind of record it would have been (for per-table counts). */
  kind: RecordKind;
  reason: string;
  /** Where in the input: a JSON path, an XML element path, ... */
  path: string;
  byteOffset: number | null;
  /** The record's text, at most `max` characters, as a string of its own (rawText). */
  raw: string | null;
}

/**
 * At most `max` characters of `text`, copied. A slice of a string keeps the whole string alive
 * (V8 shares the characters), and a reject waits for its group to be stored: the raw text of
 * rejected workouts sliced from their multi-MB records, or of rejects one per read chunk sliced
 * from the chunk, filled a 256 MB heap with texts nobody kept (an export of 26 M out-of-range
 * records ran out of memory at its workouts).
 */
export function rawText(text: string, max: number): string {
  return Buffer.from(text.length > max ? text.slice(0, max) : text, 'utf16le').toString('utf16le');
}

export interface ReaderBatch {
  records: HealthRecord[];
  rejects: ReaderReject[];
  /**
   * Every record here passed `recordProblem` (records/admissible.ts) where the reader knew its
   * place in the input, so the import need not check it again; it checks batches without this.
   */
  checked?: boolean;
}

export interface ReaderStats {
  /** Metric names seen, each with whether healthexport knows it. */
  metrics: Map<string, boolean>;
  /** Keys or elements not understood (skipped, reported). */
  unknownKeys: string[];
  /**
   * When the input says when it was exported (Apple's <ExportDate>), epoch ms; set as soon as it
   * is read, before the first record. The import takes it as the input's "as of" instant.
   */
  exportedAt?: number;
}

export interface RecordReader {
  batches: AsyncIterable<ReaderBatch>;
  stats: ReaderStats;
}
