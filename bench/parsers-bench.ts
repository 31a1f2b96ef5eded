/**
 * npm run bench:parsers [-- --size 200MB] [--dir /tmp/healthexport-bench] [--rounds 2] [--only json|xml]
 *
 * Why healthexport has two hand-written parsers, kept measured: each one against the general
 * libraries it stands in for, on the same synthetic files, each variant in its own process
 * (wall and CPU time of the parse itself, peak RSS of the process), alternated over --rounds.
 * No database.
 *
 * HAE JSON (examples/generate.ts, --size):
 *   json-parse      JSON.parse of the whole file (memory grows with the file; V8 strings stop at
 *                   ~512 MB, so it cannot read the large exports at all)
 *   streamparser    @streamparser/json, a streaming parser, emitting each record
 *   scanner         src/hae/scanner.ts (finds each record's bytes) + JSON.parse per record
 *   hae-reader      the scanner + mapping to typed records (what an import reads)
 * Apple export.xml (examples/apple/generate.ts, --size):
 *   saxes           saxes alone, counting start tags
 *   xml-feed        saxes through src/apple/xml-feed.ts (byte offsets for errors and rejects)
 *   fast-xml        src/apple/fast-xml.ts, counting start tags
 *   apple-saxes     the Apple reader on saxes (records out)
 *   apple-fast      the Apple reader on FastXml (records out; what an import uses)
 * Variants of one format must count the same records (or tags): a mismatch stops the bench.
 */
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAppleExport } from '../examples/apple/generate.js';
import { generateExport, parseSize } from '../examples/generate.js';
import { arg, timed } from './support.js';

const CHUNK = 1 << 20;
const self = fileURLToPath(import.meta.url);

type Variant = (file: string) => Promise<number>;

const chunks = (file: string) => createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>;

const VARIANTS: Record<'json' | 'xml', Record<string, Variant>> = {
  json: {
    'json-parse': async (file) => {
      const data = JSON.parse(readFileSync(file, 'utf8')).data;
      let n = data.workouts?.length ?? 0;
      for (const m of data.metrics ?? []) n += m.data.length;
      return n;
    },
    streamparser: async (file) => {
      const { JSONParser } = await import('@streamparser/json');
      const parser = new JSONParser({ paths: ['$.data.metrics.*.data.*', '$.data.workouts.*'], keepStack: false });
      let n = 0;
      parser.onValue = () => void n++;
      for await (const c of chunks(file)) parser.write(c);
      return n;
    },
    scanner: async (file) => {
      const { scanHae } = await import('../src/hae/scanner.js');
      const { parseSlices } = await import('../src/hae/parse-slices.js');
      let n = 0;
      for await (const slices of scanHae(chunks(file))) n += parseSlices(slices).length;
      return n;
    },
    'hae-reader': async (file) => {
      const { haeReader } = await import('../src/hae/reader.js');
      let n = 0;
      for await (const b of haeReader(chunks(file)).batches) n += b.records.length + b.rejects.length;
      return n;
    },
  },
  xml: {
    saxes: async (file) => {
      const { SaxesParser } = await import('saxes');
      const { StringDecoder } = await import('node:string_decoder');
      const parser = new SaxesParser({ xmlns: false, position: false });
      const decoder = new StringDecoder('utf8');
      let n = 0;
      parser.on('opentag', () => void n++);
      for await (const c of chunks(file)) parser.write(decoder.write(c));
      parser.write(decoder.end()).close();
      return n;
    },
    'xml-feed': async (file) => {
      const { XmlFeed } = await import('../src/apple/xml-feed.js');
      let n = 0;
      const feed = new XmlFeed({ open: () => void n++, close: () => {} });
      for await (const c of chunks(file)) feed.push(c);
      feed.end();
      return n;
    },
    'fast-xml': async (file) => {
      const { FastXml } = await import('../src/apple/fast-xml.js');
      let n = 0;
      const x = new FastXml({ open: () => void n++, close: () => {} });
      for await (const c of chunks(file)) x.push(c);
      x.end();
      return n;
    },
    'apple-saxes': (file) => appleRecords(file, 'saxes'),
    'apple-fast': (file) => appleRecords(file, 'fast'),
  },
};

async function appleRecords(file: string, tokenizer: 'fast' | 'saxes'): Promise<number> {
  const { appleReader } = await import('../src/apple/reader.js');
  let n = 0;
  // export.xml alone: route files are not read (the same for both tokenizers).
  for await (const b of appleReader(chunks(file), undefined, { tokenizer }).batches) n += b.records.length + b.rejects.length;
  return n;
}

// Child: run one variant, print what it counted and its CPU time.
const variantName = arg('variant', '');
if (variantName) {
  const fmt = arg('format', 'json') as 'json' | 'xml';
  // Timed here, not around the process: loading tsx and the modules is not parsing.
  const t = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const count = await VARIANTS[fmt][variantName](arg('file', ''));
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(t);
  process.stdout.write(JSON.stringify({ count, wallS, cpuS: (cpu.user + cpu.system) / 1e6 }) + '\n');
  process.exit(0);
}

// Parent: make the files, run every variant --rounds times, alternating, and print a table.
const size = parseSize(arg('size', '200MB'));
const work = arg('dir', '/tmp/healthexport-bench');
const rounds = Math.max(1, Number(arg('rounds', '2')));
const only = arg('only', '');
mkdirSync(work, { recursive: true });

async function jsonFile(): Promise<string> {
  const file = path.join(work, `export-${size}.json`);
  if (!existsSync(`${file}.meta.json`) || !existsSync(file)) {
    const r = await generateExport({ sizeBytes: size, out: file, seed: 42 });
    writeFileSync(`${file}.meta.json`, JSON.stringify(r));
  }
  return file;
}

async function xmlFile(): Promise<string> {
  const dir = path.join(work, `apple-${size}`);
  const meta = path.join(dir, 'meta.json');
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    if (m.requested === size && existsSync(m.xml)) return m.xml;
  }
  mkdirSync(dir, { recursive: true });
  const r = await generateAppleExport({ sizeBytes: size, dir, seed: 42 });
  writeFileSync(meta, JSON.stringify({ requested: size, ...r }));
  return r.xml;
}

interface Row {
  wall: number[];
  cpu: number[];
  rss: number[];
  count: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const fmt of ['json', 'xml'] as const) {
  if (only && only !== fmt) continue;
  const file = fmt === 'json' ? await jsonFile() : await xmlFile();
  const mb = statSync(file).size / 1e6;
  const names = Object.keys(VARIANTS[fmt]).filter((n) => !(n === 'json-parse' && mb > 500));
  const rows = new Map<string, Row>(names.map((n) => [n, { wall: [], cpu: [], rss: [], count: -1 }]));
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const t = await timed(process.execPath, ['--import', 'tsx', self, '--variant', name, '--format', fmt, '--file', file]);
      if (t.code !== 0) throw new Error(`${name} exited ${t.code}`);
      const out = JSON.parse(t.stdout.trim().split('\n').at(-1)!);
      const row = rows.get(name)!;
      row.wall.push(out.wallS);
      row.cpu.push(out.cpuS);
      row.rss.push(t.peakRssMb);
      row.count = out.count;
    }
  }
  console.log(`\n${fmt === 'json' ? 'HAE JSON' : 'Apple export.xml'}: ${path.basename(file)}, ${mb.toFixed(0)} MB, median of ${rounds} run(s)`);
  console.log('variant        count        wall s   CPU s    MB/s   peak RSS MB');
  for (const [name, row] of rows) {
    const wall = median(row.wall);
    console.log(
      `${name.padEnd(14)} ${String(row.count).padStart(10)}  ${wall.toFixed(2).padStart(7)} ${median(row.cpu).toFixed(2).padStart(7)} ` +
        `${(mb / wall).toFixed(0).padStart(7)}   ${median(row.rss).toFixed(0).padStart(6)}`,
    );
  }
  // Ratios of CPU time: on a shared 2-core machine wall time also measures the neighbours.
  const ratio = (a: string, b: string) =>
    rows.has(a) && rows.has(b) ? `${(median(rows.get(a)!.cpu) / median(rows.get(b)!.cpu)).toFixed(2)}x` : 'n/a';
  if (fmt === 'json') {
    console.log(`CPU time, streamparser / scanner: ${ratio('streamparser', 'scanner')}; JSON.parse of the whole file / scanner: ${ratio('json-parse', 'scanner')}`);
  } else {
    console.log(
      `CPU time, saxes / fast-xml: ${ratio('saxes', 'fast-xml')} (tokenizers alone), xml-feed / fast-xml: ${ratio('xml-feed', 'fast-xml')} ` +
        `(saxes with byte offsets, as the reader needs); Apple reader on saxes / on fast-xml: ${ratio('apple-saxes', 'apple-fast')}`,
    );
  }
  // Same input, same records: otherwise one of them is wrong and the times mean nothing.
  const groups = fmt === 'json' ? [['json-parse', 'streamparser', 'scanner']] : [['saxes', 'xml-feed', 'fast-xml'], ['apple-saxes', 'apple-fast']];
  for (const g of groups) {
    const counts = new Set(g.filter((n) => rows.has(n)).map((n) => rows.get(n)!.count));
    if (counts.size > 1) throw new Error(`${g.join(', ')} disagree on what they counted: ${[...counts].join(' vs ')}`);
  }
}
