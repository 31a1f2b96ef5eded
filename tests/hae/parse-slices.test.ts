import { describe, it, expect } from 'vitest';
import { parseSlices } from '../../src/hae/parse-slices.js';
import { scanHae, type RecordSlice } from '../../src/hae/scanner.js';

function slices(texts: string[]): RecordSlice[] {
  let offset = 0;
  return texts.map((text, index) => {
    const s: RecordSlice = { section: 'workouts', index, offset, text };
    offset += Buffer.byteLength(text) + 1;
    return s;
  });
}

describe('parseSlices', () => {
  it('parses every slice, in order, keeping the slice', () => {
    const values: unknown[] = [
      { date: '2024-01-15 08:30:00 -0800', Min: 61, Avg: 63.5, Max: 66, source: 'Jane’s Apple Watch' },
      [1, 2, { a: null }],
      'text with "quotes" and \\ and }]',
      -1.5e-7,
      true,
      null,
      { route: Array.from({ length: 50 }, (_, k) => ({ lat: k / 3, lon: -122 - k })) },
    ];
    const input = slices(values.map((v) => JSON.stringify(v)));
    const out = parseSlices(input);
    expect(out.map((p) => p.value)).toEqual(values);
    expect(out.every((p) => p.error === undefined)).toBe(true);
    out.forEach((p, i) => expect(p.slice).toBe(input[i]));
  });

  it('returns [] for an empty batch', () => {
    expect(parseSlices([])).toEqual([]);
  });

  it('marks only the broken slices, with a one-line error', () => {
    const texts = ['{"qty":1}', '{"date": "x", "qty": }', '{"qty":3}', '{\n"a":\n}', 'tru', '{"qty":6}'];
    const out = parseSlices(slices(texts));
    expect(out.map((p) => p.error === undefined)).toEqual([true, false, true, false, false, true]);
    expect(out.map((p) => p.value)).toEqual([{ qty: 1 }, undefined, { qty: 3 }, undefined, undefined, { qty: 6 }]);
    for (const p of out.filter((q) => q.error !== undefined)) {
      expect(p.error).toMatch(/^invalid JSON: /);
      expect(p.error).not.toMatch(/[\r\n]/);
      expect(p.error!.length).toBeLessThanOrEqual(250);
    }
  });

  it('cannot be fooled by slices that would only be valid JSON together', () => {
    // joined with ',' inside '[...]' these would form valid JSON of a different length
    const out = parseSlices(slices(['{"a":1', '"b":2}', '1,2', '3']));
    expect(out.map((p) => p.error === undefined)).toEqual([false, false, false, true]);
    expect(out[3].value).toBe(3);
    const pair = parseSlices(slices(['[1', '2]']));
    expect(pair.every((p) => p.error !== undefined)).toBe(true);
  });

  it('loads the records around a broken one, end to end with the scanner', async () => {
    const good = Array.from({ length: 5 }, (_, i) => ({ date: `2024-01-15 08:3${i}:00 -0800`, qty: i, source: 'Jane’s iPhone' }));
    const parts = good.map((g) => JSON.stringify(g));
    parts.splice(2, 0, '{"date": "2024-01-15 08:40:00 -0800", "qty": , "x": [1, "]"]}');
    const doc = Buffer.from(`{"data":{"metrics":[{"name":"step_count","units":"count","data":[${parts.join(',')}]}]}}`);
    const parsed = [];
    async function* input(): AsyncGenerator<Buffer> {
      yield doc.subarray(0, 77);
      yield doc.subarray(77);
    }
    for await (const batch of scanHae(input(), { batchSize: 2 })) parsed.push(...parseSlices(batch));
    expect(parsed.map((p) => p.slice.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(parsed.filter((p) => p.error !== undefined).map((p) => p.slice.index)).toEqual([2]);
    expect(parsed.filter((p) => p.error === undefined).map((p) => p.value)).toEqual(good);
  });
});
