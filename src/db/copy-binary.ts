/**
 * Rows in PostgreSQL's binary COPY format, written straight into large Buffers.
 *
 * Why binary: PostgreSQL then parses no text (timestamps and numbers arrive as their bytes;
 * measured 12-25 % less server CPU than CSV for the same rows, see /work/shared/perf-facts.md),
 * and node builds no per-row strings: rows live outside the JS heap until their COPY, so the
 * garbage collector no longer copies hundreds of thousands of buffered lines around.
 *
 * Format (per the PostgreSQL docs, "COPY ... Binary Format"): an 11-byte signature, flags and
 * header-extension length (int32 0 each); per row an int16 field count, then per field an int32
 * byte length (-1 for NULL) and the value in the type's binary send format; an int16 -1 ends it.
 */

export const COPY_SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix ms. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
/** The largest finite float4; beyond it a real column would store Infinity. */
const FLOAT4_MAX = 3.4028234663852886e38;
const CHUNK = 1 << 18;

/** Buffer#utf8Write (what write(s, offset, 'utf8') ends in, minus argument handling). */
type Utf8Writable = Buffer & { utf8Write(s: string, offset: number): number };
const utf8Write: (buf: Buffer, s: string, at: number) => number =
  typeof (Buffer.prototype as Partial<Utf8Writable>).utf8Write === 'function'
    ? (buf, s, at) => (buf as Utf8Writable).utf8Write(s, at)
    : (buf, s, at) => buf.write(s, at, 'utf8');

/** A value this table cannot store (checked here because binary input would not refuse it). */
export class RowRefused extends Error {}

/** Column types the tables use, named as in the schema. */
export type ColumnType = 'int8' | 'int4' | 'int2' | 'float4' | 'float8' | 'bool' | 'text' | 'jsonb' | 'timestamptz' | 'uuid' | 'geometry';

/** Scratch for float conversion: the bytes of a float are read back in big-endian order. */
const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
/** Typed arrays hold numbers in this machine's byte order. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Strings shorter than this are UTF-8 encoded in JS: cheaper than a call into C++ for them. */
const SHORT_STRING = 48;

/**
 * Appends rows to a list of chunks. A row never spans chunks, so every row is one contiguous
 * byte range (`lastChunk`, `lastStart`, `lastEnd` after `end()`) that a COPY can send as is.
 * Bytes are written one by one: Buffer#writeInt32BE and friends check their arguments on every
 * call, which cost more than the write (measured on 1 M heart-rate rows).
 */
export class RowWriter {
  readonly chunks: Buffer[] = [];
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private rowStart = 0;
  /** Where each full chunk's rows end (a row moved on leaves unused bytes behind). */
  private readonly chunkEnds: number[] = [];
  lastChunk = 0;
  lastStart = 0;
  lastEnd = 0;

  constructor() {
    this.chunks.push(this.buf);
  }

  /** Bytes written so far (all chunks). */
  get bytes(): number {
    let n = this.pos;
    for (let i = 0; i < this.chunks.length - 1; i++) n += this.chunks[i].length;
    return n;
  }

  begin(fieldCount: number): void {
    this.rowStart = this.pos;
    this.room(2);
    this.buf[this.pos] = fieldCount >> 8;
    this.buf[this.pos + 1] = fieldCount & 255;
    this.pos += 2;
  }

  /** Ends the row: it lies in chunks[lastChunk] from lastStart to lastEnd. */
  end(): void {
    this.lastChunk = this.chunks.length - 1;
    this.lastStart = this.rowStart;
    this.lastEnd = this.pos;
  }

  /** Every row ended so far, as a COPY FROM STDIN (FORMAT binary) body: signature, rows, trailer. */
  *copyData(): Generator<Buffer> {
    yield COPY_SIGNATURE;
    for (let i = 0; i < this.chunks.length; i++) {
      const end = i < this.chunkEnds.length ? this.chunkEnds[i] : this.lastChunk === i ? this.lastEnd : 0;
      if (end > 0) yield this.chunks[i].subarray(0, end);
    }
    yield COPY_TRAILER;
  }

  /** Forgets the row begun last (a value was refused). */
  abandon(): void {
    this.pos = this.rowStart;
  }

  /** Makes room for `n` more bytes of the current row, moving the row to a new chunk if needed. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const partial = this.pos - this.rowStart;
    const next = Buffer.allocUnsafe(Math.max(CHUNK, 2 * (partial + n)));
    this.buf.copy(next, 0, this.rowStart, this.pos);
    this.chunkEnds.push(this.rowStart);
    this.buf = next;
    this.chunks.push(next);
    this.rowStart = 0;
    this.pos = partial;
  }

  private int32At(v: number, p: number): void {
    const b = this.buf;
    b[p] = v >>> 24;
    b[p + 1] = (v >>> 16) & 255;
    b[p + 2] = (v >>> 8) & 255;
    b[p + 3] = v & 255;
  }

  /** The length word of a fixed-size field (its first three bytes are 0). */
  private length(n: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = 0;
    b[p + 1] = 0;
    b[p + 2] = 0;
    b[p + 3] = n;
  }

  null(): void {
    this.room(4);
    this.int32At(-1, this.pos);
    this.pos += 4;
  }

  int8(v: number): void {
    this.room(12);
    this.length(8);
    const hi = Math.floor(v / TWO_32);
    this.int32At(hi, this.pos + 4);
    this.int32At(v - hi * TWO_32, this.pos + 8);
    this.pos += 12;
  }

  int4(v: number | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new RowRefused(`${v} is not a 4-byte integer`);
    this.room(8);
    this.length(4);
    this.int32At(v, this.pos + 4);
    this.pos += 8;
  }

  int2(v: number | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    if (!Number.isInteger(v) || v < -32768 || v > 32767) throw new RowRefused(`${v} is not a 2-byte integer`);
    this.room(6);
    this.length(2);
    this.buf[this.pos + 4] = (v >> 8) & 255;
    this.buf[this.pos + 5] = v & 255;
    this.pos += 6;
  }

  float4(v: number | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    if ((v > FLOAT4_MAX || v < -FLOAT4_MAX) && Number.isFinite(v)) throw new RowRefused(`${v} is out of range for type real`);
    this.room(8);
    this.length(4);
    f32[0] = v;
    const b = this.buf;
    const p = this.pos + 4;
    if (LITTLE_ENDIAN) {
      b[p] = f32b[3];
      b[p + 1] = f32b[2];
      b[p + 2] = f32b[1];
      b[p + 3] = f32b[0];
    } else for (let i = 0; i < 4; i++) b[p + i] = f32b[i];
    this.pos += 8;
  }

  float8(v: number | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    this.room(12);
    this.length(8);
    f64[0] = v;
    const b = this.buf;
    const p = this.pos + 4;
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) b[p + i] = f64b[7 - i];
    else for (let i = 0; i < 8; i++) b[p + i] = f64b[i];
    this.pos += 12;
  }

  bool(v: boolean): void {
    this.room(5);
    this.length(1);
    this.buf[this.pos + 4] = v ? 1 : 0;
    this.pos += 5;
  }

  /** UTF-8 of `s` at `p`; returns its byte length. Lone surrogates become U+FFFD, as Buffer does. */
  private utf8(s: string, p: number): number {
    if (s.length >= SHORT_STRING) return utf8Write(this.buf, s, p);
    const b = this.buf;
    const start = p;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 63);
      } else {
        if (c >= 0xd800 && c < 0xe000) {
          const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
          if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
            b[p++] = 0xf0 | (c >> 18);
            b[p++] = 0x80 | ((c >> 12) & 63);
            b[p++] = 0x80 | ((c >> 6) & 63);
            b[p++] = 0x80 | (c & 63);
            continue;
          }
          c = 0xfffd;
        }
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 63);
        b[p++] = 0x80 | (c & 63);
      }
    }
    return p - start;
  }

  text(v: string | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    this.room(4 + v.length * 3);
    const n = this.utf8(v, this.pos + 4);
    this.int32At(n, this.pos);
    this.pos += 4 + n;
  }

  /** A value already in its binary wire form (a PostGIS geometry as EWKB). */
  binary(v: Buffer | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    this.room(4 + v.length);
    this.int32At(v.length, this.pos);
    v.copy(this.buf, this.pos + 4);
    this.pos += 4 + v.length;
  }

  jsonb(v: unknown): void {
    if (v === null || v === undefined) return this.null();
    const s = JSON.stringify(v);
    this.room(5 + s.length * 3);
    this.buf[this.pos + 4] = 1; // jsonb binary format version
    const n = this.utf8(s, this.pos + 5);
    this.int32At(n + 1, this.pos);
    this.pos += 5 + n;
  }

  /** An instant in Unix ms as timestamptz (microseconds since 2000-01-01 UTC). */
  timestamptz(ms: number | null | undefined): void {
    if (ms === null || ms === undefined) return this.null();
    this.room(12);
    this.length(8);
    const us = Math.round((ms - PG_EPOCH_MS) * 1000);
    const hi = Math.floor(us / TWO_32);
    this.int32At(hi, this.pos + 4);
    this.int32At(us - hi * TWO_32, this.pos + 8);
    this.pos += 12;
  }

  /** Bytes written as they are (a field prepared once, e.g. the run's ingestion id). */
  raw(bytes: Buffer): void {
    this.room(bytes.length);
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < bytes.length; i++) b[p + i] = bytes[i];
    this.pos += bytes.length;
  }
}

/** A uuid field (length + 16 bytes), prepared once per run. */
export function uuidField(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a uuid: ${uuid}`);
  const b = Buffer.alloc(20);
  b.writeInt32BE(16, 0);
  b.write(hex, 4, 'hex');
  return b;
}

/** An int8 field prepared once (the user id leading every row). */
export function int8Field(v: number): Buffer {
  const w = new RowWriter();
  w.begin(0);
  w.int8(v);
  w.end();
  return Buffer.from(w.chunks[w.lastChunk].subarray(w.lastStart + 2, w.lastEnd));
}

/** Where each field of the row at `start` begins (its length word) and the row's end. */
export function fieldOffsets(buf: Buffer, start: number): number[] {
  const n = buf.readInt16BE(start);
  const out: number[] = [];
  let p = start + 2;
  for (let i = 0; i < n; i++) {
    out.push(p);
    const len = buf.readInt32BE(p);
    p += 4 + (len > 0 ? len : 0);
  }
  out.push(p);
  return out;
}

/** A text field's value; null when NULL. */
export function fieldString(buf: Buffer, at: number): string | null {
  const len = buf.readInt32BE(at);
  return len < 0 ? null : buf.toString('utf8', at + 4, at + 4 + len);
}

/** The big-endian int32 at `p` (no argument checks: callers read rows this module wrote). */
export function int32At(b: Buffer, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}

/** A numeric field's value as PostgreSQL holds it (float4 as its exact float value); null when NULL. */
export function fieldNumber(buf: Buffer, at: number, type: ColumnType): number | null {
  if (int32At(buf, at) < 0) return null;
  const v = at + 4;
  switch (type) {
    case 'float8':
      return buf.readDoubleBE(v);
    case 'float4':
      return buf.readFloatBE(v);
    case 'int8':
      return buf.readInt32BE(v) * TWO_32 + buf.readUInt32BE(v + 4);
    case 'int4':
      return buf.readInt32BE(v);
    case 'int2':
      return buf.readInt16BE(v);
    default:
      throw new Error(`copy-binary: a ${type} field is not a number`);
  }
}

/** A timestamptz field (never NULL where it is asked for) as epoch milliseconds. */
export function fieldEpochMs(buf: Buffer, at: number): number {
  const us = int32At(buf, at + 4) * TWO_32 + (int32At(buf, at + 8) >>> 0);
  return Math.floor(us / 1000) + PG_EPOCH_MS;
}

/** A field back in COPY text form, for messages (a refused row's raw text). */
export function fieldText(buf: Buffer, at: number, type: ColumnType): string {
  const len = buf.readInt32BE(at);
  if (len < 0) return '\\N';
  const v = at + 4;
  switch (type) {
    case 'int8':
    case 'int4':
    case 'int2':
    case 'float8':
      return String(fieldNumber(buf, at, type));
    case 'float4':
      return shortestFloat4(buf.readFloatBE(v));
    case 'bool':
      return buf[v] ? 't' : 'f';
    case 'timestamptz':
      return new Date(fieldEpochMs(buf, at)).toISOString();
    case 'uuid':
      return buf.toString('hex', v, v + 16).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
    case 'jsonb':
      return buf.toString('utf8', v + 1, v + len);
    case 'geometry':
      // Hex EWKB is also geometry's text input.
      return buf.toString('hex', v, v + len);
    default:
      return fieldString(buf, at) ?? '\\N';
  }
}

/** The shortest decimal that reads back as the same float4 (72.3, not 72.30000305175781). */
function shortestFloat4(f: number): string {
  for (let p = 1; p < 10; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(f);
}
