/**
 * libpq keyword strings and connection services (pg_service.conf via PGSERVICEFILE), parsed here
 * and used for real: the binary connects to the test server through each of them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conninfoToConfig, parseKeywordString, withService } from '../../src/db/conninfo.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

describe('keyword connection strings', () => {
  it('parses keyword=value pairs, quoted values with spaces and escapes', () => {
    expect(parseKeywordString(`host=db.local  port = 5433 dbname='my db' user=jane password='it\\'s' application_name=x\\ y`)).toEqual({
      host: 'db.local',
      port: '5433',
      dbname: 'my db',
      user: 'jane',
      password: "it's",
      application_name: 'x y',
    });
  });

  it('refuses what libpq refuses, saying where', () => {
    expect(() => parseKeywordString('host=a dbname')).toThrow(/expected keyword=value at character/);
    expect(() => parseKeywordString("dbname='open")).toThrow(/unterminated quoted value/);
    expect(() => conninfoToConfig({ host: 'a', frobnicate: '1' })).toThrow(/unsupported keyword frobnicate/);
  });

  it('becomes node-postgres settings: sockets, unset parts left to PG*, sslmode as in a URL', () => {
    expect(conninfoToConfig({ host: '/var/run/postgresql', dbname: 'health', user: 'jane' })).toEqual({
      host: '/var/run/postgresql',
      database: 'health',
      user: 'jane',
    });
    expect(conninfoToConfig({ hostaddr: '::1', host: 'ignored', port: '5433', sslmode: 'disable' })).toEqual({ host: '::1', port: 5433, ssl: false });
    expect(conninfoToConfig({ dbname: 'x', sslmode: 'require' }).ssl).toBeTruthy();
  });
});

describe('connecting through keywords and services', () => {
  let db: TestDatabase;
  let dir: string;
  let keywords: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    const u = new URL(db.url);
    const dbname = u.pathname.slice(1);
    keywords = `host=${u.hostname} port=${u.port || 5432} dbname=${dbname} user=${decodeURIComponent(u.username)}`;
    if (u.password) keywords += ` password='${decodeURIComponent(u.password)}'`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'healthexport-service-'));
    const file = path.join(dir, 'pg_service.conf');
    await writeFile(
      file,
      ['# services for the tests', '[he_other]', 'dbname=postgres', '', '[he_test]', ...keywords.split(' ').map((kv) => kv.replace(/'/g, '')), ''].join('\n'),
    );
    env = { PGSERVICEFILE: file, PGSYSCONFDIR: dir };
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dbName = () => new URL(db.url).pathname.slice(1);

  it('a keyword string in --database-url and in DATABASE_URL', async () => {
    const a = await runCli(['db', 'info', '--json', '--database-url', keywords]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).database).toContain(`/${dbName()}`);
    expect(JSON.parse(a.stdout).kind).toBe('server');
    const b = await runCli(['db', 'info', '--json'], { env: { DATABASE_URL: keywords } });
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).database).toContain(`/${dbName()}`);
  });

  it('PGSERVICE with PGSERVICEFILE, and service= in a keyword string', async () => {
    const a = await runCli(['db', 'info', '--json'], { env: { ...env, PGSERVICE: 'he_test' } });
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).database).toMatch(new RegExp(`^service he_test \\(.*/${dbName()}\\)$`));
    // A keyword given with the service wins over the service's own.
    const b = await runCli(['db', 'info', '--json', '--database-url', `service=he_test dbname=${dbName()}`], { env });
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).database).toContain(`/${dbName()}`);
  });

  it('a service no file has is a configuration error that names the files', async () => {
    const r = await runCli(['summary'], { env: { ...env, PGSERVICE: 'he_missing' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/connection service "he_missing" not found in .*pg_service\.conf/);
  });

  it('withService fills in underneath what the string gives', () => {
    process.env.PGSERVICEFILE = env.PGSERVICEFILE;
    try {
      expect(withService({ service: 'he_other', user: 'x' })).toEqual({ dbname: 'postgres', user: 'x' });
    } finally {
      delete process.env.PGSERVICEFILE;
    }
  });
});
