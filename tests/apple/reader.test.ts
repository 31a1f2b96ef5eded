import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateAppleExport } from '../../examples/apple/generate.js';
import { BAD_XML, EXPORT_XML, TRUNCATED_XML } from '../../examples/apple/make-samples.js';
import { FastXml } from '../../src/apple/fast-xml.js';
import { appleReader, type XmlTokenizer } from '../../src/apple/reader.js';
import type { HealthRecord } from '../../src/records/model.js';
import type { ReaderReject } from '../../src/records/reader.js';

async function readAll(text: string | AsyncIterable<Buffer>, chunk: number, tokenizer: XmlTokenizer = 'fast', maxElementBytes?: number) {
  async function* gen() {
    const buf = Buffer.from(text as string);
    for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
  }
  const r = appleReader(typeof text === 'string' ? gen() : text, undefined, { tokenizer, maxElementBytes });
  const records: HealthRecord[] = [];
  const rejects: ReaderReject[] = [];
  let error: (Error & { offset?: number }) | null = null;
  try {
    for await (const b of r.batches) {
      records.push(...b.records);
      rejects.push(...b.rejects);
    }
  } catch (err) {
    error = err as Error;
  }
  return { records, rejects, error, stats: r.stats };
}

/** Pushes `xml` into `f` in pieces of `piece` bytes, then ends it; the error it threw, if any. */
function feed(f: FastXml, xml: Buffer, piece: number): (Error & { offset?: number }) | null {
  try {
    for (let i = 0; i < xml.length; i += piece) f.push(xml.subarray(i, i + piece));
    f.end();
    return null;
  } catch (e) {
    return e as Error;
  }
}

describe('appleReader', () => {
  it('with an element limit, fails at a Workout or Record that holds too much, children counted besides their bytes', async () => {
    const record = (source: string, children = '') =>
      `<Record type="HKQuantityTypeIdentifierStepCount" sourceName="${source}" unit="count" startDate="2024-01-01 08:00:00 +0000" endDate="2024-01-01 08:01:00 +0000" value="12"${children ? `>${children}</Record>` : '/>'}`;
    const workout = (events: number) =>
      `<Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" sourceName="W" startDate="2024-01-02 08:00:00 +0000" endDate="2024-01-02 08:30:00 +0000">${'<WorkoutEvent type="HKWorkoutEventTypePause"/>'.repeat(events)}</Workout>`;
    const doc = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">${record('before')}${body}</HealthData>`;
    // 100 events: 4.6 KB of bytes + 12.8 KB counted for the children, under 64 KB.
    const small = await readAll(doc(workout(100)), 4096, 'fast', 64_000);
    expect(small.error).toBeNull();
    expect(small.records.map((r) => r.kind)).toEqual(['quantity', 'workout']);
    // 400 events: 18 KB of bytes, but 51 KB more counted for the children.
    const many = await readAll(doc(workout(400)), 4096, 'fast', 64_000);
    expect(many.error?.message).toMatch(/^an element starting at byte \d+ is larger than the limit of 64000 bytes$/);
    expect(many.error?.offset).toBe(doc('').indexOf('</HealthData>'));
    expect(many.records.map((r) => r.kind)).toEqual(['quantity']);
    // The same for a Record's metadata; without a limit (the CLI) both are read.
    const meta = record('meta', '<MetadataEntry key="k" value="v"/>'.repeat(600));
    expect((await readAll(doc(meta), 4096, 'fast', 64_000)).error?.message).toMatch(/larger than the limit of 64000 bytes/);
    expect((await readAll(doc(meta + workout(400)), 4096)).records.map((r) => r.kind)).toEqual(['quantity', 'quantity', 'workout']);
  });

  it('gives the same records and byte offsets whatever the chunking (multi-byte sources included)', async () => {
    const at = (needle: string) => Buffer.byteLength(BAD_XML.slice(0, BAD_XML.lastIndexOf('<', BAD_XML.indexOf(needle))));
    const expected = [at('value="abc"'), at('startDate="yesterday"'), at('value="900"'), at('HKWorkoutActivityTypeWalking')];
    const whole = await readAll(BAD_XML, 1 << 20);
    expect(whole.rejects.map((r) => r.byteOffset)).toEqual(expected);
    for (const chunk of [1, 7, 53, 333]) {
      const r = await readAll(BAD_XML, chunk);
      expect(r.error).toBeNull();
      expect(r.records).toEqual(whole.records);
      expect(r.rejects.map((x) => [x.path, x.byteOffset])).toEqual(whole.rejects.map((x) => [x.path, x.byteOffset]));
    }
  });

  it('without siblings, a workout route becomes a reject and the workout is still emitted', async () => {
    const r = await readAll(EXPORT_XML, 4096);
    expect(r.error).toBeNull();
    expect(r.records.filter((x) => x.kind === 'workout')).toHaveLength(2);
    expect(r.rejects.map((x) => x.kind)).toEqual(['route_point']);
    expect([...r.stats.metrics.keys()]).toContain('heart_rate');
  });

  it('an empty stream fails as an early end at byte 0', async () => {
    const r = await readAll('', 10);
    expect(r.error?.message).toMatch(/ends early at byte 0/);
    expect(r.error?.offset).toBe(0);
  });

  it('reads exactly what saxes (a general XML parser) reads: samples, bad records, truncation, a generated export', async () => {
    for (const text of [EXPORT_XML, BAD_XML, TRUNCATED_XML]) {
      const fast = await readAll(text, 61);
      const sax = await readAll(text, 61, 'saxes');
      expect(fast.records).toEqual(sax.records);
      expect(fast.rejects).toEqual(sax.rejects);
      expect(fast.error?.offset).toBe(sax.error?.offset);
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'he-apple-gen-'));
    try {
      const g = await generateAppleExport({ sizeBytes: 1 << 20, dir, seed: 7 });
      const open = () => createReadStream(g.xml, { highWaterMark: 64 << 10 }) as AsyncIterable<Buffer>;
      const fast = await readAll(open(), 0);
      const sax = await readAll(open(), 0, 'saxes');
      expect(fast.error).toBeNull();
      expect(fast.records.length).toBe(g.xmlRecords);
      expect(fast.records).toEqual(sax.records);
      expect(fast.rejects).toEqual(sax.rejects); // the route files it cannot reach without siblings
      expect(fast.rejects).toHaveLength(g.routes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the fast tokenizer refuses what is not well-formed, at the right byte', async () => {
    const cases: [string, RegExp, number][] = [
      ['<HealthData><Record a="1"></Recrd></HealthData>', /unexpected close tag <\/Recrd>, expected <\/Record>/, 26],
      ['<HealthData><Record a=1/></HealthData>', /unquoted value of attribute a/, 22],
      ['<HealthData><Record a="x<y"/></HealthData>', /< in the value of attribute a/, 24],
      ['<HealthData><Record a="&bogus;"/></HealthData>', /undefined entity &bogus;/, 23],
      ['<HealthData><Record a="1"b="2"/></HealthData>', /separated by whitespace/, 25],
      ['<HealthData/>junk', /text after the root element/, 13],
      ['<HealthData/><HealthData/>', /a second root element/, 13],
      ['<HealthData><Record a="1" <x/></HealthData>', /disallowed character in attribute name/, 26],
    ];
    for (const [xml, why, offset] of cases) {
      const f = new FastXml({ open() {}, close() {} });
      let err: (Error & { offset?: number }) | null = null;
      try {
        f.push(Buffer.from(xml));
        f.end();
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message, xml).toMatch(why);
      expect(err?.offset, xml).toBe(offset);
    }
    for (const cut of ['<HealthData><!-- never closed', '<!DOCTYPE HealthData [ <!ELEMENT x EMPTY>', '<HealthData><Record a="1']) {
      const f = new FastXml({ open() {}, close() {} });
      f.push(Buffer.from(cut));
      expect(() => f.end()).toThrow(/ends early at byte/);
    }
    // Entities, character references, a DOCTYPE whose internal subset holds `>` and `]` in quotes.
    const seen: Record<string, string>[] = [];
    const f = new FastXml({ open: (t) => seen.push(t.attributes), close() {} });
    f.push(Buffer.from('\ufeff<?xml version="1.0"?>\n<!DOCTYPE HealthData [ <!ATTLIST x y CDATA "a>]b"> <!-- ] > --> ]>\n<HealthData a=\'&lt;&#65;&#x42;&amp;&quot;\'/>'));
    f.end();
    expect(seen).toEqual([{ a: '<AB&"' }]);
    // Non-ASCII text (decoded from the bytes it spans), a byte-order mark and characters cut across
    // pieces, entities between non-ASCII characters; offsets in bytes, columns in characters.
    const xml = Buffer.from('\ufeff<HealthData>\n<Record sourceName="Jane’s Watch" note="é&amp;’&#x2019;ü"/>\n<Record a="ö" b=1/></HealthData>');
    for (const piece of [1, 2, 5, xml.length]) {
      const got: Record<string, string>[] = [];
      const err = feed(new FastXml({ open: (t) => got.push(t.attributes), close() {} }), xml, piece);
      expect(got.slice(0, 2), `pieces of ${piece}`).toEqual([{}, { sourceName: 'Jane’s Watch', note: 'é&’’ü' }]);
      expect(err?.message).toMatch(/\(line 3, column 17\): unquoted value of attribute b$/);
      expect(err?.offset).toBe(xml.indexOf('b=1') + 2);
    }
    // Non-ASCII values that repeat (a source name on every Record) are decoded from the bytes they
    // span each time, whatever was decoded before: values of the same byte length, more distinct
    // values than the decoder remembers, and repeats far apart and across pieces.
    const forth = ['Jané’s Watch', 'Janö’s Watch', 'Jané’s Phone', 'Zoë', 'Zoé', 'Jané’s Watch', 'Ünal', 'Zoë', 'Janö’s Watch'];
    const expected = [...forth, ...[...forth].reverse()].map((n, i) => ({ sourceName: n, device: `${n}${i % 3 ? '' : '’'}` }));
    const repeated = Buffer.from(`<H>${expected.map((a) => `<R sourceName="${a.sourceName}" device="${a.device}"/>`).join('')}</H>`);
    for (const piece of [7, repeated.length]) {
      const got: Record<string, string>[] = [];
      expect(feed(new FastXml({ open: (t) => got.push(t.attributes), close() {} }), repeated, piece)).toBeNull();
      expect(got.slice(1), `pieces of ${piece}`).toEqual(expected);
    }
    // Attribute names are guessed from the previous element of the same name: a name that is a
    // prefix of the guess, or the guess a prefix of it, another order, whitespace before `=`.
    const seq: Record<string, string>[] = [];
    const l = new FastXml({ open: (t) => seq.push(t.attributes), close() {} });
    l.push(Buffer.from('<H><R source="a" sourceName="b" v="1"/><R sourceName="c" source="d" v="2"/><R src="e" v ="3"/><R source="f" sourceName="g" v="4"/></H>'));
    l.end();
    expect(seq).toEqual([{}, { source: 'a', sourceName: 'b', v: '1' }, { sourceName: 'c', source: 'd', v: '2' }, { src: 'e', v: '3' }, { source: 'f', sourceName: 'g', v: '4' }]);
    // Attributes the handler never reads are left out, and still checked.
    const unread = new Set(['device']);
    const kept: Record<string, string>[] = [];
    const u = new FastXml({ open: (t) => kept.push(t.attributes), close() {}, unread: (name, depth) => (depth === 1 && name === 'Record' ? unread : null) });
    u.push(Buffer.from('<HealthData device="root"><Record device="&lt;&lt;HKDevice&gt;" value="1"><Record device="x" value="2"/></Record></HealthData>'));
    u.end();
    expect(kept).toEqual([{ device: 'root' }, { value: '1' }, { device: 'x', value: '2' }]);
    const bad = new FastXml({ open() {}, close() {}, unread: () => unread });
    expect(() => bad.push(Buffer.from('<HealthData><Record device="a<b"/></HealthData>'))).toThrow(/< in the value of attribute device/);
  });

  it('the fast tokenizer reads a buffer of several hundred KiB, which it decodes in pieces, as it reads small chunks', () => {
    // ~330 KiB: tags and multi-byte characters fall across the pieces the tokenizer cuts inside
    // one push; a broken tag far past the first piece must still be placed at its byte.
    const recs = Array.from({ length: 5000 }, (_, i) => `<Record type="t${i % 7}" sourceName="Jane’s Watch ${i}" value="${i}"/>\n`);
    const xml = Buffer.from(`<HealthData>\n${recs.join('')}<Record a="1" b=2/></HealthData>`);
    expect(xml.length).toBeGreaterThan(300 * 1024);
    const tokens = (piece: number) => {
      const got: [string, number][] = [];
      const f: FastXml = new FastXml({ open: (t) => got.push([t.attributes.sourceName ?? '', f.tagOffset()]), close() {} });
      return { got, err: feed(f, xml, piece) };
    };
    const whole = tokens(xml.length);
    expect(whole.got).toHaveLength(5001); // the root and every Record before the broken one
    expect(whole.got[2000]).toEqual(['Jane’s Watch 1999', xml.indexOf('<Record type="t4" sourceName="Jane’s Watch 1999"')]);
    expect(whole.err?.offset).toBe(xml.indexOf('b=2') + 2);
    for (const piece of [1000, 65_537, 200_000]) {
      const r = tokens(piece);
      expect(r.got, `chunks of ${piece}`).toEqual(whole.got);
      expect(r.err?.offset).toBe(whole.err?.offset);
    }
  });
});
