/**
 * Through the binary: commands that only read never migrate (they say the schema is behind and
 * which command applies it), import / migrate up do; a database that cannot be reached exits 75
 * (EX_TEMPFAIL), distinct from usage and configuration errors (1).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { runCli, type CliResult } from '../support/cli.js';
import { adminUrl, createTestDatabase, type TestDatabase } from '../support/db.js';

const SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/sample-export.json');
const READ_ONLY = [['summary'], ['rejects', 'list'], ['partitions', 'list'], ['users', 'list'], ['keys', 'list']];

/** The exit code, with stderr in the failure message when it is not the expected one. */
function exitOf(r: CliResult): string {
  return `exit ${r.code}: ${r.stderr.trim()}`;
}

async function schemaVersion(db: TestDatabase): Promise<number | null> {
  const { rows } = await db.pool.query(`SELECT to_regclass('healthexport_migrations') IS NOT NULL AS ok`);
  if (!rows[0].ok) return null;
  return (await db.pool.query(`SELECT coalesce(max(version), 0) AS v FROM healthexport_migrations`)).rows[0].v;
}

describe('read-only commands and the schema', () => {
  let fresh: TestDatabase;
  let behind: TestDatabase;
  beforeAll(async () => {
    [fresh, behind] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => Promise.all([fresh?.drop(), behind?.drop()]));

  it.each(READ_ONLY.map((a) => [a.join(' '), a]))('%s on an empty database says to run migrate up, exits 1, and creates nothing', async (_, args) => {
    const r = await runCli([...args, '--database-url', fresh.url]);
    expect(exitOf(r)).toMatch(/^exit 1: /);
    expect(r.stderr).toMatch(/no healthexport schema yet: run `healthexport migrate up`/);
    expect(await schemaVersion(fresh)).toBeNull();
  });

  it('db info on an empty database reports the schema behind, without migrating', async () => {
    const r = await runCli(['db', 'info', '--database-url', fresh.url]);
    expect(exitOf(r)).toBe('exit 0: ');
    expect(r.stdout).toMatch(/migrations: 0\/\d+ applied \(schema behind: run `healthexport migrate up`\)/);
    expect(await schemaVersion(fresh)).toBeNull();
  });

  it('a schema one migration behind is named with its version and left as it is', async () => {
    const up1 = await runCli(['migrate', 'up', '--to', '1', '--database-url', behind.url]);
    expect(exitOf(up1)).toMatch(/^exit 0/);
    const r = await runCli(['summary', '--database-url', behind.url]);
    expect(exitOf(r)).toMatch(/^exit 1: /);
    expect(r.stderr).toMatch(/schema is behind this version of healthexport \(1 of \d+ migrations applied\): run `healthexport migrate up`/);
    expect(await schemaVersion(behind)).toBe(1);
  });

  it('import applies the migrations itself; then the read-only commands run', async () => {
    const imp = await runCli(['import', SAMPLE, '--user', 'jane', '--database-url', behind.url]);
    expect(exitOf(imp)).toMatch(/^exit 0/);
    expect(await schemaVersion(behind)).toBeGreaterThan(1);
    for (const args of READ_ONLY) {
      const r = await runCli([...args, ...(args[0] === 'summary' ? ['--user', 'jane'] : []), '--database-url', behind.url]);
      expect(exitOf(r), args.join(' ')).toMatch(/^exit 0/);
    }
  });
});

describe('exit 75 when the database cannot be reached', () => {
  let down: string;
  beforeAll(async () => {
    // A port nothing listens on: connection refused, as when the server is stopped.
    down = `postgres://postgres@127.0.0.1:${await freePort()}/healthexport`;
  });

  it.each([
    [['import', SAMPLE]],
    [['summary']],
    [['migrate', 'up']],
    [['db', 'info']],
    [['partitions', 'create']],
    [['serve', '--port', '0']],
  ])('%j exits 75 with one line', async (args) => {
    const r = await runCli([...args, '--database-url', down]);
    expect(exitOf(r)).toMatch(/^exit 75: /);
    expect(r.stderr).toMatch(/cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/healthexport: .*ECONNREFUSED/);
  });

  it('DATABASE_URL reaches the same code', async () => {
    const r = await runCli(['summary'], { env: { DATABASE_URL: down } });
    expect(exitOf(r)).toMatch(/^exit 75: /);
  });

  it('a database that does not exist, a bad URL and a bad flag stay 1: no retry fixes them', async () => {
    const admin = new URL(adminUrl());
    admin.pathname = '/he_no_such_database_ever';
    const missing = await runCli(['summary', '--database-url', admin.toString()]);
    expect(exitOf(missing)).toMatch(/^exit 1: [\s\S]*does not exist/);
    const badUrl = await runCli(['summary', '--database-url', 'mysql://x/y']);
    expect(exitOf(badUrl)).toMatch(/^exit 1: /);
    const badFlag = await runCli(['summary', '--no-such-flag']);
    expect(exitOf(badFlag)).toMatch(/^exit 1: /);
  });
});
