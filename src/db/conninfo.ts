/**
 * libpq's ways of naming a server, for people who use psql: keyword connection strings
 * (`host=db.local port=5432 dbname=health user=jane`) and connection services (`service=health`,
 * or PGSERVICE, looked up in pg_service.conf). node-postgres reads URLs and the PG* variables
 * itself but neither of these; here they become its settings.
 *
 * Precedence as in libpq: a keyword given in the string wins over the service's, which wins over
 * the PG* variables (pg applies those to whatever is still unset).
 *
 * Service files, first that has the service wins: $PGSERVICEFILE, else ~/.pg_service.conf; then
 * $PGSYSCONFDIR/pg_service.conf (default /etc/postgresql-common, where Debian's libpq looks).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'pg-connection-string';
import type pg from 'pg';
import { ConfigError } from '../errors.js';

export type Conninfo = Record<string, string>;

/** Whether `s` is a keyword string (`key=value ...`) rather than a URL. */
export function isKeywordString(s: string): boolean {
  return /^\s*[A-Za-z_]+\s*=/.test(s) && !/^[a-z]+:\/\//i.test(s);
}

/**
 * Parses `key=value` pairs separated by whitespace. A value may be single-quoted (then it may hold
 * spaces; `\'` and `\\` escape), as libpq allows. Example: `host=localhost dbname='my db'`.
 */
export function parseKeywordString(s: string): Conninfo {
  const out: Conninfo = {};
  let i = 0;
  const fail = (why: string) => new ConfigError(`connection string: ${why} at character ${i + 1} of "${s}"`);
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    const keyStart = i;
    while (i < s.length && /[A-Za-z0-9_]/.test(s[i])) i++;
    const key = s.slice(keyStart, i);
    while (i < s.length && /\s/.test(s[i])) i++;
    if (!key || s[i] !== '=') throw fail(`expected keyword=value`);
    i++;
    while (i < s.length && /\s/.test(s[i])) i++;
    let value = '';
    if (s[i] === "'") {
      i++;
      for (;;) {
        if (i >= s.length) throw fail('unterminated quoted value');
        if (s[i] === '\\' && i + 1 < s.length) {
          value += s[i + 1];
          i += 2;
        } else if (s[i] === "'") {
          i++;
          break;
        } else value += s[i++];
      }
    } else {
      while (i < s.length && !/\s/.test(s[i])) {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
    }
    out[key] = value;
  }
  return out;
}

function serviceFiles(): string[] {
  const files: string[] = [];
  if (process.env.PGSERVICEFILE) files.push(process.env.PGSERVICEFILE);
  else files.push(path.join(os.homedir(), '.pg_service.conf'));
  files.push(path.join(process.env.PGSYSCONFDIR || '/etc/postgresql-common', 'pg_service.conf'));
  return files;
}

/** The `[name]` section of an INI-style pg_service.conf, or null when the file lacks it. */
export function readService(file: string, name: string): Conninfo | null {
  if (!existsSync(file)) return null;
  let current: string | null = null;
  let found: Conninfo | null = null;
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((raw, n) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const section = /^\[(.+)\]$/.exec(line);
      if (section) {
        current = section[1].trim();
        if (current === name) found ??= {};
        return;
      }
      if (current !== name) return;
      const eq = line.indexOf('=');
      if (eq < 1) throw new ConfigError(`${file}:${n + 1}: expected keyword=value in service "${name}"`);
      found![line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    });
  return found;
}

/** The service's settings; a name in no file is an error that lists where it was looked for. */
export function lookupService(name: string): Conninfo {
  const files = serviceFiles();
  for (const f of files) {
    const s = readService(f, name);
    if (s) return s;
  }
  throw new ConfigError(`connection service "${name}" not found in ${files.join(' or ')} (PGSERVICEFILE names the file)`);
}

/** Keywords with the service (from `service=` or PGSERVICE) filled in underneath. */
export function withService(conninfo: Conninfo, envService = process.env.PGSERVICE): Conninfo {
  const name = conninfo.service ?? envService;
  if (!name) return conninfo;
  const { service: _, ...rest } = conninfo;
  return { ...lookupService(name), ...rest };
}

const KNOWN = ['host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'passfile', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'application_name', 'options', 'connect_timeout'];

/**
 * node-postgres settings from libpq keywords. Unset ones stay unset: pg then takes PGHOST,
 * PGUSER, ... as libpq would. A host starting with `/` is a socket directory (pg reads it so too);
 * sslmode and the ssl files go through pg's own URL parser, so they mean what they mean in a URL.
 */
export function conninfoToConfig(c: Conninfo): pg.ClientConfig {
  const unknown = Object.keys(c).filter((k) => !KNOWN.includes(k));
  if (unknown.length) throw new ConfigError(`connection string: unsupported keyword${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  const config: pg.ClientConfig = {};
  if (c.hostaddr || c.host) config.host = c.hostaddr || c.host;
  if (c.port) config.port = Number(c.port);
  if (c.dbname) config.database = c.dbname;
  if (c.user) config.user = c.user;
  if (c.password) config.password = c.password;
  if (c.application_name) config.application_name = c.application_name;
  if (c.options) config.options = c.options;
  if (c.connect_timeout) config.connectionTimeoutMillis = Number(c.connect_timeout) * 1000;
  const ssl = new URLSearchParams();
  for (const k of ['sslmode', 'sslcert', 'sslkey', 'sslrootcert']) if (c[k] !== undefined) ssl.set(k, c[k]);
  if ([...ssl.keys()].length) {
    const parsed = parse(`postgres://localhost/?${ssl.toString()}`);
    if (parsed.ssl !== undefined) config.ssl = parsed.ssl as pg.ClientConfig['ssl'];
  }
  return config;
}

/** What a keyword string or service points at, with any password left out, for messages. */
export function describeConninfo(c: Conninfo, service?: string): string {
  const where = `${c.user ? `${c.user}@` : ''}${c.hostaddr || c.host || process.env.PGHOST || 'localhost'}:${c.port || process.env.PGPORT || 5432}/${c.dbname || process.env.PGDATABASE || ''}`;
  return service ? `service ${service} (${where})` : where;
}
