import { describe, expect, it } from 'vitest';
import { COPY_SIGNATURE, COPY_TRAILER, RowRefused, RowWriter, fieldOffsets, fieldText, uuidField } from '../../src/db/copy-binary.js';

function oneRow(write: (w: RowWriter) => void, fields: number): Buffer {
  const w = new RowWriter();
  w.begin(fields);
  write(w);
  w.end();
  return w.chunks[w.lastChunk].subarray(w.lastStart, w.lastEnd);
}

describe('binary COPY rows', () => {
  it('encode each type as PostgreSQL sends it, and read back as COPY text', () => {
    const at = Date.UTC(2024, 0, 10, 12, 30, 15, 250);
    const row = oneRow((w) => {
      w.int8(42);
      w.timestamptz(at);
      w.text('Jane’s Watch\t1 😀 \ud800');
      w.float4(72.3);
      w.float8(0.1);
      w.int2(2);
      w.int4(-7);
      w.bool(true);
      w.jsonb({ a: 1 });
      w.null();
      w.raw(uuidField('0b9f6f1e-3c0a-4d47-9a51-6c2b0f1d2e3f'));
    }, 11);
    expect(row.readInt16BE(0)).toBe(11);
    const off = fieldOffsets(row, 0);
    expect(off).toHaveLength(12);
    expect(off[11]).toBe(row.length);
    const types = ['int8', 'timestamptz', 'text', 'float4', 'float8', 'int2', 'int4', 'bool', 'jsonb', 'text', 'uuid'] as const;
    expect(types.map((t, i) => fieldText(row, off[i], t))).toEqual([
      '42', '2024-01-10T12:30:15.250Z', 'Jane’s Watch\t1 😀 \ufffd', '72.3', '0.1', '2', '-7', 't', '{"a":1}', '\\N',
      '0b9f6f1e-3c0a-4d47-9a51-6c2b0f1d2e3f',
    ]);
    // timestamptz: microseconds since 2000-01-01 UTC as a big-endian int64
    expect(row.readBigInt64BE(off[1] + 4)).toBe(BigInt(at - Date.UTC(2000, 0, 1)) * 1000n);
  });

  it('refuse what text input would refuse instead of storing something else', () => {
    const w = new RowWriter();
    w.begin(1);
    expect(() => w.float4(1e39)).toThrow(RowRefused);
    expect(() => w.int2(40_000)).toThrow(RowRefused);
    expect(() => w.int4(1.5)).toThrow(RowRefused);
    expect(() => w.float4(Infinity)).not.toThrow();
  });

  it('keep a row in one chunk when it outgrows the current one', () => {
    const w = new RowWriter();
    const big = 'x'.repeat(200_000);
    const ends: { chunk: number; start: number; end: number }[] = [];
    for (let i = 0; i < 3; i++) {
      w.begin(1);
      w.text(big);
      w.end();
      ends.push({ chunk: w.lastChunk, start: w.lastStart, end: w.lastEnd });
    }
    for (const r of ends) {
      const b = w.chunks[r.chunk];
      expect(r.end - r.start).toBe(2 + 4 + big.length);
      expect(fieldText(b, r.start + 2, 'text')).toBe(big);
    }
  });

  it('copyData: every ended row once, in order, across chunks, without an abandoned one', () => {
    const w = new RowWriter();
    const n = 40_000; // ~1.3 MB: several 256 kB chunks, rows moved on at each chunk's end
    for (let i = 0; i < n; i++) {
      w.begin(2);
      w.int4(i);
      w.text(`row ${i} ${'x'.repeat(i % 17)}`);
      if (i === 7) {
        w.abandon();
        continue;
      }
      w.end();
    }
    const all = Buffer.concat([...w.copyData()]);
    expect(all.subarray(0, COPY_SIGNATURE.length)).toEqual(COPY_SIGNATURE);
    expect(all.subarray(all.length - 2)).toEqual(COPY_TRAILER);
    const seen: number[] = [];
    let at = COPY_SIGNATURE.length;
    while (at < all.length - 2) {
      const off = fieldOffsets(all, at);
      seen.push(Number(fieldText(all, off[0], 'int4')));
      expect(fieldText(all, off[1], 'text')).toMatch(/^row \d+ x*$/);
      at = off[2];
    }
    expect(seen).toEqual([...Array(n).keys()].filter((i) => i !== 7));
    expect(w.chunks.length).toBeGreaterThan(3);
  });
});
