/**
 * Every command and subcommand of the README's "Commands" section, run through bin/healthexport.js
 * as a user runs it, against the real PostgreSQL and Redis, asserting output and exit code.
 *
 * Adding a command: add one `command('name sub', async () => { ... })` block. The last test fails
 * when the README lists a command that has no block here (or a block names no README command).
 * Each block sets up what it needs (its own user, its own cache prefix), so each runs alone.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, cliEnv, describeRun, expectExit, runCli, stdoutJson, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae } from '../support/inputs.js';
import { request } from '../server/helpers.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/**
 * The commands the README documents: each line of the sh block under "## Commands", split into
 * subcommands at top-level " | " ("cache warm [--user NAME | --all-users] | stats | clear").
 */
export function readmeCommands(text: string): string[] {
  const section = text.split(/^## Commands$/m)[1]?.split(/^## /m)[0] ?? '';
  const block = section.match(/```sh\n([\s\S]*?)```/)?.[1] ?? '';
  // Continuation lines (options only) start with spaces; commands start with "healthexport ".
  const out: string[] = [];
  for (const line of block.split('\n')) {
    const m = line.match(/^healthexport (\S+)(.*)$/);
    if (!m) continue;
    const [, name, rest] = m;
    const parts: string[] = [];
    let depth = 0;
    let cur = '';
    for (let i = 0; i < rest.length; i++) {
      const c = rest[i];
      if (c === '[') depth++;
      if (c === ']') depth--;
      if (depth === 0 && rest.startsWith(' | ', i)) {
        parts.push(cur);
        cur = '';
        i += 2;
        continue;
      }
      cur += c;
    }
    parts.push(cur);
    for (const p of parts) {
      const sub = p.trim().split(/\s+/)[0];
      out.push(sub && /^[a-z][a-z-]*$/.test(sub) ? `${name} ${sub}` : name);
    }
  }
  return out;
}

const covered = new Set<string>();
/** One README command's test: registers it as covered and runs it as a test named after it. */
function command(name: string, fn: () => Promise<void>, timeout = 120_000): void {
  covered.add(name);
  it(name, fn, timeout);
}

const steps = (points: [string, number][]) =>
  hae({ metrics: [{ name: 'step_count', units: 'count', data: points.map(([date, qty]) => ({ date, qty, source: 'Phone' })) }] });

describe('every README command through bin/healthexport.js', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  const he = (args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}) =>
    runCli(args, { ...opts, env: { ...env, ...opts.env } });
  const user = (what: string) => `${what}-${randomBytes(3).toString('hex')}`;
  /** Imports `text` as `name` through the CLI; returns its JSON summary. */
  const importAs = async (name: string, text: string, code = 0) => {
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, text);
    return stdoutJson(expectExit(await he(['import', file, '--user', name, '--json']), code));
  };
  /** Environment of a command that uses the cache: the test's own key prefix. */
  const cacheEnv = () => ({ REDIS_URL: inject('redisUrl'), HEALTHEXPORT_CACHE_PREFIX: `he-test-${randomBytes(5).toString('hex')}` });

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'he-commands-'));
    env = { DATABASE_URL: db.url };
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  command('import', async () => {
    const name = user('import');
    const file = path.join(dir, 'import.json');
    await writeFile(file, steps([['2024-05-01 10:00:00 +0000', 5], ['2024-05-01 11:00:00 +0000', 7], ['2024-05-01 11:00:00 +0000', 8]]));
    const r = expectExit(await he(['import', file, '--user', name]), 0);
    // read, inserted, updated, unchanged, rejected
    expect(r.stdout).toMatch(/activity_metrics\s+3\s+2\s+1\s+0\s+0/);
    const again = stdoutJson(expectExit(await he(['import', file, '--user', name, '--json']), 0));
    expect(again.totals).toEqual({ read: 3, inserted: 0, updated: 1, unchanged: 2, rejected: 0 });
  });

  command('rejects list', async () => {
    const name = user('rejects');
    const doc = steps([['2024-05-02 10:00:00 +0000', 5], ['2024-05-02 11:00:00 +0000', -3], ['2024-05-02 12:00:00 +0000', 6]]);
    const s = await importAs(name, doc, 3);
    expect(s.totals).toMatchObject({ inserted: 2, rejected: 1 });
    const r = expectExit(await he(['rejects', 'list', '--ingestion', s.ingestionId, '--raw']), 0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    // The input the reject came from leads the line (migration 7 keeps it with the reject).
    expect(lines[0]).toMatch(new RegExp(`^\\S+\\.json  activity_metrics  data\\.metrics\\[0\\]\\.data\\[1\\], byte ${doc.indexOf('{"date":"2024-05-02 11')}: .*-3`));
    expect(lines[1]).toMatch(/^ {4}\{"date":"2024-05-02 11:00:00 \+0000","qty":-3/);
    const json = stdoutJson(expectExit(await he(['rejects', 'list', '--ingestion', s.ingestionId, '--json']), 0));
    expect(json).toHaveLength(1);
    const bad = await he(['rejects', 'list', '--ingestion', 'nope']);
    expectExit(bad, 1);
    expect(bad.stderr).toMatch(/--ingestion expects an ingestion id/);
  });

  command('summary', async () => {
    const name = user('summary');
    await importAs(name, steps([['2024-05-03 10:00:00 +0000', 11], ['2024-05-03 12:00:00 +0000', 42]]));
    const r = expectExit(await he(['summary', '--user', name]), 0);
    expect(r.stdout).toMatch(new RegExp(`latest values of ${name} \\(no cache\\)[\\s\\S]*step_count\\s+42\\s+count`));
    const unknown = await he(['summary', '--user', 'nobody-at-all']);
    expectExit(unknown, 1);
    expect(unknown.stderr).toMatch(/unknown user "nobody-at-all"/);
  });

  command('cache warm', async () => {
    const name = user('warm');
    await importAs(name, steps([['2024-05-04 10:00:00 +0000', 3]]));
    const cenv = cacheEnv();
    const w = stdoutJson(expectExit(await he(['cache', 'warm', '--user', name, '--json'], { env: cenv }), 0));
    expect(w.enabled).toBe(true);
    expect(w.users).toEqual([{ user: name, userId: expect.any(Number), keys: expect.any(Number) }]);
    expect(w.users[0].keys).toBeGreaterThan(0);
    const s = stdoutJson(expectExit(await he(['cache', 'stats', '--json'], { env: cenv }), 0));
    expect(s.keys).toBe(w.users[0].keys);
    // The summary it filled is served from the cache.
    expect(expectExit(await he(['summary', '--user', name], { env: cenv }), 0).stdout).toMatch(/\(cache hit\)/);
    // Without REDIS_URL: nothing to do, exit 0.
    expect(stdoutJson(expectExit(await he(['cache', 'warm', '--user', name, '--json']), 0))).toEqual({ enabled: false, users: [] });
  });

  command('cache stats', async () => {
    const name = user('stats');
    await importAs(name, steps([['2024-05-05 10:00:00 +0000', 3]]));
    const cenv = cacheEnv();
    for (let i = 0; i < 3; i++) expectExit(await he(['summary', '--user', name], { env: cenv }), 0); // 1 miss, 2 hits
    const s = stdoutJson(expectExit(await he(['cache', 'stats', '--json'], { env: cenv }), 0));
    expect(s).toMatchObject({ enabled: true, available: true, hits: 2, misses: 1, keys: 1 });
    const text = expectExit(await he(['cache', 'stats'], { env: cenv }), 0).stdout;
    expect(text).toMatch(/hits\s+2/);
    expect(text).toMatch(/hit ratio\s+66\.7 %/);
    const down = await he(['cache', 'stats'], { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    expectExit(down, 1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(/cannot reach Redis/);
  });

  command('cache clear', async () => {
    const name = user('clear');
    await importAs(name, steps([['2024-05-06 10:00:00 +0000', 3]]));
    const cenv = cacheEnv();
    const warmed = stdoutJson(expectExit(await he(['cache', 'warm', '--user', name, '--json'], { env: cenv }), 0)).users[0].keys;
    const r = expectExit(await he(['cache', 'clear', '--user', name], { env: cenv }), 0);
    expect(r.stdout.trim()).toBe(`deleted ${warmed} key${warmed === 1 ? '' : 's'}`);
    expect(stdoutJson(expectExit(await he(['cache', 'stats', '--json'], { env: cenv }), 0)).keys).toBe(0);
  });

  command('users create', async () => {
    const name = user('create');
    const r = expectExit(await he(['users', 'create', name]), 0);
    expect(r.stdout).toMatch(new RegExp(`^created user ${name} \\(id \\d+\\)`));
    const dup = await he(['users', 'create', name]);
    expect(dup.code, describeRun(dup)).not.toBe(0);
    expect(dup.stderr.trim().split('\n')).toHaveLength(1);
  });

  command('users list', async () => {
    const name = user('list');
    expectExit(await he(['users', 'create', name]), 0);
    expectExit(await he(['keys', 'create', '--user', name]), 0);
    const r = expectExit(await he(['users', 'list']), 0);
    expect(r.stdout).toMatch(new RegExp(`\\d+\\s+${name}\\s+1\\s+\\d{4}-`));
    const json = stdoutJson(expectExit(await he(['users', 'list', '--json']), 0));
    expect(json.find((u: { name: string }) => u.name === name)).toMatchObject({ activeKeys: 1 });
  });

  command('keys create', async () => {
    const name = user('keys');
    expectExit(await he(['users', 'create', name]), 0);
    const r = expectExit(await he(['keys', 'create', '--user', name, '--label', 'iphone']), 0);
    const key = r.stdout.trim();
    expect(key).toMatch(/^\S{20,}$/);
    expect(r.stderr).toMatch(/only time it is shown/);
    // The key is stored only as a hash.
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM api_keys k WHERE k::text LIKE '%' || $1 || '%'`, [key]);
    expect(rows[0].n).toBe(0);
  });

  command('keys list', async () => {
    const name = user('klist');
    expectExit(await he(['users', 'create', name]), 0);
    const k = stdoutJson(expectExit(await he(['keys', 'create', '--user', name, '--label', 'watch', '--json']), 0));
    const r = expectExit(await he(['keys', 'list', '--user', name]), 0);
    expect(r.stdout).toContain(k.prefix);
    expect(r.stdout).toMatch(new RegExp(`${k.id}\\s+${name}\\s+\\S+\\s+watch`));
    expect(r.stdout).not.toContain(k.key);
  });

  command('keys revoke', async () => {
    const name = user('revoke');
    expectExit(await he(['users', 'create', name]), 0);
    const k = stdoutJson(expectExit(await he(['keys', 'create', '--user', name, '--json']), 0));
    expect(expectExit(await he(['keys', 'revoke', String(k.id)]), 0).stdout.trim()).toBe(`revoked key ${k.id}`);
    const list = stdoutJson(expectExit(await he(['keys', 'list', '--user', name, '--json']), 0));
    expect(list[0].revokedAt).not.toBeNull();
    const again = await he(['keys', 'revoke', String(k.id)]);
    expectExit(again, 1);
    expect(again.stderr).toMatch(`no active key with id ${k.id}`);
  });

  describe('migrations on their own database', () => {
    let fresh: TestDatabase;
    let fenv: Record<string, string>;
    beforeAll(async () => {
      fresh = await createTestDatabase();
      fenv = { DATABASE_URL: fresh.url };
    });
    afterAll(async () => fresh?.drop());

    command('migrate status', async () => {
      const r = expectExit(await he(['migrate', 'status'], { env: fenv }), 0);
      expect(r.stdout).toMatch(/0001/);
      const json = stdoutJson(expectExit(await he(['migrate', 'status', '--json'], { env: fenv }), 0));
      expect(json.length).toBeGreaterThan(1);
    });

    command('migrate up', async () => {
      const r = expectExit(await he(['migrate', 'up'], { env: fenv }), 0);
      expect(r.stdout).toMatch(/^(applied 0001_|schema is up to date)/);
      expect(expectExit(await he(['migrate', 'up'], { env: fenv }), 0).stdout).toMatch(/^schema is up to date \(version \d+\)/);
      const status = stdoutJson(expectExit(await he(['migrate', 'status', '--json'], { env: fenv }), 0));
      expect(status.every((m: { appliedAt: string | null }) => m.appliedAt)).toBe(true);
    });

    command('migrate down', async () => {
      expectExit(await he(['migrate', 'up'], { env: fenv }), 0);
      const r = expectExit(await he(['migrate', 'down', '--to', '1'], { env: fenv }), 0);
      expect(r.stdout).toMatch(/^reverted 0002_/m); // and every later one
      const status = stdoutJson(expectExit(await he(['migrate', 'status', '--json'], { env: fenv }), 0));
      expect(status.filter((m: { appliedAt: string | null }) => m.appliedAt).map((m: { version: number }) => m.version)).toEqual([1]);
      expectExit(await he(['migrate', 'up'], { env: fenv }), 0);
    });
  });

  command('partitions create', async () => {
    // Months after "now": the current month read before and after the run (the run may cross a month end).
    const month = () => new Date().toISOString().slice(0, 7);
    const before = month();
    const r = expectExit(await he(['partitions', 'create', '--months-ahead', '1']), 0);
    expect(r.stdout).toMatch(/^created \d+ partitions?$/m);
    const list = stdoutJson(expectExit(await he(['partitions', 'list', '--table', 'workouts', '--json']), 0));
    const months = list.map((p: { month: string }) => p.month);
    expect(months.includes(before) || months.includes(month())).toBe(true);
    expect(stdoutJson(expectExit(await he(['partitions', 'create', '--months-ahead', '1', '--json']), 0)).created).toBe(0);
  });

  command('partitions list', async () => {
    await db.pool.query(`SELECT healthexport_create_month_partitions('2004-02-01', '2004-02-01')`);
    const r = expectExit(await he(['partitions', 'list', '--table', 'heart_rate_metrics']), 0);
    expect(r.stdout).toMatch(/heart_rate_metrics\s+2004-02\s+\d+/);
    expect(r.stdout).not.toMatch(/workouts/);
  });

  command('partitions drop', async () => {
    await db.pool.query(`SELECT healthexport_create_month_partitions('2001-01-01', '2001-02-01')`);
    const months = async () =>
      stdoutJson(expectExit(await he(['partitions', 'list', '--table', 'sleep_metrics', '--json']), 0)).map((p: { month: string }) => p.month);
    expect(await months()).toEqual(expect.arrayContaining(['2001-01', '2001-02']));
    const refused = await he(['partitions', 'drop', '--older-than', '2001-02']);
    expectExit(refused, 1);
    expect(refused.stderr).toMatch(/--yes/);
    const r = expectExit(await he(['partitions', 'drop', '--older-than', '2001-02', '--yes']), 0);
    expect(r.stdout).toMatch(/^dropped [1-9]\d* partitions?$/m);
    expect(await months()).not.toContain('2001-01');
    expect(await months()).toContain('2001-02');
  });

  command('db info', async () => {
    const r = expectExit(await he(['db', 'info']), 0);
    expect(r.stdout).toMatch(/^database:\s+\S*he_test_\w+ \(server\)$/m);
    expect(r.stdout).toMatch(/^server:\s+PostgreSQL \d+/m);
    expect(r.stdout).toMatch(/^migrations: (\d+)\/\1 applied$/m);
  });

  command(
    'serve',
    async () => {
      const name = user('serve');
      expectExit(await he(['users', 'create', name]), 0);
      const key = stdoutJson(expectExit(await he(['keys', 'create', '--user', name, '--json']), 0)).key as string;
      const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--rate-limit', '0'], {
        env: cliEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<CliResult>((resolve) =>
        child.on('close', (code, signal) => resolve({ args: ['serve'], code, signal, stdout, stderr })),
      );
      try {
        const base = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d) => {
            stdout += d;
            const m = stdout.match(/listening on (http:\/\/\S+)/);
            if (m) resolve(m[1]);
          });
          child.on('close', () => reject(new Error(`serve exited before listening\n${stderr}`)));
        });
        expect((await request(base, '/health')).status).toBe(200);
        const body = steps([['2024-05-07 10:00:00 +0000', 1], ['2024-05-07 11:00:00 +0000', 2]]);
        const denied = await request(base, '/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body });
        expect(denied.status).toBe(401);
        const ok = await request(base, '/api/v1/ingest', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
        expect(ok.status, ok.text).toBe(200);
        expect(ok.json.totals).toMatchObject({ read: 2, inserted: 2 });
      } finally {
        child.kill('SIGTERM');
      }
      const end = await exited;
      expect(end.signal).toBeNull();
      expectExit(end, 0);
      expect(end.stderr).toMatch(/SIGTERM: finishing uploads in progress, then stopping/);
      expect(end.stderr).toMatch(/stopped/);
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM activity_metrics a JOIN users u ON u.id = a.user_id WHERE u.name = $1`,
        [name],
      );
      expect(rows[0].n).toBe(2);
    },
  );

  command('rollups rebuild', async () => {
    const name = user('rebuild');
    await importAs(name, steps([['2024-05-08 10:00:00 +0000', 4], ['2024-05-08 10:20:00 +0000', 6]]));
    const r = stdoutJson(expectExit(await he(['rollups', 'rebuild', '--user', name, '--json']), 0));
    expect(r).toEqual([expect.objectContaining({ user: name })]);
    expect(r[0].quarters).toBeGreaterThan(0);
  });

  command('rollups zones', async () => {
    const name = user('zones');
    await importAs(name, steps([['2024-05-09 10:00:00 +0000', 4]]));
    const add = expectExit(await he(['rollups', 'zones', 'add', '--user', name, 'Asia/Kolkata']), 0);
    expect(add.stdout).toMatch(`keeping days in Asia/Kolkata for ${name}`);
    expect(stdoutJson(expectExit(await he(['rollups', 'zones', 'list', '--user', name, '--json']), 0))).toContain('Asia/Kolkata');
    const removed = expectExit(await he(['rollups', 'zones', 'remove', '--user', name, 'Asia/Kolkata']), 0);
    expect(removed.stdout).toMatch(`no longer keeping days in Asia/Kolkata for ${name}`);
  });

  command('sources priority', async () => {
    const name = user('sources');
    expectExit(await he(['users', 'create', name]), 0);
    expect(expectExit(await he(['sources', 'priority', '--user', name]), 0).stdout).toMatch(/Watch > iPhone > other sources/);
    const set = stdoutJson(expectExit(await he(['sources', 'priority', '--user', name, 'iPhone,Watch', '--json']), 0));
    expect(set.priority).toEqual(['iPhone', 'Watch']);
  });

  command('db distribute', async () => {
    expect(expectExit(await he(['db', 'distribute', '--print']), 0).stdout).toMatch(/create_distributed_table\('\w+', 'user_id'/);
    // This PostgreSQL has no Citus: refused in one line, nothing changed.
    const r = await he(['db', 'distribute']);
    expectExit(r, 1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/citus/);
  });

  command('doctor', async () => {
    expectExit(await he(['partitions', 'create', '--months-ahead', '3']), 0);
    const r = expectExit(await he(['doctor', '--months-ahead', '2']), 0);
    expect(r.stdout).toMatch(/^ok {4}database {4}PostgreSQL/m);
    const down = await he(['doctor'], { env: { DATABASE_URL: 'postgres://x@127.0.0.1:1/none' } });
    expectExit(down, 75);
  });

  it('the README lists exactly the commands tested here, and --help lists each', async () => {
    const documented = readmeCommands(readFileSync(README, 'utf8'));
    expect(documented.length).toBeGreaterThan(10);
    expect([...new Set(documented)].sort()).toEqual([...covered].sort());
    const help = expectExit(await runCli(['--help']), 0).stdout;
    for (const top of new Set(documented.map((c) => c.split(' ')[0]))) expect(help).toMatch(new RegExp(`\\n  ${top}\\b`));
  });
});
