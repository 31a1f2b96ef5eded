import { describe, it, expect } from 'vitest';
import { scanHae, slicePath, type RecordSlice, type ScanStats } from '../../src/hae/scanner.js';
import { InputError } from '../../src/errors.js';
import { parseSlices } from '../../src/hae/parse-slices.js';

// ---------------------------------------------------------------------------------------------
// Helpers

type Doc = { data: Record<string, unknown> } & Record<string, unknown>;

async function* chunked(bytes: Buffer, size: number | number[]): AsyncGenerator<Buffer> {
  if (Array.isArray(size)) {
    // explicit cut points
    let prev = 0;
    for (const cut of [...size, bytes.length]) {
      yield bytes.subarray(prev, cut);
      prev = cut;
    }
    return;
  }
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, Math.min(bytes.length, i + size));
}

interface ScanResult {
  batches: RecordSlice[][];
  slices: RecordSlice[];
  error: unknown;
  stats: ScanStats;
}

async function scan(
  input: string | Buffer,
  opts: { chunk?: number | number[]; batchSize?: number; batchBytes?: number } = {},
): Promise<ScanResult> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const stats: ScanStats = { bytes: 0, unknownKeys: [] };
  const batches: RecordSlice[][] = [];
  let error: unknown;
  try {
    for await (const b of scanHae(chunked(bytes, opts.chunk ?? (bytes.length || 1)), {
      batchSize: opts.batchSize,
      batchBytes: opts.batchBytes,
      stats,
    })) {
      batches.push(b);
    }
  } catch (e) {
    error = e;
  }
  return { batches, slices: batches.flat(), error, stats };
}

/** What the scanner should find, derived from the JS object the document was built from. */
function oracle(doc: Doc): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const [key, val] of Object.entries(doc.data)) {
    if (!Array.isArray(val)) continue;
    if (key === 'metrics') {
      val.forEach((m: Record<string, unknown>, mi) => {
        const data = Array.isArray(m.data) ? m.data : [];
        data.forEach((r, j) =>
          out.push({
            section: 'metrics',
            metricName: typeof m.name === 'string' ? m.name : '',
            metricUnits: typeof m.units === 'string' ? m.units : undefined,
            metricIndex: mi,
            index: j,
            value: r,
          }),
        );
      });
    } else {
      val.forEach((r, j) => out.push({ section: key, index: j, value: r }));
    }
  }
  return out;
}

/** Slices without offset/text, with the parsed value: comparable with oracle(). */
function shape(slices: RecordSlice[]): Array<Record<string, unknown>> {
  return slices.map((s) => {
    const o: Record<string, unknown> = { section: s.section, index: s.index, value: JSON.parse(s.text) };
    if (s.section === 'metrics') {
      o.metricName = s.metricName;
      o.metricUnits = s.metricUnits;
      o.metricIndex = s.metricIndex;
    }
    return o;
  });
}

/** Every slice's offset points at its text in the input bytes. */
function expectOffsetsMatch(bytes: Buffer, slices: RecordSlice[]): void {
  for (const s of slices) {
    const len = Buffer.byteLength(s.text, 'utf8');
    expect(bytes.subarray(s.offset, s.offset + len).toString('utf8')).toBe(s.text);
  }
}

const hr = (i: number): Record<string, unknown> => ({
  date: `2024-01-15 08:${String(30 + i).padStart(2, '0')}:00 -0800`,
  Min: 60 + i,
  Avg: 63.5 + i,
  Max: 66 + i,
  source: 'Jane’s Apple Watch',
});

function fullDoc(): Doc {
  return {
    data: {
      metrics: [
        { name: 'heart_rate', units: 'count/min', data: [hr(0), hr(1), hr(2)] },
        { name: 'step_count', units: 'count', data: [{ date: '2024-01-15 08:30:00 -0800', qty: 123, source: 'iPhone|Watch' }] },
        { name: 'empty_metric', units: 'kg', data: [] },
        {
          name: 'sleep_analysis',
          units: 'hr',
          extra: { nested: [1, 2, { x: '}' }] },
          data: [{ startDate: 'a', endDate: 'b', qty: 0.5, value: 'Core', source: 'W' }],
        },
      ],
      workouts: [
        {
          name: 'Outdoor Run',
          start: '2024-01-15 07:00:00 -0800',
          end: '2024-01-15 08:00:00 -0800',
          duration: 3600,
          activeEnergy: { qty: 500, units: 'kcal' },
          route: Array.from({ length: 20 }, (_, k) => ({ lat: 37 + k / 1000, lon: -122, altitude: 10, timestamp: `t${k}` })),
        },
        {
          id: 'A1B2',
          name: 'Indoor Walk',
          location: 'Indoor',
          heartRateData: [{ date: 'd', Min: 1, Avg: 2, Max: 3, units: 'count/min', source: 's' }],
          metadata: {},
        },
      ],
      stateOfMind: [{ id: 's1', kind: 'momentaryEmotion', valence: 0.3, labels: ['Happy'] }],
      ecg: [{ classification: 'Sinus Rhythm', voltageMeasurements: [{ date: 1, voltage: -0.1, units: 'mV' }] }],
      symptoms: [{ name: 'Headache', start: 'x', end: 'y', severity: 'Mild' }],
      medications: [],
      cycleTracking: [{ date: 'd', flow: 'Light' }],
      heartRateNotifications: [{ start: 's', end: 'e', threshold: 120, heartRate: [{ hr: 130 }] }],
      brandNewSection: [1, 'two', null, true, { three: 3 }, [4]],
    },
  };
}

function expectFormatError(error: unknown): InputError {
  expect(error).toBeInstanceOf(InputError);
  const e = error as InputError;
  expect(e.message).not.toContain('\n');
  return e;
}

// ---------------------------------------------------------------------------------------------

describe('scanHae: structure', () => {
  it('emits one slice per record of every section shape, with metric name/units/index', async () => {
    const doc = fullDoc();
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), JSON.stringify(doc, null, '\t').replace(/\n/g, '\r\n')]) {
      const r = await scan(text);
      expect(r.error).toBeUndefined();
      expect(shape(r.slices)).toEqual(oracle(doc));
      expect(r.stats.bytes).toBe(Buffer.byteLength(text));
      expect(r.stats.unknownKeys).toEqual([]);
    }
  });

  it('keeps the element text exactly as written (whitespace inside a record included)', async () => {
    const rec = '{ "date" : "2024-01-15 08:30:00 -0800",\n   "qty":1.50e2 }';
    const text = `{"data":{"metrics":[{"name":"m","units":"u","data":[ ${rec} ]}]}}`;
    const r = await scan(text);
    expect(r.slices.map((s) => s.text)).toEqual([rec]);
    expect(r.slices[0].offset).toBe(text.indexOf(rec));
  });

  it('accepts a UTF-8 BOM, empty arrays, missing sections, and an empty data object', async () => {
    for (const text of ['\uFEFF{"data":{}}', '{"data":{"metrics":[],"workouts":[]}}', ' \n{ "data" : { } } \n']) {
      const r = await scan(text);
      expect(r.error).toBeUndefined();
      expect(r.slices).toEqual([]);
    }
    const doc = { data: { workouts: [{ name: 'W' }] } };
    const r = await scan('\uFEFF' + JSON.stringify(doc));
    expect(r.error).toBeUndefined();
    expect(shape(r.slices)).toEqual(oracle(doc));
    expect(r.slices[0].offset).toBe(3 + JSON.stringify(doc).indexOf('{"name"'));
  });

  it('captures metric name and units wherever they are in the metric object', async () => {
    const doc: Doc = {
      data: {
        metrics: [
          { data: [hr(0), hr(1)], name: 'heart_rate', units: 'count/min' }, // data first: held until close
          { name: 'weight_body_mass', data: [{ date: 'd', qty: 70 }], units: 'kg' }, // units after data
          { units: 'count', name: 'step_count', other: [1, { data: [] }], data: [{ date: 'd', qty: 5 }] },
          { name: 'after', units: 'u', data: [{ qty: 1 }] },
        ],
      },
    };
    const r = await scan(JSON.stringify(doc));
    expect(r.error).toBeUndefined();
    expect(shape(r.slices)).toEqual(oracle(doc));
    expect(r.slices.map((s) => s.metricName)).toEqual(['heart_rate', 'heart_rate', 'weight_body_mass', 'step_count', 'after']);
    expect(r.slices.map((s) => s.metricUnits)).toEqual(['count/min', 'count/min', 'kg', 'count', 'u']);
  });

  it('emits records of a metric without name as metricName "", without units as undefined', async () => {
    const text = '{"data":{"metrics":[{"units":"kg","data":[{"qty":1}]},{"name":"n","data":[{"qty":2}]},{"name":null,"units":7,"data":[3]}]}}';
    const r = await scan(text);
    expect(r.error).toBeUndefined();
    expect(r.slices.map((s) => [s.metricName, s.metricUnits, s.metricIndex, s.index])).toEqual([
      ['', 'kg', 0, 0],
      ['n', undefined, 1, 0],
      ['', undefined, 2, 0],
    ]);
  });

  it('decodes escaped keys and names', async () => {
    const text = '{"d\\u0061ta":{"work\\u006fut\\u0073":[{"a":1}],"metrics":[{"n\\u0061me":"caf\\u00e9 \\"x\\"","units":"\\u00b0C","data":[2]}]}}';
    const r = await scan(text);
    expect(r.error).toBeUndefined();
    expect(r.slices.map((s) => [s.section, s.metricName, s.metricUnits])).toEqual([
      ['workouts', undefined, undefined],
      ['metrics', 'café "x"', '°C'],
    ]);
  });

  it('reports root keys other than data and non-array keys under data, and skips them', async () => {
    const doc = {
      exportedAt: '2024-01-15',
      version: { major: 2, list: [1, 2, '}]'] },
      data: {
        info: { metrics: [{ name: 'not', units: 'x', data: [1] }] },
        count: 3,
        flag: true,
        nothing: null,
        label: 'text ]}',
        workouts: [{ name: 'W' }],
      },
      trailer: [{ a: 1 }],
    };
    const r = await scan(JSON.stringify(doc));
    expect(r.error).toBeUndefined();
    expect(shape(r.slices)).toEqual(oracle(doc as unknown as Doc));
    expect(r.stats.unknownKeys).toEqual(['exportedAt', 'version', 'data.info', 'data.count', 'data.flag', 'data.nothing', 'data.label', 'trailer']);
  });

  it('reports each unknown key once', async () => {
    const r = await scan('{"x":1,"data":{"y":{},"y":2},"x":[]}');
    expect(r.error).toBeUndefined();
    expect(r.stats.unknownKeys).toEqual(['x', 'data.y']);
  });

  it('slicePath names where a slice came from', async () => {
    const r = await scan(JSON.stringify(fullDoc()));
    const paths = r.slices.map(slicePath);
    expect(paths).toContain('data.metrics[0].data[2]');
    expect(paths).toContain('data.metrics[3].data[0]');
    expect(paths).toContain('data.workouts[1]');
    expect(paths).toContain('data.stateOfMind[0]');
    expect(paths).toContain('data.brandNewSection[5]');
    expect(paths).not.toContain('data.metrics[2].data[0]'); // empty metric
  });
});

describe('scanHae: offsets, strings and chunking', () => {
  const tricky: Doc = {
    data: {
      metrics: [
        {
          name: 'weird “name” 🫀',
          units: 'count/min',
          data: [
            { date: '2024-01-15 08:30:00 -0800', qty: 1, source: 'Jane’s Apple Watch' },
            { s: '}]{[', t: 'quote " inside', u: 'back\\slash', v: 'ends with backslash\\' },
            { w: '\\"', x: '\\\\', y: '"}', z: ['[', ']', '{', '}'], e: '🏃‍♀️ emoji 👍🏽' },
            { nested: { a: [{ b: [[[]]] }, {}] }, ctrl: '\n\t\u0001', u: '\u2028' },
          ],
        },
      ],
      workouts: [{ name: 'Lauf “Morgen”', notes: '{"not":"json"}]', route: [{ lat: 1, lon: 2 }] }],
    },
  };
  const text = '\uFEFF' + JSON.stringify(tricky);
  const bytes = Buffer.from(text, 'utf8');

  it('handles brackets, braces, escaped quotes and backslashes inside strings', async () => {
    const r = await scan(bytes);
    expect(r.error).toBeUndefined();
    expect(shape(r.slices)).toEqual(oracle(tricky));
  });

  it('offsets are absolute byte offsets of each element’s first byte', async () => {
    const r = await scan(bytes, { chunk: 5 });
    expectOffsetsMatch(bytes, r.slices);
    // independently: the first record starts right after the metric's `"data":[`
    const firstRecord = JSON.stringify((tricky.data.metrics as Array<{ data: unknown[] }>)[0].data[0]);
    expect(r.slices[0].offset).toBe(bytes.indexOf(Buffer.from(firstRecord)));
    expect(r.slices[0].offset).toBeGreaterThan(text.indexOf(firstRecord)); // bytes, not UTF-16 units
    for (const s of r.slices) expect(String.fromCharCode(bytes[s.offset])).toBe(s.text[0]);
  });

  it('gives identical output for every two-chunk split point', async () => {
    const whole = await scan(bytes);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = await scan(bytes, { chunk: [cut] });
      expect(r.error, `cut ${cut}`).toBeUndefined();
      expect(r.slices, `cut ${cut}`).toEqual(whole.slices);
    }
  });

  it('gives identical output for 1-, 2-, 3- and 7-byte chunks and Uint8Array chunks', async () => {
    const whole = await scan(bytes);
    for (const size of [1, 2, 3, 7]) {
      const r = await scan(bytes, { chunk: size });
      expect(r.error).toBeUndefined();
      expect(r.slices).toEqual(whole.slices);
    }
    async function* plain(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += 4) yield new Uint8Array(bytes.buffer.slice(bytes.byteOffset + i, bytes.byteOffset + Math.min(i + 4, bytes.length)));
    }
    const got: RecordSlice[] = [];
    for await (const b of scanHae(plain())) got.push(...b);
    expect(got).toEqual(whole.slices);
  });

  it('splits inside multi-byte characters and escape sequences without corrupting text', async () => {
    // cut inside every byte of ’ (3 bytes), 🫀 (4 bytes) and right after each backslash
    const cuts: number[] = [];
    for (const needle of ['’', '🫀', '👍🏽', '\\']) {
      const nb = Buffer.from(needle);
      for (let at = bytes.indexOf(nb); at >= 0; at = bytes.indexOf(nb, at + 1)) {
        for (let k = 1; k <= nb.length; k++) cuts.push(at + k);
      }
    }
    expect(cuts.length).toBeGreaterThan(10);
    const whole = await scan(bytes);
    for (const cut of cuts) {
      const r = await scan(bytes, { chunk: [cut] });
      expect(r.slices, `cut ${cut}`).toEqual(whole.slices);
    }
    expect(whole.slices.some((s) => s.text.includes('Jane’s Apple Watch'))).toBe(true);
    expect(whole.slices[0].metricName).toBe('weird “name” 🫀');
  });

  it('counts the element limit in bytes, across chunks, and reads a long value kept across many chunks', async () => {
    const doc = (note: string) =>
      Buffer.from(JSON.stringify({ data: { metrics: [{ name: 'step_count', units: 'count', data: [{ date: '2024-01-01 00:00:00 +0000', qty: 1, note }] }] } }));
    const read = async (bytes: Buffer, maxElementBytes: number) => {
      const got: RecordSlice[] = [];
      try {
        for await (const b of scanHae(chunked(bytes, 1000), { maxElementBytes })) got.push(...b);
        return { got, error: null };
      } catch (e) {
        return { got, error: e as InputError };
      }
    };
    // 3,000 characters of two bytes each: under a limit of 5,000 characters, over one of 5,000 bytes.
    const wide = doc('é'.repeat(3000));
    const over = await read(wide, 5000);
    expect(over.error).toBeInstanceOf(InputError);
    expect(over.error?.message).toMatch(/^an element starting at byte \d+ is larger than the limit of 5000 bytes/);
    const ascii = await read(doc('e'.repeat(3000)), 5000);
    expect(ascii.error).toBeNull();
    // 40 chunks of one value, multi-byte characters cut between them, decoded once whole.
    const long = await read(doc('’é🫀'.repeat(4000)), 1 << 20);
    expect(long.error).toBeNull();
    expect((JSON.parse(long.got[0].text) as { note: string }).note).toBe('’é🫀'.repeat(4000));
  });

  it('tolerates empty chunks', async () => {
    const whole = await scan(bytes);
    async function* withEmpties(): AsyncGenerator<Buffer> {
      for (let i = 0; i < bytes.length; i += 3) {
        yield Buffer.alloc(0);
        yield bytes.subarray(i, i + 3);
      }
      yield Buffer.alloc(0);
    }
    const got: RecordSlice[] = [];
    for await (const b of scanHae(withEmpties())) got.push(...b);
    expect(got).toEqual(whole.slices);
  });
});

describe('scanHae: batches', () => {
  const doc: Doc = { data: { metrics: [{ name: 'm', units: 'u', data: Array.from({ length: 10 }, (_, i) => hr(i)) }], workouts: [{ a: 1 }, { b: 2 }] } };
  const text = JSON.stringify(doc);

  it('respects batchSize', async () => {
    const r = await scan(text, { batchSize: 3 });
    expect(r.batches.map((b) => b.length)).toEqual([3, 3, 3, 3]);
    expect(shape(r.slices)).toEqual(oracle(doc));
    const one = await scan(text, { batchSize: 1, chunk: 2 });
    expect(one.batches.every((b) => b.length === 1)).toBe(true);
    expect(one.slices).toEqual(r.slices);
    const big = await scan(text);
    expect(big.batches.length).toBe(1);
  });

  it('respects batchSize for records held until their metric closes', async () => {
    const held = { data: { metrics: [{ data: Array.from({ length: 7 }, (_, i) => ({ qty: i })), name: 'late', units: 'u' }] } };
    const r = await scan(JSON.stringify(held), { batchSize: 2 });
    expect(r.batches.map((b) => b.length)).toEqual([2, 2, 2, 1]);
    expect(shape(r.slices)).toEqual(oracle(held));
  });

  it('cuts batches by size too (batchBytes)', async () => {
    const route = Array.from({ length: 200 }, (_, k) => ({ lat: k, lon: -122.5 - k }));
    const big = { data: { workouts: Array.from({ length: 6 }, (_, i) => ({ name: `w${i}`, route })) } };
    const oneSize = JSON.stringify(big.data.workouts[0]).length;
    const r = await scan(JSON.stringify(big), { batchBytes: oneSize * 2 });
    expect(r.batches.map((b) => b.length)).toEqual([2, 2, 2]);
    expect(shape(r.slices)).toEqual(oracle(big));
  });
});

describe('scanHae: errors', () => {
  it('rejects input that is not a JSON object', async () => {
    for (const [input, at] of [
      ['<html><body>nope</body></html>', 0],
      ['[{"data":{}}]', 0],
      ['  "data"', 2],
      ['null', 0],
      ['\uFEFF\uFEFF{"data":{}}', 3],
    ] as const) {
      const r = await scan(input);
      const e = expectFormatError(r.error);
      expect(e.message).toMatch(/^not a Health Auto Export file: expected '\{' at byte \d+/);
      expect(e.offset).toBe(at);
      expect(r.slices).toEqual([]);
    }
    const gz = await scan(Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    expect(expectFormatError(gz.error).message).toContain('gzip');
  });

  it('rejects empty and whitespace-only input', async () => {
    for (const input of ['', '   \n', '\uFEFF']) {
      const e = expectFormatError((await scan(input)).error);
      expect(e.message).toContain("expected '{'");
      expect(e.offset).toBe(Buffer.byteLength(input));
    }
  });

  it('rejects a root object without a data object', async () => {
    const noData = await scan('{"metrics":[{"name":"x","units":"u","data":[1]}],"workouts":[{}]}');
    expect(expectFormatError(noData.error).message).toContain('no "data" object');
    expect(noData.slices).toEqual([]);
    for (const input of ['{"data":[]}', '{"data":null}', '{"data":"x"}', '{"data":[{"name":"x"}]}']) {
      const r = await scan(input);
      const e = expectFormatError(r.error);
      expect(e.message).toContain('"data" is not an object');
      expect(e.offset).toBe(input.indexOf(':') + 1);
    }
  });

  it('yields every complete slice of a truncated file, then throws at the end-of-input offset', async () => {
    const doc = fullDoc();
    const bytes = Buffer.from(JSON.stringify(doc), 'utf8');
    const whole = await scan(bytes);
    expect(whole.error).toBeUndefined();
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = await scan(bytes.subarray(0, cut), { chunk: 16 });
      const e = expectFormatError(r.error);
      expect(e.offset, `cut ${cut}`).toBe(cut);
      if (cut > 0) expect(e.message).toContain(`unexpected end of input at byte ${cut}`);
      const complete = whole.slices.filter((s) => s.offset + Buffer.byteLength(s.text) <= cut);
      // a scalar record needs the delimiter after it to be known complete
      const expected = complete.filter((s) => /^[{["]/.test(s.text) || s.offset + Buffer.byteLength(s.text) < cut);
      expect(r.slices, `cut ${cut}`).toEqual(expected);
    }
  });

  it('names the place of the cut in the message', async () => {
    const text = JSON.stringify(fullDoc());
    const second = JSON.stringify(hr(1));
    const cut = text.indexOf(second) + 10;
    const r = await scan(text.slice(0, cut));
    const e = expectFormatError(r.error);
    expect(e.message).toContain('data.metrics[0].data[1]');
    expect(e.message).toContain(`byte ${Buffer.byteLength(text.slice(0, cut))}`);
    expect(r.slices.map(slicePath)).toEqual(['data.metrics[0].data[0]']);
  });

  it('does not emit held records (name not yet read) of a truncated metric, and says so', async () => {
    const text = '{"data":{"metrics":[{"name":"a","units":"u","data":[1]},{"data":[{"q":1},{"q":2}],"na';
    const r = await scan(text);
    const e = expectFormatError(r.error);
    expect(e.message).toContain('2 complete records');
    expect(r.slices.map(slicePath)).toEqual(['data.metrics[0].data[0]']);
  });

  it('rejects mismatched brackets, junk after the root, and broken envelope syntax — after the slices before', async () => {
    const good = '{"data":{"workouts":[{"n":1},{"n":2}';
    // [text before the bad byte, the bad byte and the rest]
    const cases: Array<[string, string]> = [
      [',{"a":[1', '}]}}'], // mismatched inside a record
      [',{"a":1', ']]}}'],
      [']}} ', 'x'], // junk after the root
      [']}}', '}'],
      [' ', '{"n":3}]}}'], // missing comma between records
      [',', ',{"n":3}]}}'],
      [',', ']}}'], // trailing comma
      ['],', 'metrics:[]}}'], // unquoted key
      ['],"metrics" ', '[]}}'], // missing colon
      ['],"metrics":[', '1]}}'], // a metric that is not an object
      ['],"x":', 'tru}}'], // invalid literal in a skipped value
    ];
    for (const [before, after] of cases) {
      const input = good + before + after;
      const r = await scan(input, { chunk: 3 });
      const e = expectFormatError(r.error);
      expect(e.offset, input).toBe((good + before).length);
      expect(e.message, input).toContain(`byte ${e.offset}`);
      expect(r.slices.map((s) => s.text), input).toEqual(['{"n":1}', '{"n":2}']);
    }
  });

  it('follows deep nesting inside a record, up to a bound', async () => {
    const deep = '['.repeat(3000) + '"]"' + ']'.repeat(3000);
    const r = await scan(`{"data":{"ecg":[${deep},{"after":1}]}}`, { chunk: 100 });
    expect(r.error).toBeUndefined();
    expect(r.slices.map((s) => s.text)).toEqual([deep, '{"after":1}']);
    const tooDeep = await scan(`{"data":{"ecg":[{"ok":1},${'['.repeat(70000)}`, { chunk: 4096 });
    expect(expectFormatError(tooDeep.error).message).toContain('nesting deeper than');
    expect(tooDeep.slices.map((s) => s.text)).toEqual(['{"ok":1}']);
  });

  it('emits a syntactically broken record as a slice; its neighbours survive', async () => {
    const bad = '{"date": "x", "qty": }';
    const text = `{"data":{"metrics":[{"name":"m","units":"u","data":[${JSON.stringify(hr(0))},${bad},${JSON.stringify(hr(1))}, tru ,"ok"]}]}}`;
    const r = await scan(text, { chunk: 4 });
    expect(r.error).toBeUndefined();
    expect(r.slices.map((s) => s.text)).toEqual([JSON.stringify(hr(0)), bad, JSON.stringify(hr(1)), 'tru', '"ok"']);
    const parsed = parseSlices(r.slices);
    expect(parsed.map((p) => p.error === undefined)).toEqual([true, false, true, false, true]);
    expect(parsed[2].value).toEqual(hr(1));
  });

  it('passes an input stream error through after the complete slices', async () => {
    const text = Buffer.from('{"data":{"workouts":[{"n":1},{"n":2},{"n":');
    async function* failing(): AsyncGenerator<Buffer> {
      yield text;
      throw new Error('unexpected end of file');
    }
    const got: RecordSlice[] = [];
    let error: unknown;
    try {
      for await (const b of scanHae(failing())) got.push(...b);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toBe('unexpected end of file');
    expect(got.map((s) => s.text)).toEqual(['{"n":1}', '{"n":2}']);
  });
});
