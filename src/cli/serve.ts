import { Command } from 'commander';
import { openCache } from '../cache/cache.js';
import { ConfigError } from '../errors.js';
import { SERVE_JOB, startPeriodicPush, type PeriodicPush } from '../metrics/push.js';
import { addDbOptions, withDatabase, type DbOptions } from './context.js';
import { log } from './log.js';

interface ServeFlags extends DbOptions {
  port: number;
  host: string;
  bodyLimit: number;
  rateLimit: number;
  redisUrl?: string;
  pushgateway?: string;
  pushInterval: number;
  concurrency: number;
  maxImports: number;
  accessLog?: boolean;
}

/** `256MB`, `1GB`, `512KiB`, `1048576` -> bytes (binary multiples: 1 MB = 1024 * 1024 B). */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new ConfigError(`--body-limit: bad size "${text}" (examples: 64MB, 1GB, 1048576)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 1) throw new ConfigError(`--body-limit must be at least 1 byte, got "${text}"`);
  return n;
}

function wholeNumber(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be a whole number >= ${min}, got "${v}"`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw new ConfigError(`${name} must be a positive number, got "${v}"`);
    return n;
  };
}

export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('HTTP endpoint for the Health Auto Export app\'s REST automation (POST /api/v1/ingest)')
    .option('--port <n>', 'TCP port (0: any free port)', wholeNumber('--port', 0), 8080)
    .option('--host <addr>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--body-limit <size>', 'largest accepted body, JSON bytes after decompression', parseByteSize, 256 * 1024 ** 2)
    .option('--rate-limit <n>', 'requests per minute per API key (0: no limit)', wholeNumber('--rate-limit', 0), 60)
    .option('--redis-url <url>', 'Redis for the rate-limit counters and the summaries cache (default: $REDIS_URL; without: per-process limit, no cache)')
    .option('--pushgateway <url>', 'push metrics to this Prometheus Pushgateway (default: $PUSHGATEWAY_URL)')
    .option('--push-interval <s>', 'seconds between pushes', positiveNumber('--push-interval'), 15)
    .option('--concurrency <n>', 'tables written in parallel by one upload', wholeNumber('--concurrency', 1), 2)
    .option('--max-imports <n>', 'uploads imported at once (more wait)', wholeNumber('--max-imports', 1), 4)
    .option('--access-log', 'print one line per upload to stderr')
    .addHelpText(
      'after',
      `
Endpoints:
  POST /api/v1/ingest   the app's JSON (gzip accepted), with "Authorization: Bearer <key>",
                        "X-API-Key: <key>" or "api-key: <key>" (create one: healthexport keys
                        create --user NAME)
  POST /api/data        the same, where the official Health Auto Export server takes it
  GET  /health          liveness
  GET  /ready           200 when the database answers, else 503
  GET  /metrics         Prometheus metrics

SIGINT/SIGTERM stop accepting connections, finish the uploads in progress, then exit.

Examples:
  $ healthexport users create jane && healthexport keys create --user jane --label iphone
  $ DATABASE_URL=postgres://localhost/health healthexport serve --port 8080 --redis-url redis://127.0.0.1:6379
  $ curl -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
         --data-binary @export.json http://127.0.0.1:8080/api/v1/ingest`,
    );
  addDbOptions(cmd).action(async (o: ServeFlags) => {
    const pushUrl = o.pushgateway ?? process.env.PUSHGATEWAY_URL;
    const redisUrl = o.redisUrl ?? process.env.REDIS_URL;
    // Per upload: one connection for the run's bookkeeping + `concurrency` writers; plus /ready.
    const poolMax = o.maxImports * (o.concurrency + 1) + 2;
    await withDatabase(
      o,
      async (db) => {
        // The summaries cache (same Redis): each upload invalidates what it changed, as import does.
        const cache = openCache(redisUrl);
        // The server (and the Redis client of its rate limits) is loaded only for `serve`.
        const { createServer } = await import('../server/app.js');
        const app = createServer({
          pool: db.pool,
          cache,
          bodyLimitBytes: o.bodyLimit,
          rateLimitPerMinute: o.rateLimit,
          redisUrl,
          concurrency: o.concurrency,
          maxConcurrentImports: o.maxImports,
          accessLog: o.accessLog,
          log: (line) => log.info(line.replace(/^healthexport: /, '')),
          // Every request, with its outcome and duration (info: --quiet hides them).
          onRequest: (r) => log.info('request', { ...r }),
        });
        if (!redisUrl && o.rateLimit > 0) {
          log.info('no --redis-url / REDIS_URL: the rate limit is counted per process');
        }
        const addr = await app.listen(o.port, o.host);
        const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        console.log(`healthexport serve listening on http://${host}:${addr.port} (${db.description})`);
        log.event('listening', { url: `http://${host}:${addr.port}`, database: db.description });

        let push: PeriodicPush | undefined;
        if (pushUrl) {
          push = startPeriodicPush({
            url: pushUrl,
            job: SERVE_JOB,
            intervalS: o.pushInterval,
            onResult: (r) => {
              if (!r.ok) log.warn(r.error ?? 'metrics push failed');
            },
          });
        }

        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            process.off('SIGINT', onInt);
            process.off('SIGTERM', onTerm);
            log.info(`${signal}: finishing uploads in progress, then stopping`, { signal });
            resolve();
          };
          const onInt = () => stop('SIGINT');
          const onTerm = () => stop('SIGTERM');
          process.on('SIGINT', onInt);
          process.on('SIGTERM', onTerm);
        });
        await app.close();
        await cache.close();
        await push?.stop();
        log.info('stopped');
      },
      { poolMax },
    );
  });
  return cmd;
}
