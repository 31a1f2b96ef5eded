/**
 * The HTTP server behind `healthexport serve` (node:http, no framework): routing, request
 * metrics and a graceful lifecycle. The upload route itself is ./ingest.ts.
 *
 *   POST /api/v1/ingest   an HAE envelope, imported (see ./ingest.ts for the status codes)
 *   POST /api/data        the same, at the path of the official Health Auto Export server (so an
 *                         app automation set up for that server works after changing only the key)
 *   GET  /health          200 while the process runs (liveness)
 *   GET  /ready           200 when PostgreSQL answers SELECT 1 within a short time, else 503
 *   GET  /metrics         Prometheus text format (the shared prom-client registry)
 *
 * Every error response is JSON with an `error` string. Every request is counted in
 * healthexport_http_requests_total / _duration_seconds by route template.
 *
 * close(): stop accepting connections, let in-flight requests finish (each answered with
 * `Connection: close`), then close idle connections, the Redis client and the timers. The pool
 * belongs to the caller and is not closed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Cache } from '../cache/cache.js';
import { errorMessage } from '../errors.js';
import { observeHttpRequest, recordError, refreshBusinessGauges, renderMetrics, trackPool } from '../metrics/registry.js';
import { discardRest } from './body.js';
import { HttpError, remoteOf, sendJson, withTimeout } from './http-util.js';
import { ingest, type IngestContext } from './ingest.js';
import { RateLimiter } from './rate-limit.js';
import { Slots } from './slots.js';

/** Default body limit: 256 MiB of JSON (after decompression). See createServer's options. */
export const DEFAULT_BODY_LIMIT = 256 * 1024 * 1024;

export interface ServerOptions {
  pool: pg.Pool;
  /**
   * Largest accepted body, in bytes of JSON after decompression (the bytes on the wire are held
   * to the same limit). Default 256 MiB: the app's REST automation sends the recent interval
   * (days to weeks: kB to tens of MB); whole multi-GB exports belong to `healthexport import`.
   */
  bodyLimitBytes?: number;
  /** Requests per minute per API key (0: no limit). Default 60. */
  rateLimitPerMinute?: number;
  /** Rate-limit window, default 60 000 ms (rateLimitPerMinute is per window). */
  rateLimitWindowMs?: number;
  /** Redis for the shared rate-limit counters; without it they are per process. */
  redisUrl?: string;
  /** Or a ready limiter (tests); then redisUrl/rateLimit* are ignored and close() leaves it open. */
  rateLimiter?: RateLimiter;
  /** Namespace of the Redis keys, default `healthexport:v1`. */
  redisNamespace?: string;
  /** Tables written in parallel by one import (connections per import). Default 2. */
  concurrency?: number;
  /** Imports running at once; more wait for a slot (their bodies are not read meanwhile). Default 4. */
  maxConcurrentImports?: number;
  /** Requests allowed to wait for an import slot before 503. Default 64. */
  maxQueuedImports?: number;
  /** Uploads one API key may have in progress at once (more: 429). Default 2. */
  maxUploadsPerKey?: number;
  /** A body with no new byte for this long is cut off with 408. Default 30 s. */
  bodyIdleTimeoutMs?: number;
  /**
   * Bytes of each body read before it may take an import slot (all of a body smaller than this).
   * Slow clients wait with at most this much buffered, never in a slot. Default 1 MiB.
   */
  prefetchBytes?: number;
  /**
   * Longest single element (datapoint, workout; in Apple XML a Record or Workout with its
   * children) of an upload read whole: a 400 beyond it. The app's uploads hold days to weeks;
   * a 10-hour workout route is ~5 MB. Default 16 MiB.
   */
  maxElementBytes?: number;
  batchRows?: number;
  /** Time limit of the /ready probe. Default 2000 ms. */
  readyTimeoutMs?: number;
  /** close(): how long in-flight requests may take before their connections are cut. Default 60 s. */
  shutdownTimeoutMs?: number;
  /** Time limit for receiving one whole request (node's requestTimeout). Default 30 min. */
  requestTimeoutMs?: number;
  /** Refresh the business gauges (users, rows per table) this often; 0 disables. Default 60 s. */
  businessGaugesIntervalS?: number;
  /**
   * The summaries cache (src/cache): after each upload the user's touched summaries are
   * invalidated, as `import` does. Not closed by close().
   */
  cache?: Cache;
  /** Successful key verifications are trusted this long without a new scrypt. Default 60 s. */
  keyCacheTtlMs?: number;
  /** One line per ingest and warnings. Default: warnings to stderr, no access log. */
  log?: (line: string) => void;
  accessLog?: boolean;
  /** Called once per request when it is answered (or the client left): for the request log. */
  onRequest?: (r: RequestRecord) => void;
}

/** What the request log says about one request. */
export interface RequestRecord {
  method: string;
  path: string;
  /** The route template, or `unmatched`. */
  route: string;
  status: number;
  durationMs: number;
  remote: string;
}

export interface HealthServer {
  server: http.Server;
  rateLimiter: RateLimiter;
  /** Listen and resolve with the address (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Graceful: stop accepting, finish in-flight requests, then release everything. */
  close(): Promise<void>;
}

const ROUTES: Record<string, string[]> = {
  '/api/v1/ingest': ['POST'],
  '/api/data': ['POST'],
  '/health': ['GET', 'HEAD'],
  '/ready': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
};

export function createServer(opts: ServerOptions): HealthServer {
  const pool = opts.pool;
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 2000;
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 60_000;
  const log = opts.log ?? ((line: string) => console.error(line));
  const ownsLimiter = !opts.rateLimiter;
  const rateLimiter =
    opts.rateLimiter ??
    new RateLimiter({
      limit: opts.rateLimitPerMinute ?? 60,
      windowMs: opts.rateLimitWindowMs,
      redisUrl: opts.redisUrl,
      namespace: opts.redisNamespace,
      log,
    });
  const slots = new Slots(opts.maxConcurrentImports ?? 4, opts.maxQueuedImports ?? 64);
  const knownPartitions = new Set<string>();
  let stopping = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const untrackPool = trackPool(pool);

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    sendJson(res, status, body, stopping ? { Connection: 'close', ...headers } : headers);

  const ingestContext: IngestContext = {
    pool,
    bodyLimit,
    rateLimiter,
    slots,
    knownPartitions,
    concurrency: opts.concurrency ?? 2,
    batchRows: opts.batchRows,
    keyCacheTtlMs: opts.keyCacheTtlMs,
    cache: opts.cache,
    readyTimeoutMs,
    uploadsByKey: new Map(),
    maxUploadsPerKey: opts.maxUploadsPerKey ?? 2,
    bodyIdleTimeoutMs: opts.bodyIdleTimeoutMs ?? 30_000,
    prefetchBytes: opts.prefetchBytes ?? 1 << 20,
    maxElementBytes: opts.maxElementBytes ?? 16 << 20,
    accessLog: !!opts.accessLog,
    log,
    send,
  };

  async function ready(res: http.ServerResponse): Promise<number> {
    try {
      await withTimeout(pool.query('SELECT 1'), readyTimeoutMs, 'database check');
      send(res, 200, { status: 'ready', database: 'ok' });
      return 200;
    } catch (err) {
      send(res, 503, { error: `database unavailable: ${errorMessage(err)}`, status: 'not ready' });
      return 503;
    }
  }

  async function metrics(res: http.ServerResponse): Promise<number> {
    const m = await renderMetrics();
    res.writeHead(200, {
      'Content-Type': m.contentType,
      'Content-Length': String(Buffer.byteLength(m.body)),
      ...(stopping ? { Connection: 'close' } : {}),
    });
    res.end(m.body);
    return 200;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): Promise<void> {
    const started = process.hrtime.bigint();
    const method = (req.method ?? 'GET').toUpperCase();
    const path = (req.url ?? '/').split('?')[0];
    const allowed = ROUTES[path];
    const route = allowed ? path : 'unmatched';
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0 && idle) idle();
    });
    let status = 500;
    try {
      if (!allowed) throw new HttpError(404, `no such endpoint: ${method} ${path} (POST /api/v1/ingest or /api/data, GET /health, /ready, /metrics)`);
      if (!allowed.includes(method)) {
        throw new HttpError(405, `method ${method} not allowed on ${path} (use ${allowed[0]})`, {}, { Allow: allowed.join(', ') });
      }
      if (path === '/api/v1/ingest' || path === '/api/data') status = await ingest(ingestContext, req, res, expectsContinue);
      else if (path === '/health') {
        send(res, 200, { status: 'ok' });
        status = 200;
      } else if (path === '/ready') status = await ready(res);
      else status = await metrics(res);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, `internal error: ${errorMessage(err)}`);
      status = e.status;
      if (status >= 500) recordError('http');
      if (status === 500 && !(err instanceof HttpError)) log(`healthexport: ${method} ${path}: ${(err as Error)?.stack ?? err}`);
      const headers = { ...e.headers };
      if (expectsContinue && !req.complete) headers.Connection = 'close'; // the client holds its body back
      send(res, status, { error: e.message, ...e.extra }, headers);
      if (!expectsContinue) discardRest(req);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      observeHttpRequest(route, method, status, seconds);
      opts.onRequest?.({ method, path, route, status, durationMs: Math.round(seconds * 1000), remote: remoteOf(req) });
    }
  }

  const server = http.createServer({ requestTimeout: opts.requestTimeoutMs ?? 30 * 60_000, headersTimeout: 60_000 });
  server.on('request', (req, res) => void handle(req, res, false));
  // Expect: 100-continue: check the key, limits and headers before asking for the body.
  server.on('checkContinue', (req, res) => void handle(req, res, true));
  server.on('clientError', (err, socket) => {
    if (socket.writable) {
      const text = JSON.stringify({ error: `bad request: ${(err as Error).message}` });
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    } else socket.destroy();
  });

  let gaugeTimer: NodeJS.Timeout | undefined;
  const gaugesEvery = opts.businessGaugesIntervalS ?? 60;
  if (gaugesEvery > 0) {
    const refresh = () => void refreshBusinessGauges((sql) => pool.query(sql)).catch(() => {});
    refresh();
    gaugeTimer = setInterval(refresh, gaugesEvery * 1000);
    gaugeTimer.unref();
  }

  let closing: Promise<void> | null = null;
  return {
    server,
    rateLimiter,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      closing ??= (async () => {
        stopping = true;
        clearInterval(gaugeTimer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          const drained = new Promise<void>((resolve) => (idle = resolve));
          const timer = setTimeout(() => server.closeAllConnections(), shutdownTimeoutMs);
          await drained;
          clearTimeout(timer);
        }
        server.closeIdleConnections();
        const hard = setTimeout(() => server.closeAllConnections(), 2000);
        await closed;
        clearTimeout(hard);
        if (ownsLimiter) await rateLimiter.close();
        untrackPool();
      })();
      return closing;
    },
  };
}
