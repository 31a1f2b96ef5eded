/**
 * npm run bench:serve [-- --seconds 30] [--clients 8] [--size 5MB] [--file export.json] [--keep]
 *
 * Not a test. Posts one synthetic Health Auto Export file (examples/generate.ts, 5 MB by default)
 * to an in-process `serve` (same createServer as the command) from N concurrent clients over
 * loopback for a fixed time, each client as its own user with its own API key (like N phones),
 * and prints requests/s, MB/s, p50/p99 latency, peak RSS and the error count.
 *
 * Needs DATABASE_URL (or --database-url) pointing at a PostgreSQL it may write to, e.g.
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:serve -- --seconds 10
 * The schema is migrated if needed; the bench users and their rows are deleted afterwards
 * (--keep leaves them). REDIS_URL, when set, is used for the rate limiter (limit off by default).
 *
 * The first post of each client inserts; later ones find the same records unchanged, which is
 * what the app does all day (it re-sends the recent interval). The peak RSS is the whole process:
 * server + clients (the clients hold the file once, 5 MB).
 *
 * Then the same posts through the CLI (`bin/healthexport.js import`, built by prebench:serve):
 * the file imported once for a new user and once more (all unchanged), and what the serve run's
 * mix of first and repeated posts would have taken one after another that way, as MB/s next to
 * serve's.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey} from '../src/auth/api-keys.js';
import { openDatabase } from '../src/db/connection.js';
import { ensureMigrated } from '../src/db/migrations.js';
import { TABLE_NAMES } from '../src/load/tables.js';
import { generateExport } from '../examples/generate.js';
import { createServer } from '../src/server/app.js';
import { createUser } from '../src/db/users.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
function num(name: string, dflt: number): number {
  const v = arg(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
}
function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(s);
  if (!m) throw new Error(`bad size ${s} (examples: 5MB, 500KB)`);
  return Math.round(Number(m[1]) * { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[(m[2] ?? 'B').toUpperCase() as 'B']);
}

const seconds = num('seconds', 30);
const clients = num('clients', 8);
const size = parseSize(arg('size') ?? '5MB');
const keep = process.argv.includes('--keep');
const databaseUrl = arg('database-url') ?? process.env.DATABASE_URL;

if (!databaseUrl) {
  console.error(
    'serve-bench: DATABASE_URL is required (a PostgreSQL it may write to), e.g.\n' +
      '  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:serve -- --seconds 10',
  );
  process.exit(1);
}

async function exportFile(): Promise<string> {
  const given = arg('file');
  if (given) return given;
  const dir = path.join(os.tmpdir(), 'healthexport-bench');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `serve-${size}.json`);
  if (existsSync(file) && statSync(file).size >= size * 0.9) return file;
  const r = await generateExport({ sizeBytes: size, out: file });
  console.log(`generated ${file}: ${r.bytes} bytes, ${r.totalRecords} records`);
  return file;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function post(agent: http.Agent, port: number, key: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/ingest',
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Authorization: `Bearer ${key}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const file = await exportFile();
  const body = readFileSync(file);
  const db = await openDatabase({ databaseUrl, poolMax: clients * 3 + 4, applicationName: 'healthexport-serve-bench' });
  await ensureMigrated(db.pool, 'auto');

  const tag = `bench-${randomBytes(3).toString('hex')}`;
  const users: { name: string; key: string }[] = [];
  for (let i = 0; i < clients; i++) {
    const name = `${tag}-${i}`;
    await createUser(db.pool, name);
    users.push({ name, key: (await createApiKey(db.pool, name, 'serve-bench')).key });
  }

  const app = createServer({
    pool: db.pool,
    redisUrl: process.env.REDIS_URL,
    rateLimitPerMinute: num('rate-limit', 0) || 0,
    maxConcurrentImports: clients,
    bodyLimitBytes: Math.max(size * 2, 64 << 20),
    businessGaugesIntervalS: 0,
  });
  const { port } = await app.listen(0, '127.0.0.1');

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

  console.log(`posting ${(body.length / 1e6).toFixed(1)} MB from ${clients} clients for ${seconds} s to http://127.0.0.1:${port} ...`);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const errors: string[] = [];
  let records = 0;
  let inserted = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;

  await Promise.all(
    users.map(async (u) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            const r = await post(agent, port, u.key, body);
            latencies.push(performance.now() - t0);
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            if (r.status === 200) {
              const s = JSON.parse(r.text);
              records += s.totals.read;
              inserted += s.totals.inserted;
              if (s.status !== 'ok') errors.push(`${u.name}: status ${s.status}: ${s.error ?? ''}`);
            } else errors.push(`${u.name}: HTTP ${r.status}: ${r.text.slice(0, 200)}`);
          } catch (err) {
            errors.push(`${u.name}: ${(err as Error).message}`);
          }
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);

  await app.close();
  const cli = cliImports(file, `${tag}-cli`);
  if (!keep) {
    const ids = (await db.pool.query('SELECT id FROM users WHERE name LIKE $1', [`${tag}-%`])).rows.map((r) => r.id);
    for (const t of [...TABLE_NAMES, 'ingestion_rejects', 'raw_ingestions']) {
      await db.pool.query(`DELETE FROM ${t} WHERE user_id = ANY($1::bigint[])`, [ids]).catch(() => {});
    }
    await db.pool.query('DELETE FROM users WHERE id = ANY($1::bigint[])', [ids]);
  }
  await db.close();

  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  // The serve run's posts through the CLI, one after another: each client's first post inserted.
  const firsts = Math.min(clients, n);
  const cliSeconds = firsts * cli.firstS + (n - firsts) * cli.againS;
  const result = {
    seconds: Number(elapsed.toFixed(1)),
    clients,
    bodyBytes: body.length,
    requests: n,
    requestsPerSecond: Number((n / elapsed).toFixed(2)),
    mbPerSecond: Number(((n * body.length) / 1e6 / elapsed).toFixed(1)),
    recordsPerSecond: Math.round(records / elapsed),
    inserted,
    p50Ms: Math.round(percentile(latencies, 50)),
    p99Ms: Math.round(percentile(latencies, 99)),
    maxMs: Math.round(latencies[n - 1] ?? NaN),
    peakRssMB: Math.round(peakRss / 2 ** 20),
    statuses: Object.fromEntries(statuses),
    errors: errors.length,
    cli: {
      firstS: Number(cli.firstS.toFixed(2)),
      againS: Number(cli.againS.toFixed(2)),
      mbPerSecond: Number(((n * body.length) / 1e6 / cliSeconds).toFixed(1)),
    },
  };
  console.log(
    `${result.requests} requests in ${result.seconds} s: ${result.requestsPerSecond} req/s, ${result.mbPerSecond} MB/s, ` +
      `${result.recordsPerSecond.toLocaleString('en-US')} records/s\n` +
      `latency p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms\n` +
      `peak RSS ${result.peakRssMB} MB (server + clients)\n` +
      `CLI import of the same file: first ${result.cli.firstS} s, again ${result.cli.againS} s; ` +
      `the same ${n} posts through the CLI one after another: ${result.cli.mbPerSecond} MB/s ` +
      `(serve ${(result.mbPerSecond / result.cli.mbPerSecond).toFixed(2)}x)\n` +
      `errors: ${result.errors}${errors.length ? `\n  ${errors.slice(0, 5).join('\n  ')}` : ''}`,
  );
  console.log(JSON.stringify(result));
  process.exitCode = errors.length ? 1 : 0;
}

/** Wall seconds of `healthexport import` of `file` for a new user, then again (all unchanged). */
function cliImports(file: string, user: string): { firstS: number; againS: number } {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/healthexport.js');
  const once = () => {
    const t0 = performance.now();
    execFileSync(process.execPath, [bin, 'import', file, '--user', user, '--json', '--quiet'], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return (performance.now() - t0) / 1000;
  };
  return { firstS: once(), againS: once() };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
