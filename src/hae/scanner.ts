/**
 * Streaming reader for Health Auto Export JSON: turns the bytes of an export (any size) into
 * record slices — the JSON text of each record plus where it came from — in constant memory.
 *
 * It does not parse records. A byte-level scanner walks the envelope
 * (`{"data": {"<section>": [ ... ], "metrics": [ {"name", "units", "data": [ ... ]} ]}}`),
 * and inside each record only tracks strings, escapes and bracket nesting to find where the
 * record ends. Records are parsed later, a batch at a time, by `parseSlices` (parse-batch.ts),
 * which is several times faster than a streaming JSON parser and keeps memory flat: only the
 * current batch and the current partial record are held (one exception: a metric object whose
 * "data" precedes its "name"/"units" is held whole until it closes).
 *
 * A syntax error inside a record is not the scanner's business: the record's boundaries are
 * still found (brackets and strings balance), the slice is emitted, and JSON.parse rejects it
 * alone. Errors in the envelope, mismatched brackets anywhere, and truncated input throw
 * InputError — after every complete slice before the error point has been yielded.
 */
import { Buffer } from 'node:buffer';
import { InputError } from '../errors.js';

export interface RecordSlice {
  /** Key under `data`: 'metrics' | 'workouts' | 'stateOfMind' | 'ecg' | ... (any array key). */
  section: string;
  /** Section 'metrics' only: the enclosing metric object's "name" ('' when it has none). */
  metricName?: string;
  /** Section 'metrics' only: the enclosing metric object's "units" (undefined when it has none). */
  metricUnits?: string;
  /** Section 'metrics' only: index of the metric object in data.metrics. */
  metricIndex?: number;
  /** Index of this element in its array (data.metrics[i].data[index], data.workouts[index], ...). */
  index: number;
  /** Absolute byte offset of the element's first byte in the (decompressed) input stream. */
  offset: number;
  /** The element's JSON text (utf-8 decoded), exactly as in the input. */
  text: string;
}

export interface ScanStats {
  /** Bytes consumed so far (after the scan: the input's size). */
  bytes: number;
  /** Skipped keys: keys under `data` whose value is not an array ("data.foo"), root keys other than `data`. */
  unknownKeys: string[];
}

export function slicePath(s: RecordSlice): string {
  if (s.metricIndex !== undefined) return `data.metrics[${s.metricIndex}].data[${s.index}]`;
  return `data.${s.section}[${s.index}]`;
}

// ---------------------------------------------------------------------------------------------
// Envelope levels: 0 document, 1 root object, 2 `data` object, 3 section array,
// 4 metric object (data.metrics[i]), 5 metric data array (data.metrics[i].data).
// Records are never levels: inside a record only depth/strings are tracked.

// States of the current level.
const OBJ_FIRST = 0; // after '{': key or '}'
const OBJ_KEY = 1; // after ',': key
const OBJ_COLON = 2; // after key: ':'
const OBJ_VALUE = 3; // after ':': value
const OBJ_NEXT = 4; // after value: ',' or '}'
const ARR_FIRST = 5; // after '[': value or ']'
const ARR_VALUE = 6; // after ',': value
const ARR_NEXT = 7; // after value: ',' or ']'
const DOC_START = 8; // before the root value (BOM, whitespace)
const DOC_END = 9; // after the root value: whitespace only

// Kind of the value being scanned (vm).
const VM_NONE = 0;
const VM_COMPOSITE = 1; // object or array: depth tracking
const VM_STRING = 2;
const VM_SCALAR = 3; // number / true / false / null: ends at a delimiter

// What to do with the value once its end is found.
const P_SLICE = 0; // emit as a RecordSlice
const P_SKIP = 1; // skip (unknown keys, ignored metric keys)
const P_KEY = 2; // object key at an envelope level
const P_NAME = 3; // metric "name"
const P_UNITS = 4; // metric "units"

/** 1 for bytes that end a scalar: whitespace , : [ ] { } " */
const SCALAR_END = new Uint8Array(256);
for (const ch of ' \t\r\n,:[]{}"') SCALAR_END[ch.charCodeAt(0)] = 1;

/** Nesting limit inside one element (real records nest 2-4 deep): keeps the bracket stack bounded. */
const MAX_DEPTH = 65536;

const LITERAL = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;

/**
 * Decode UTF-8. Buffer#utf8Slice (what toString('utf8') ends in, minus argument handling) measured
 * ~5% faster over a whole scan; invalid sequences become U+FFFD either way.
 */
const fastUtf8 = typeof (Buffer.prototype as { utf8Slice?: unknown }).utf8Slice === 'function';
function utf8(buf: Buffer, start: number, end: number): string {
  return fastUtf8
    ? (buf as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, end)
    : buf.toString('utf8', start, end);
}

function describeByte(c: number): string {
  if (c >= 0x21 && c <= 0x7e) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

class Scanner {
  readonly batchSize: number;
  readonly stats: ScanStats | undefined;
  private readonly unknownSeen = new Set<string>();

  batch: RecordSlice[] = [];
  /** Text length of the slices in `batch` (UTF-16 units, ~bytes). */
  private batchBytes = 0;
  ready: RecordSlice[][] = [];

  /** Current chunk, absolute offset of its first byte, scan position (may be length + 1 after an escape). */
  buf: Buffer = Buffer.alloc(0);
  base = 0;
  pos = 0;

  private level = 0;
  private st = DOC_START;
  private bom = 0;
  private sawData = false;

  // Keys: the key being processed at levels 1, 2 and 4.
  private rootKey = '';
  private section = '';
  private metricKey = '';

  // Level 3.
  private isMetrics = false;
  private sectionIndex = 0;

  // Level 4/5.
  private metricIndex = 0;
  private mName: string | undefined = undefined;
  private mUnits: string | undefined = undefined;
  private mSawName = false;
  private mSawUnits = false;
  /**
   * Set when a metric object's "data" comes before its "name"/"units" (or it has none): its
   * slices are held until the metric object closes, so memory grows with that one metric.
   */
  private mHold = false;
  private held: RecordSlice[] = [];
  private mdIndex = 0;

  // The value being scanned.
  private vm = VM_NONE;
  private purpose = P_SLICE;
  /** Start of the value in the current chunk (0 once it spans chunks; earlier text is in `head`). */
  private vStart = 0;
  private vStartAbs = 0;
  /**
   * The value's bytes in earlier chunks, copied as each chunk ends so that no chunk is retained,
   * and decoded once, with the rest, when the value ends. Decoded piece by piece and joined, a
   * multi-MB workout became a rope that JSON.parse copied flat again into fresh pages: 5 % of
   * the CPU samples of a 210 MB dry run (perf, 2026-12-01); page faults 114k -> 96k without it.
   */
  private head: Buffer[] = [];
  private headBytes = 0;
  private depth = 0;
  private stk = new Uint8Array(64);
  private inStr = false;
  private sawEscape = false;

  readonly maxBatchBytes: number;
  /** Longest single value kept whole, in bytes; Infinity: no limit. */
  maxElementBytes = Infinity;

  constructor(batchSize: number, maxBatchBytes: number, stats: ScanStats | undefined) {
    this.batchSize = batchSize;
    this.maxBatchBytes = maxBatchBytes;
    this.stats = stats;
  }

  setChunk(chunk: Buffer | Uint8Array | string): void {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : typeof chunk === 'string' // a stream with setEncoding(): tolerated, offsets count its UTF-8 bytes
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // pos - previous length is 0, or 1 when the previous chunk ended with a backslash in a string.
    this.pos -= this.buf.length;
    this.base += this.buf.length;
    this.buf = buf;
  }

  /** Keep the unfinished part of the current value when the chunk is done. */
  endChunk(): void {
    const buf = this.buf;
    if (this.vm !== VM_NONE && (this.purpose !== P_SKIP || this.vm === VM_SCALAR)) {
      const piece = Buffer.from(buf.subarray(this.vStart, buf.length));
      this.head.push(piece);
      this.headBytes += piece.length;
      this.vStart = 0;
      if (this.headBytes > this.maxElementBytes) {
        // Memory stays bounded by configuration (serve), whatever a body expands to.
        throw new InputError(`an element starting at byte ${this.vStartAbs} is larger than the limit of ${this.maxElementBytes} bytes`, {
          offset: this.vStartAbs,
        });
      }
    }
    if (this.stats) this.stats.bytes = this.base + buf.length;
  }

  /** Scan the current chunk until it is exhausted or a batch is ready. Throws InputError. */
  run(): void {
    const buf = this.buf;
    const n = buf.length;
    let i = this.pos;
    while (i < n) {
      if (this.vm !== VM_NONE) {
        let end: number;
        if (this.vm === VM_COMPOSITE) end = this.scanComposite(buf, i, n);
        else if (this.vm === VM_STRING) end = this.scanString(buf, i, n);
        else end = this.scanScalar(buf, i, n);
        if (end < 0) return; // chunk exhausted, this.pos set
        i = end;
        this.finishValue(end);
        if (this.ready.length !== 0) break;
        continue;
      }
      const c = buf[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        i++;
        continue;
      }
      switch (this.st) {
        case OBJ_NEXT:
          if (c === 0x2c) this.st = OBJ_KEY;
          else if (c === 0x7d) this.closeObject(i);
          else this.unexpected(c, i, "',' or '}'");
          i++;
          break;
        case ARR_NEXT:
          if (c === 0x2c) this.st = ARR_VALUE;
          else if (c === 0x5d) this.closeArray();
          else this.unexpected(c, i, "',' or ']'");
          i++;
          break;
        case ARR_FIRST:
          if (c === 0x5d) {
            this.closeArray();
            i++;
            break;
          }
        // falls through
        case ARR_VALUE:
        case OBJ_VALUE:
          i = this.beginValue(c, i);
          break;
        case OBJ_FIRST:
          if (c === 0x7d) {
            this.closeObject(i);
            i++;
            break;
          }
        // falls through
        case OBJ_KEY:
          if (c !== 0x22) this.unexpected(c, i, 'a string key');
          this.startValue(VM_STRING, P_KEY, i);
          i++;
          break;
        case OBJ_COLON:
          if (c !== 0x3a) this.unexpected(c, i, "':'");
          this.st = OBJ_VALUE;
          i++;
          break;
        case DOC_START:
          i = this.docStart(c, i);
          break;
        default: // DOC_END
          throw new InputError(`unexpected ${describeByte(c)} at byte ${this.base + i} after the end of the root object`, { offset: this.base + i });
      }
      if (this.ready.length !== 0) break;
    }
    this.pos = i;
  }

  /** End of input: everything must be closed. */
  finish(): void {
    const end = this.base + this.buf.length;
    if (this.stats) this.stats.bytes = end;
    if (this.st === DOC_END) return;
    if (this.st === DOC_START) {
      throw new InputError(
        `not a Health Auto Export file: expected '{' at byte ${end}, found end of input` +
          (end === 0 ? ' (empty input)' : ''),
        { offset: end },
      );
    }
    let msg = `unexpected end of input at byte ${end} inside ${this.where(this.inValue())}`;
    if (this.vm !== VM_NONE && this.purpose === P_SLICE) msg += ` (its element starting at byte ${this.vStartAbs} is incomplete)`;
    if (this.level >= 4 && this.mHold && this.held.length > 0) {
      msg += `; ${this.held.length} complete records of data.metrics[${this.metricIndex}] were not emitted because its name/units were not read yet`;
    }
    throw new InputError(msg, { offset: end });
  }

  // -------------------------------------------------------------------------------------------

  private docStart(c: number, i: number): number {
    const abs = this.base + i;
    // UTF-8 BOM at the very start (possibly split across chunks).
    if (abs === this.bom && c === [0xef, 0xbb, 0xbf][this.bom]) {
      this.bom++;
      return i + 1;
    }
    if (this.bom === 0 || this.bom === 3) {
      if (c === 0x7b) {
        this.level = 1;
        this.st = OBJ_FIRST;
        return i + 1;
      }
    }
    let hint = '';
    if (c === 0x5b) hint = ' (a JSON array, not an export object)';
    else if (c === 0x1f) hint = ' (gzip-compressed? decompress first)';
    else if (c === 0x50 && abs === 0) hint = ' (a zip archive? extract first)';
    throw new InputError(
      `not a Health Auto Export file: expected '{' at byte ${abs}, found ${describeByte(c)}${hint}`,
      { offset: abs },
    );
  }

  /** A value starts with byte c at index i in an array or after a key: decide what it is. */
  private beginValue(c: number, i: number): number {
    switch (this.level) {
      case 1:
        if (this.rootKey === 'data') {
          if (c !== 0x7b) {
            throw this.error(`not a Health Auto Export file: "data" is not an object (found ${describeByte(c)})`, this.base + i);
          }
          this.sawData = true;
          this.level = 2;
          this.st = OBJ_FIRST;
          return i + 1;
        }
        this.addUnknown(this.rootKey);
        break;
      case 2:
        if (c === 0x5b) {
          this.isMetrics = this.section === 'metrics';
          this.sectionIndex = 0;
          this.level = 3;
          this.st = ARR_FIRST;
          return i + 1;
        }
        this.addUnknown('data.' + this.section);
        break;
      case 3:
        if (!this.isMetrics) {
          this.startValue(this.kindOf(c, i), P_SLICE, i);
          return this.vm === VM_COMPOSITE ? i : i + 1;
        }
        if (c !== 0x7b) this.unexpected(c, i, 'a metric object');
        this.metricIndex = this.sectionIndex;
        this.mName = undefined;
        this.mUnits = undefined;
        this.mSawName = false;
        this.mSawUnits = false;
        this.mHold = false;
        this.level = 4;
        this.st = OBJ_FIRST;
        return i + 1;
      case 4: {
        const key = this.metricKey;
        if (key === 'data') {
          if (c === 0x5b) {
            this.mHold = !(this.mSawName && this.mSawUnits);
            this.mdIndex = 0;
            this.level = 5;
            this.st = ARR_FIRST;
            return i + 1;
          }
        } else if (key === 'name') {
          this.mSawName = true;
          if (c === 0x22) {
            this.startValue(VM_STRING, P_NAME, i);
            return i + 1;
          }
        } else if (key === 'units') {
          this.mSawUnits = true;
          if (c === 0x22) {
            this.startValue(VM_STRING, P_UNITS, i);
            return i + 1;
          }
        }
        break;
      }
      default: // 5
        this.startValue(this.kindOf(c, i), P_SLICE, i);
        return this.vm === VM_COMPOSITE ? i : i + 1;
    }
    // Skip the value.
    this.startValue(this.kindOf(c, i), P_SKIP, i);
    return this.vm === VM_COMPOSITE ? i : i + 1;
  }

  private kindOf(c: number, i: number): number {
    if (c === 0x7b || c === 0x5b) return VM_COMPOSITE;
    if (c === 0x22) return VM_STRING;
    if (SCALAR_END[c] === 1) this.unexpected(c, i, 'a value');
    return VM_SCALAR;
  }

  /** Composite values are scanned from their opening bracket; strings/scalars from the next byte. */
  private startValue(vm: number, purpose: number, i: number): void {
    this.vm = vm;
    this.purpose = purpose;
    this.vStart = i;
    this.vStartAbs = this.base + i;
    this.depth = 0;
    this.inStr = false;
    this.sawEscape = false;
  }

  /**
   * Object or array: returns the index after its closing bracket, or -1 when the chunk ends first
   * (state saved, this.pos set). The hot loop of the whole importer.
   */
  private scanComposite(buf: Buffer, i: number, n: number): number {
    let d = this.depth;
    let stk = this.stk;
    if (this.inStr) {
      // Resume inside a string.
      for (;;) {
        if (i >= n) {
          this.pos = i;
          return -1;
        }
        const b = buf[i++];
        if (b === 0x22) break;
        if (b === 0x5c) i++;
      }
      this.inStr = false;
    }
    while (i < n) {
      const c = buf[i++];
      if (c < 0x5b) {
        // digits, punctuation, upper case: only '"' matters
        if (c !== 0x22) continue;
        for (;;) {
          if (i >= n) {
            this.inStr = true;
            this.depth = d;
            this.pos = i; // n, or n + 1 when the escaped byte is the next chunk's first
            return -1;
          }
          const b = buf[i++];
          if (b === 0x22) break;
          if (b === 0x5c) i++;
        }
      } else if (c === 0x7b || c === 0x5b) {
        if (d === stk.length) {
          if (d >= MAX_DEPTH) throw this.error(`nesting deeper than ${MAX_DEPTH}`, this.base + i - 1);
          const bigger = new Uint8Array(stk.length * 2);
          bigger.set(stk);
          this.stk = stk = bigger;
        }
        stk[d++] = c;
      } else if (c === 0x7d || c === 0x5d) {
        // '}' - 2 === '{', ']' - 2 === '['
        if (stk[--d] !== c - 2) {
          this.depth = d + 1;
          throw this.error(`mismatched ${describeByte(c)}`, this.base + i - 1);
        }
        if (d === 0) {
          this.depth = 0;
          return i;
        }
      }
    }
    this.depth = d;
    this.pos = i;
    return -1;
  }

  /** String value (after its opening quote): index after the closing quote, or -1. */
  private scanString(buf: Buffer, i: number, n: number): number {
    for (;;) {
      if (i >= n) {
        this.pos = i;
        return -1;
      }
      const b = buf[i++];
      if (b === 0x22) return i;
      if (b === 0x5c) {
        this.sawEscape = true;
        i++;
      }
    }
  }

  /** Number/literal: index of the delimiter that ends it (not consumed), or -1. */
  private scanScalar(buf: Buffer, i: number, n: number): number {
    while (i < n) {
      if (SCALAR_END[buf[i]] === 1) return i;
      i++;
    }
    this.pos = i;
    return -1;
  }

  private takeText(end: number): string {
    const buf = this.buf;
    if (this.head.length === 0) return utf8(buf, this.vStart, end);
    this.head.push(buf.subarray(0, end));
    const whole = Buffer.concat(this.head, this.headBytes + end);
    this.head = [];
    this.headBytes = 0;
    return utf8(whole, 0, whole.length);
  }

  private takeString(end: number): string {
    const text = this.takeText(end);
    if (!this.sawEscape) return text.slice(1, -1);
    try {
      return JSON.parse(text) as string;
    } catch {
      throw this.error(`invalid string ${JSON.stringify(text.slice(0, 60))}`, this.vStartAbs);
    }
  }

  /** The value being scanned ends at `end` (exclusive). */
  private finishValue(end: number): void {
    const vm = this.vm;
    this.vm = VM_NONE;
    switch (this.purpose) {
      case P_SLICE: {
        const text = this.takeText(end);
        if (this.level === 5) {
          const s: RecordSlice = {
            section: 'metrics',
            metricName: this.mName ?? '',
            metricUnits: this.mUnits,
            metricIndex: this.metricIndex,
            index: this.mdIndex++,
            offset: this.vStartAbs,
            text,
          };
          if (this.mHold) this.held.push(s);
          else this.emit(s);
        } else {
          this.emit({ section: this.section, index: this.sectionIndex++, offset: this.vStartAbs, text });
        }
        this.st = ARR_NEXT;
        return;
      }
      case P_SKIP:
        if (vm === VM_SCALAR) {
          const lit = this.takeText(end);
          if (!LITERAL.test(lit)) throw this.error(`invalid value ${JSON.stringify(lit.slice(0, 40))}`, this.vStartAbs);
        }
        break;
      case P_KEY: {
        const key = this.takeString(end);
        if (this.level === 1) this.rootKey = key;
        else if (this.level === 2) this.section = key;
        else this.metricKey = key;
        this.st = OBJ_COLON;
        return;
      }
      case P_NAME:
        this.mName = this.takeString(end);
        break;
      default: // P_UNITS
        this.mUnits = this.takeString(end);
        break;
    }
    // Skipped values are in objects (levels 1, 2, 4): those are the only places values are skipped.
    this.st = OBJ_NEXT;
  }

  private emit(s: RecordSlice): void {
    this.batch.push(s);
    this.batchBytes += s.text.length;
    if (this.batch.length >= this.batchSize || this.batchBytes >= this.maxBatchBytes) {
      this.ready.push(this.batch);
      this.batch = [];
      this.batchBytes = 0;
    }
  }

  private closeObject(i: number): void {
    switch (this.level) {
      case 1:
        if (!this.sawData) throw new InputError('not a Health Auto Export file: no "data" object', { offset: this.base + i });
        this.level = 0;
        this.st = DOC_END;
        return;
      case 2:
        this.level = 1;
        this.st = OBJ_NEXT;
        return;
      default: // 4: a metric object closes
        if (this.held.length !== 0) {
          const name = this.mName ?? '';
          for (const s of this.held) {
            s.metricName = name;
            s.metricUnits = this.mUnits;
            this.emit(s);
          }
          this.held = [];
        }
        this.mHold = false;
        this.sectionIndex++;
        this.level = 3;
        this.st = ARR_NEXT;
    }
  }

  private closeArray(): void {
    if (this.level === 3) {
      this.level = 2;
      this.st = OBJ_NEXT;
    } else {
      this.level = 4;
      this.st = OBJ_NEXT;
    }
  }

  private addUnknown(key: string): void {
    if (this.unknownSeen.has(key)) return;
    this.unknownSeen.add(key);
    this.stats?.unknownKeys.push(key);
  }

  /** JSON path of the current position; `inValue`: inside the value of the current key/element. */
  private where(inValue: boolean): string {
    switch (this.level) {
      case 0:
        return 'the document';
      case 1:
        return inValue ? this.rootKey : 'the root object';
      case 2:
        return inValue ? `data.${this.section}` : 'data';
      case 3:
        return inValue ? `data.${this.section}[${this.sectionIndex}]` : `data.${this.section}`;
      case 4:
        return inValue ? `data.metrics[${this.metricIndex}].${this.metricKey}` : `data.metrics[${this.metricIndex}]`;
      default:
        return inValue ? `data.metrics[${this.metricIndex}].data[${this.mdIndex}]` : `data.metrics[${this.metricIndex}].data`;
    }
  }

  /** Inside the value of the current key (or array element), rather than between members. */
  private inValue(): boolean {
    return (this.vm !== VM_NONE && this.purpose !== P_KEY) || this.st === OBJ_COLON || this.st === OBJ_VALUE;
  }

  private error(what: string, offset: number): InputError {
    return new InputError(`${what} at byte ${offset} inside ${this.where(this.inValue())}`, { offset });
  }

  private unexpected(c: number, i: number, expected: string): never {
    throw this.error(`expected ${expected}, found ${describeByte(c)}`, this.base + i);
  }
}

/**
 * Scan an HAE export and yield its records as slices, at most `batchSize` (default 500) and
 * about `batchBytes` (default 256 KiB of text) per batch. Small batches because the import
 * hands node's event loop to PostgreSQL's replies between them (import/run-import.ts): with
 * 2000 slices / 1 MiB a batch kept it busy up to 60 ms (p99), and COPYs waited meanwhile.
 * Complete slices before an error are always yielded before the error is thrown (InputError,
 * or the input's own error, e.g. a truncated gzip stream).
 */
export async function* scanHae(
  input: AsyncIterable<Buffer | Uint8Array>,
  opts: {
    /** Most slices per yielded batch (default 500). */
    batchSize?: number;
    /**
     * A batch is also cut once its slices' text reaches this length (UTF-16 units, ~bytes;
     * default 256 Ki), so batches of multi-MB workouts (GPS routes) stay small: measured on the
     * 205 MB bench file, 4 Mi raised peak RSS from ~131 to ~171 MB at the same speed.
     */
    batchBytes?: number;
    stats?: ScanStats;
    /** Longest single element (a datapoint, a workout) kept whole; over it: InputError. Default none. */
    maxElementBytes?: number;
  } = {},
): AsyncGenerator<RecordSlice[]> {
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 500));
  const sc = new Scanner(batchSize, Math.max(1, opts.batchBytes ?? 1 << 18), opts.stats);
  if (opts.maxElementBytes) sc.maxElementBytes = opts.maxElementBytes;
  let failure: unknown;
  let failed = false;
  try {
    for await (const chunk of input) {
      sc.setChunk(chunk);
      for (;;) {
        sc.run();
        if (sc.ready.length !== 0) {
          const ready = sc.ready;
          sc.ready = [];
          for (const b of ready) yield b;
        }
        if (sc.pos >= sc.buf.length) break;
      }
      sc.endChunk();
    }
    sc.finish();
  } catch (e) {
    failed = true;
    failure = e;
  }
  for (const b of sc.ready) yield b;
  if (sc.batch.length !== 0) yield sc.batch;
  sc.ready = [];
  sc.batch = [];
  if (failed) throw failure;
}
