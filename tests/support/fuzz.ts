/**
 * The import fuzzer: mutates the sample exports (byte flips, truncations, type swaps, huge and
 * NUL strings, lone surrogates, far dates, duplicated keys and elements) and checks, for each
 * case, what must hold whatever the input:
 *   - the run ends with exit code 0, 2 or 3 (1 would be a database failure: a bug here, the
 *     database is up), and importSource never throws;
 *   - the summary reconciles (read = inserted + updated + unchanged + rejected, per table);
 *   - its rejected count equals the ingestion_rejects rows of the run;
 *   - importing the same bytes again (when the first exited 0 or 3) inserts nothing.
 * Used by tests/import/fuzz.test.ts (bounded) and `npm run fuzz` (tests/tools/fuzz.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { exitCodeFor } from '../../src/cli/import.js';
import { importSource } from '../../src/import/run-import.js';
import type { ImportSummary } from '../../src/import/summary.js';
import { reconciles } from '../../src/load/outcome.js';
import type { InputSource } from '../../src/input/open-input.js';

/** Raw bytes as an input (the mutations are not always valid UTF-8), in 1 kB chunks. */
function bytesSource(bytes: Buffer, name: string): InputSource {
  return {
    name,
    kind: 'file',
    sizeHint: bytes.length,
    async *open() {
      for (let i = 0; i < bytes.length; i += 1024) yield bytes.subarray(i, i + 1024);
    },
  };
}

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

export interface Seed {
  name: string;
  text: string;
  kind: 'json' | 'xml';
}

/** The sample exports the cases start from (small ones first: the bounded run uses those). */
export function seeds(which: 'small' | 'all' = 'small'): Seed[] {
  const json = (f: string): Seed => ({ name: f, text: readFileSync(path.join(EXAMPLES, f), 'utf8'), kind: 'json' });
  const list: Seed[] = [
    json('bad-records.json'),
    json('sleep-unaggregated.json'),
    { name: 'apple/export-bad.xml', text: readFileSync(path.join(EXAMPLES, 'apple/export-bad.xml'), 'utf8'), kind: 'xml' },
    json('sample-export-later.json'),
  ];
  if (which === 'all') list.push(json('sample-export.json'));
  return list;
}

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

const FAR_DATES = [
  '0001-01-01 00:00:00 +0000', '1899-12-31 23:59:59 +0000', '1969-12-31 23:00:00 +0000', '1900-01-01 00:00:00 +0000',
  '2199-06-01 08:00:00 +0000', '9999-12-31 23:59:59 +0000', '2024-02-30 10:00:00 +0000', '2024-01-01T25:00:00Z',
];
const ODD_STRINGS = () => [
  'x'.repeat(3000), 'é'.repeat(1500), 'a\u0000b', '\u0000', 'lone \ud800 surrogate', '\udc00', '\t\n\r\\', '',
  '😀'.repeat(800), 'x'.repeat(70_000),
];
const ODD_VALUES = (): unknown[] => [null, true, 0, -1, 1e308, -1e308, 'NaN', '12', [], {}, [1, 2], { qty: 1 }, 'x'.repeat(10_000)];

/** Every [container, key] in a JSON value, to pick one to mutate. */
function slots(v: unknown, out: [Record<string, unknown> | unknown[], string | number][] = [], depth = 0): typeof out {
  if (depth > 12 || v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([v, i]);
      slots(x, out, depth + 1);
    });
  } else {
    for (const k of Object.keys(v)) {
      out.push([v as Record<string, unknown>, k]);
      slots((v as Record<string, unknown>)[k], out, depth + 1);
    }
  }
  return out;
}

export const MUTATIONS = ['byte-flip', 'truncate', 'type-swap', 'odd-string', 'far-date', 'duplicate-key', 'duplicate-element', 'splice'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** One mutated input from `seed`, deterministic in `caseSeed`. */
export function mutate(seed: Seed, mutation: Mutation, caseSeed: number): Buffer {
  const r = rng(caseSeed);
  const bytes = Buffer.from(seed.text);
  switch (mutation) {
    case 'byte-flip': {
      const out = Buffer.from(bytes);
      for (let i = 1 + int(r, 8); i > 0; i--) out[int(r, out.length)] ^= 1 << int(r, 8);
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, int(r, bytes.length));
    case 'splice': {
      // A piece of the file repeated somewhere else (a botched concatenation, a resent chunk).
      const a = int(r, bytes.length);
      const piece = bytes.subarray(a, a + int(r, 400));
      const at = int(r, bytes.length);
      return Buffer.concat([bytes.subarray(0, at), piece, bytes.subarray(at)]);
    }
    default:
      return seed.kind === 'json' ? mutateJson(seed.text, mutation, r) : mutateXml(seed.text, mutation, r);
  }
}

function mutateJson(text: string, mutation: Mutation, r: Rand): Buffer {
  const doc = JSON.parse(text) as unknown;
  const all = slots(doc);
  const strings = all.filter(([c, k]) => typeof (c as Record<string, unknown>)[k as string] === 'string');
  const dates = strings.filter(([c, k]) => /^\d{4}-\d\d-\d\d/.test((c as Record<string, string>)[k as string]));
  const set = ([c, k]: (typeof all)[number], v: unknown) => ((c as Record<string, unknown>)[k as string] = v);
  for (let n = 1 + int(r, 3); n > 0; n--) {
    if (mutation === 'type-swap' && all.length) set(pick(r, all), pick(r, ODD_VALUES()));
    else if (mutation === 'odd-string' && strings.length) set(pick(r, strings), pick(r, ODD_STRINGS()));
    else if (mutation === 'far-date' && dates.length) set(pick(r, dates), pick(r, FAR_DATES));
    else if (mutation === 'duplicate-element') {
      const arrays = all.filter(([c, k]) => Array.isArray((c as Record<string, unknown>)[k as string]));
      if (arrays.length) {
        const arr = (pick(r, arrays)[0] as Record<string, unknown[]>)[pick(r, arrays)[1] as string];
        if (Array.isArray(arr) && arr.length) arr.splice(int(r, arr.length), 0, structuredClone(pick(r, arr)));
      }
    }
  }
  let out = JSON.stringify(doc);
  if (mutation === 'duplicate-key') {
    // JSON with a key written twice ("qty":1,"qty":"x"): JSON.parse keeps the last.
    const keys = [...out.matchAll(/"(\w+)":/g)];
    for (let n = 1 + int(r, 3); n > 0 && keys.length; n--) {
      const m = pick(r, keys);
      const v = JSON.stringify(pick(r, ODD_VALUES()));
      out = `${out.slice(0, m.index)}"${m[1]}":${v},${out.slice(m.index)}`;
    }
  }
  return Buffer.from(out);
}

function mutateXml(text: string, mutation: Mutation, r: Rand): Buffer {
  const attrs = [...text.matchAll(/(\w+)="([^"]*)"/g)];
  let out = text;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  for (let n = 1 + int(r, 3); n > 0 && attrs.length; n--) {
    const m = pick(r, attrs);
    let v: string;
    if (mutation === 'far-date') v = pick(r, FAR_DATES);
    else if (mutation === 'odd-string') v = esc(pick(r, ODD_STRINGS()).replaceAll('\u0000', '&#0;'));
    else if (mutation === 'type-swap') v = esc(String(pick(r, ODD_VALUES())));
    else if (mutation === 'duplicate-key') {
      out = out.replace(m[0], `${m[0]} ${m[1]}="${esc(String(pick(r, ODD_VALUES())))}"`);
      continue;
    } else {
      const els = [...out.matchAll(/<Record [^>]*\/>/g)];
      if (els.length) {
        const e = pick(r, els);
        out = out.slice(0, e.index) + e[0] + '\n' + out.slice(e.index);
      }
      continue;
    }
    out = out.replace(m[0], `${m[1]}="${v}"`);
  }
  return Buffer.from(out);
}

export interface CaseResult {
  seed: string;
  mutation: Mutation;
  caseSeed: number;
  exit: number;
  status: ImportSummary['status'] | 'threw';
  rejected: number;
  /** What broke an invariant (empty: the case held). */
  problems: string[];
}

/**
 * Imports `bytes` as `user`, then checks the invariants (see the module comment). Each case gets
 * its own user, so re-imports see only their own rows.
 */
export async function runCase(pool: pg.Pool, user: string, name: string, bytes: Buffer): Promise<Omit<CaseResult, 'seed' | 'mutation' | 'caseSeed'>> {
  const problems: string[] = [];
  const source = bytesSource(bytes, name);
  let s: ImportSummary;
  try {
    s = await importSource(source, { pool, user, batchRows: 50 });
  } catch (err) {
    return { exit: -1, status: 'threw', rejected: 0, problems: [`importSource threw: ${(err as Error)?.stack ?? err}`] };
  }
  const exit = exitCodeFor([s]);
  if (![0, 2, 3].includes(exit)) problems.push(`exit ${exit}: ${s.error}`);
  if (!reconciles(s.totals)) problems.push(`totals do not reconcile: ${JSON.stringify(s.totals)}`);
  for (const [t, c] of Object.entries(s.tables)) if (!reconciles(c)) problems.push(`${t} does not reconcile: ${JSON.stringify(c)}`);
  if (s.ingestionId) {
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM ingestion_rejects WHERE ingestion_id = $1', [s.ingestionId]);
    if (rows[0].n !== s.totals.rejected) problems.push(`rejected ${s.totals.rejected} but ${rows[0].n} ingestion_rejects rows`);
  }
  if (exit === 0 || exit === 3) {
    const again = await importSource(bytesSource(bytes, name), { pool, user, batchRows: 50 });
    if (again.totals.inserted !== 0) problems.push(`second import inserted ${again.totals.inserted}`);
    if (again.status === 'failed') problems.push(`second import failed: ${again.error}`);
  }
  return { exit, status: s.status, rejected: s.totals.rejected, problems };
}

/** `count` cases over the seeds and mutations, round robin, from `baseSeed`. */
export function* cases(count: number, baseSeed: number, which: 'small' | 'all' = 'small'): Generator<{ seed: Seed; mutation: Mutation; caseSeed: number }> {
  const list = seeds(which);
  for (let i = 0; i < count; i++) {
    yield { seed: list[i % list.length], mutation: MUTATIONS[Math.floor(i / list.length) % MUTATIONS.length], caseSeed: baseSeed + i };
  }
}
