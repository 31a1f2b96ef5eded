/**
 * What commands print on stderr, through the binary: `serve` logs every request with its outcome
 * and duration, as JSON lines with --log-format json; `import --log-format json` reports each
 * input as an event and errors as error lines; --quiet keeps only errors, --verbose adds debug
 * lines; the progress spinner has no colour under NO_COLOR and colour under FORCE_COLOR.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorEnabled } from '../../src/cli/log.js';
import { freePort } from '../../src/db/embedded.js';
import { BIN, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function jsonLines(stderr: string): any[] {
  return stderr
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}

/** Runs `serve` until `work(base)` is done, then SIGTERM; resolves with its stderr. */
async function serveSession(args: string[], work: (base: string) => Promise<void>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  await work(base);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

describe('logs on stderr', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'healthexport-logs-'));
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serve --log-format json: one JSON line per request with method, path, status and duration', async () => {
    const s = await serveSession(['--database-url', db.url, '--rate-limit', '0', '--log-format', 'json'], async (base) => {
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect((await fetch(`${base}/api/data`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(401);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    });
    expect(s.code).toBe(0);
    const lines = jsonLines(s.stderr);
    for (const l of lines) {
      expect(l.time).toMatch(ISO);
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
      expect(typeof l.msg).toBe('string');
    }
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/health', 200],
      ['POST', '/api/data', 401],
      ['GET', '/nope', 404],
    ]);
    expect(requests.every((r) => Number.isInteger(r.durationMs) && r.durationMs >= 0 && /^127\.0\.0\.1:\d+$/.test(r.remote))).toBe(true);
    expect(lines.at(-1).msg).toBe('stopped');
  });

  it('serve in text: a readable line per request; --quiet: none', async () => {
    const text = await serveSession(['--database-url', db.url], async (base) => {
      await fetch(`${base}/health`);
    });
    expect(text.stderr).toMatch(/^healthexport: request method=GET path=\/health route=\/health status=200 durationMs=\d+ remote=127\.0\.0\.1:\d+$/m);
    const quiet = await serveSession(['--database-url', db.url, '--quiet'], async (base) => {
      await fetch(`${base}/health`);
    });
    expect(quiet.stderr).toBe('');
  });

  it('import --log-format json: an event per input and an error line naming the file', async () => {
    const r = await runCli(['import', path.join(EXAMPLES, 'sample-export.json'), path.join(EXAMPLES, 'not-hae.json'), '--log-format', 'json', '--json', '--database-url', db.url]);
    expect(r.code).toBe(2);
    const lines = jsonLines(r.stderr);
    const events = lines.filter((l) => l.msg === 'import');
    expect(events.map((e) => [path.basename(e.source), e.status])).toEqual([
      ['sample-export.json', 'ok'],
      ['not-hae.json', 'failed'],
    ]);
    expect(events[0].totals.read).toBeGreaterThan(0);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].msg).toMatch(/not-hae\.json: not a Health Auto Export file/);
    // stdout is still the result alone.
    expect(JSON.parse(r.stdout).imports).toHaveLength(2);
  });

  it('--quiet keeps errors and drops warnings; --verbose adds debug lines', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{"nope": 1}');
    const gw = `http://127.0.0.1:${await freePort()}`;
    const sample = path.join(EXAMPLES, 'sample-export.json');
    const loud = await runCli(['import', sample, '--pushgateway', gw, '--json', '--database-url', db.url]);
    expect(loud.stderr).toMatch(/^healthexport: warning: metrics push to .* failed/m);
    const quiet = await runCli(['import', sample, '--pushgateway', gw, '--json', '--quiet', '--database-url', db.url]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    const quietError = await runCli(['-q', 'import', file, '--json', '--database-url', db.url]);
    expect(quietError.code).toBe(2);
    expect(quietError.stderr.trim().split('\n')).toHaveLength(1);
    expect(quietError.stderr).toMatch(/bad\.json: not a Health Auto Export file/);
    const verbose = await runCli(['summary', '--user', 'default', '--verbose', '--database-url', db.url]);
    expect(verbose.stderr).toMatch(/^healthexport: database at=postgres(ql)?:\/\/\S+ kind=server$/m); // postgresql:// when the tests start an embedded server
  });
});

describe('colour', () => {
  const env = { ...process.env };
  afterAll(() => {
    process.env = env;
  });

  it('NO_COLOR turns it off on a terminal, FORCE_COLOR turns it on anywhere', () => {
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    expect(colorEnabled({ isTTY: true })).toBe(true);
    expect(colorEnabled({ isTTY: false })).toBe(false);
    process.env.NO_COLOR = '1';
    expect(colorEnabled({ isTTY: true })).toBe(false);
    process.env.FORCE_COLOR = '1';
    expect(colorEnabled({ isTTY: false })).toBe(true);
    delete process.env.NO_COLOR;
    process.env.FORCE_COLOR = '0';
    expect(colorEnabled({ isTTY: true })).toBe(false);
  });

  it('the import spinner on a terminal: cyan by default, plain with NO_COLOR', async (ctx) => {
    let script: string;
    try {
      script = execFileSync('sh', ['-c', 'command -v script']).toString().trim();
    } catch {
      if (process.env.CI === 'true') throw new Error('`script` (util-linux) is needed for the terminal test');
      console.warn('skipped: `script` (Debian package bsdutils / util-linux) is not installed');
      return ctx.skip();
    }
    const db = await createTestDatabase({ migrate: true });
    try {
      const run = (extra: Record<string, string>) =>
        execFileSync(script, ['-qec', `stty cols 100; "${process.execPath}" "${BIN}" import "${path.join(EXAMPLES, 'sample-export.json')}" --database-url "${db.url}"`, '/dev/null'], {
          env: { PATH: process.env.PATH!, TERM: 'xterm', ...extra },
        }).toString('latin1');
      const CYAN = '\x1b[36m';
      expect(run({})).toContain(CYAN);
      const plain = run({ NO_COLOR: '1' });
      expect(plain).not.toContain(CYAN);
      expect(plain).toMatch(/sample-export\.json: ok/);
    } finally {
      await db.drop();
    }
  });
});
