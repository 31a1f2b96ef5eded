/**
 * npm run bench:bombs [-- --clients 8 --size 2MB --kind string|spaces|records|workout]
 *
 * Not a test. Starts `healthexport serve` (the built CLI, its own process) against DATABASE_URL,
 * then posts N gzip "bombs" at once (each from its own user and key): bodies of --size compressed
 * bytes that expand ~1000-fold, past the body limit. Prints each answer and the server's peak RSS
 * (VmHWM from /proc, the whole serve process), which the body limit, the import slots and the
 * element size limit must keep bounded.
 *   string   one datapoint whose source is a giant string (the reader must hold an element whole)
 *   spaces   whitespace between two datapoints
 *   records  the same datapoint repeated (all distinct times: real work for the writer)
 *   workout  Apple Health XML (read by content, whatever the Content-Type): one Workout whose
 *            children (WorkoutEvent) never end, each a small object if the reader kept them
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/he_bombs npm run bench:bombs
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';
import { createApiKey } from '../src/auth/api-keys.js';
import { openDatabase } from '../src/db/connection.js';
import { ensureMigrated } from '../src/db/migrations.js';
import { createUser } from '../src/db/users.js';
import { freePort } from '../src/db/embedded.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const clients = Number(arg('clients', '8'));
const size = Number(arg('size', '2').replace(/MB$/i, '')) * 1024 * 1024;
const kind = arg('kind', 'string');
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/healthexport.js');

/** A gzip body of about `target` bytes: head, a filler repeated until the gzip is that large, tail. */
function bomb(target: number): Buffer {
  const head =
    kind === 'string'
      ? '{"data":{"metrics":[{"name":"step_count","units":"count","data":[{"date":"2024-01-01 00:00:00 +0000","qty":1,"source":"'
      : kind === 'workout'
        ? '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US"><Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" sourceName="W" startDate="2024-01-02 08:00:00 +0000" endDate="2024-01-02 08:30:00 +0000">'
        : '{"data":{"metrics":[{"name":"step_count","units":"count","data":[';
  const event = '<WorkoutEvent type="HKWorkoutEventTypePause"/>';
  const unit =
    kind === 'string' ? 'A'.repeat(1 << 20) : kind === 'spaces' ? ' '.repeat(1 << 20) : kind === 'workout' ? event.repeat(Math.floor((1 << 20) / event.length)) : '';
  const parts: Buffer[] = [Buffer.from(head)];
  if (kind === 'records') {
    const t0 = Date.UTC(2024, 0, 1);
    let s = '';
    for (let i = 0; i < 400_000; i++) s += `${i ? ',' : ''}{"date":"${new Date(t0 + i * 1000).toISOString()}","qty":1,"source":"W"}`;
    parts.push(Buffer.from(s));
  } else {
    // ~1000:1 for a run of one byte: add a MiB at a time until the compressed size is reached.
    const mib = Buffer.from(unit);
    const per = gzipSync(mib, { level: constants.Z_BEST_COMPRESSION }).length;
    for (let n = Math.ceil(target / per); n > 0; n--) parts.push(mib);
    if (kind === 'spaces') parts.splice(1, 0, Buffer.from('{"date":"2024-01-01 00:00:00 +0000","qty":1,"source":"W"},'));
  }
  parts.push(Buffer.from(kind === 'workout' ? '</Workout></HealthData>' : kind === 'string' ? '"}]}]}}' : kind === 'spaces' ? '{"date":"2024-01-02 00:00:00 +0000","qty":1,"source":"W"}]}]}}' : ']}]}}'));
  return gzipSync(Buffer.concat(parts), { level: constants.Z_BEST_COMPRESSION });
}

function post(port: number, key: string, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/api/v1/ingest', method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', Authorization: `Bearer ${key}`, 'Content-Length': String(body.length) } },
      (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(`${res.statusCode} ${t.slice(0, 90)}`));
      },
    );
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end(body);
  });
}

const peakRssMb = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

const db = await openDatabase({ poolMax: 2 });
await ensureMigrated(db.pool);
const tag = randomBytes(3).toString('hex');
const keys: string[] = [];
for (let i = 0; i < clients; i++) {
  await createUser(db.pool, `bomb_${tag}_${i}`);
  keys.push((await createApiKey(db.pool, `bomb_${tag}_${i}`, 'bomb', { N: 1024, r: 8, p: 1 })).key);
}
const body = bomb(size);
const port = await freePort();
const server = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--rate-limit', '0'], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => server.stdout!.on('data', (d) => /listening/.test(String(d)) && resolve()));
const idle = peakRssMb(server.pid!);
const started = Date.now();
const answers = await Promise.all(keys.map((k) => post(port, k, body)));
const peak = peakRssMb(server.pid!);
console.log(`${clients} concurrent ${kind} bombs of ${(body.length / 1048576).toFixed(1)} MB gzip in ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const a of answers) console.log(`  ${a}`);
console.log(`serve peak RSS: ${peak.toFixed(0)} MB (idle after start: ${idle.toFixed(0)} MB)`);
server.kill('SIGTERM');
await db.pool.query(`DELETE FROM users WHERE name LIKE $1`, [`bomb_${tag}_%`]).catch(() => {});
await db.close();
