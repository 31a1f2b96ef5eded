/**
 * Picks the format reader for a byte stream by its content, not its name: the first bytes after
 * a BOM and whitespace are `<?xml`, `<!DOCTYPE HealthData` or `<HealthData` → the Apple Health
 * export reader (src/apple); anything else → the HAE JSON reader (which explains what is wrong
 * with a stream that is not HAE JSON either).
 */
import { appleReader } from '../apple/reader.js';
import { haeReader } from '../hae/reader.js';
import type { InputSource } from '../input/open-input.js';
import type { ReaderBatch, ReaderStats, RecordReader } from '../records/reader.js';

export type ReaderFactory = (input: AsyncIterable<Buffer>, src?: Pick<InputSource, 'siblings'>, limits?: ReaderLimits) => RecordReader;

/** What a reader may hold in memory at once. */
export interface ReaderLimits {
  /**
   * Longest single element read whole (HAE datapoint or workout; Apple Record, Workout or
   * Correlation with its children); over it the input fails.
   */
  maxElementBytes?: number;
}

export type Format = 'apple-xml' | 'hae-json';

const XML_STARTS = ['<?xml', '<!DOCTYPE HealthData', '<HealthData'].map((s) => Buffer.from(s));
/** Bytes wanted after the first significant one before deciding. */
const WANT = 20;

/** The format of a stream whose first bytes are `head` (enough of them: see WANT). */
export function detectFormat(head: Buffer): Format {
  const i = significantStart(head);
  for (const x of XML_STARTS) {
    const n = Math.min(x.length, head.length - i);
    if (n > 0 && head.subarray(i, i + n).equals(x.subarray(0, n)) && (n === x.length || i + n === head.length)) {
      return 'apple-xml';
    }
  }
  return 'hae-json';
}

function significantStart(head: Buffer): number {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  return i;
}

/**
 * A reader that looks at the first bytes, then hands the whole stream (those bytes included) to
 * the reader of that format. `stats` are the chosen reader's once it has started.
 */
export function detectReader(input: AsyncIterable<Buffer>, src?: Pick<InputSource, 'siblings'>, limits: ReaderLimits = {}): RecordReader {
  let inner: RecordReader | null = null;
  const empty: ReaderStats = { metrics: new Map(), unknownKeys: [] };
  async function* batches(): AsyncGenerator<ReaderBatch> {
    const it = input[Symbol.asyncIterator]();
    const parts: Buffer[] = [];
    let head: Buffer = Buffer.alloc(0);
    let done = false;
    while (!done) {
      const n = await it.next();
      if (n.done) {
        done = true;
        break;
      }
      parts.push(n.value);
      head = parts.length === 1 ? n.value : Buffer.concat([head, n.value]);
      const s = significantStart(head);
      if (s < head.length && head.length - s >= WANT) break;
      if (head.length > 1 << 20) break; // a megabyte of whitespace: let the reader complain
    }
    async function* whole(): AsyncGenerator<Buffer> {
      for (const p of parts) yield p;
      parts.length = 0;
      if (done) return;
      try {
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          yield n.value;
        }
      } finally {
        await it.return?.();
      }
    }
    if (detectFormat(head) === 'apple-xml') {
      inner = appleReader(whole(), src, limits);
    } else {
      await src?.siblings?.close();
      inner = haeReader(whole(), limits);
    }
    yield* inner.batches;
  }
  return {
    batches: batches(),
    get stats() {
      return inner?.stats ?? empty;
    },
  };
}
