/**
 * The HTTP server behind `healthexport serve` (node:http, no framework).
 *
 *   POST /api/v1/ingest   an HAE envelope (JSON, optionally gzip/deflate), streamed through the
 *                         same import pipeline as files; answers with the import summary
 *   GET  /health          200 while the process runs (liveness)
 *   GET  /ready           200 when PostgreSQL answers SELECT 1 within a short time, else 503
 *   GET  /metrics         Prometheus text format (the shared prom-client registry)
 *
 * Ingest, in order: API key (Authorization: Bearer <key> or X-API-Key: <key>; 401) -> per-key
 * rate limit (429 + Retry-After) -> Content-Type (application/json, or application/gzip for a
 * gzip body; else 415) -> Content-Encoding (gzip, x-gzip, deflate, identity; else 415) ->
 * declared Content-Length over the limit (413 before reading anything) -> import.
 * Nothing touches the database before the import starts, so refused requests store nothing.
 *
 * Status codes of an import:
 *   200  status ok or partial (some records rejected: the body says which and why). The Health
 *        Auto Export app retries any non-2xx, and re-sending records that were rejected for their
 *        content would not help, so "partial" is a success at the HTTP level.
 *   400  the body is not JSON / not an HAE export / truncated: { error, offset, summary }.
 *   413  the body went over the limit: { error, limit, summary? }.
 *   503  the database is unreachable (Retry-After: 5); 500 for anything else.
 * Batches commit as they go (design notes): when an input breaks half-way, what was complete
 * before the break is stored, and the error response carries the summary that says so (its
 * tables/totals; status "failed"; the raw_ingestions row records the same). Requests refused
 * before the import (401, 415, 429, declared 413) store nothing.
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
import { verifyApiKey, type VerifiedKey } from '../auth/api-keys.js';
import type { Cache } from '../cache/cache.js';
import { afterImport } from '../cache/warm.js';
import { errorMessage } from '../errors.js';
import { importSource } from '../import/run-import.js';
import type { ImportSummary } from '../import/summary.js';
import { metricsObserver, recordImportMetrics } from '../import/record-metrics.js';
import { observeHttpRequest, recordError, refreshBusinessGauges, renderMetrics, trackPool } from '../metrics/registry.js';
import { discardRest, requestBody, type BodyEncoding } from './body.js';
import { RateLimiter } from './rate-limit.js';

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
  '/health': ['GET', 'HEAD'],
  '/ready': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Errors meaning "the database cannot be reached right now" (answered 503, worth a retry). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  const code = e?.code ?? '';
  if (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300', '3D000'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  return /pool after calling end|Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error/i.test(
    e?.message ?? '',
  );
}

/** A counting semaphore with a bounded queue. */
class Slots {
  private free: number;
  private readonly queue: (() => void)[] = [];
  constructor(
    n: number,
    private readonly maxQueue: number,
  ) {
    this.free = n;
  }
  /** Resolves with a release function, or null when the queue is full. */
  async acquire(): Promise<(() => void) | null> {
    if (this.free > 0) this.free--;
    else {
      if (this.queue.length >= this.maxQueue) return null;
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    };
  }
}

function parseMediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

function presentedKey(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = req.headers['x-api-key'];
  const v = Array.isArray(x) ? x[0] : x;
  return v && v.trim() ? v.trim() : null;
}

function remoteOf(req: http.IncomingMessage): string {
  const s = req.socket;
  const addr = s.remoteAddress ?? 'unknown';
  return addr.includes(':') ? `[${addr}]:${s.remotePort}` : `${addr}:${s.remotePort}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

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

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-store',
      ...(stopping ? { Connection: 'close' } : {}),
      ...headers,
    });
    res.end(text);
  };

  const dbAnswers = async (): Promise<boolean> => {
    try {
      await withTimeout(pool.query('SELECT 1'), Math.min(readyTimeoutMs, 1000), 'database probe');
      return true;
    } catch {
      return false;
    }
  };

  // ---- routes ---------------------------------------------------------------------------------

  async function ingest(req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): Promise<number> {
    const key = presentedKey(req);
    const unauthorized = { 'WWW-Authenticate': 'Bearer realm="healthexport"' };
    if (!key) {
      throw new HttpError(401, 'missing API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"', {}, unauthorized);
    }
    let who: VerifiedKey | null;
    try {
      who = await verifyApiKey(pool, key, { cacheTtlMs: opts.keyCacheTtlMs });
    } catch (err) {
      throw dbError(err);
    }
    if (!who) throw new HttpError(401, 'invalid or revoked API key', {}, unauthorized);

    const rl = await rateLimiter.check(who.keyId);
    const rlHeaders: Record<string, string> =
      rl.backend === 'off' ? {} : { 'X-RateLimit-Limit': String(rl.limit), 'X-RateLimit-Remaining': String(rl.remaining) };
    if (!rl.allowed) {
      throw new HttpError(
        429,
        `rate limit exceeded: at most ${rl.limit} requests per ${Math.round(rateLimiter.windowMs / 1000)} s per API key; retry in ${rl.retryAfterS} s`,
        { retryAfter: rl.retryAfterS },
        { ...rlHeaders, 'Retry-After': String(rl.retryAfterS) },
      );
    }

    const type = parseMediaType(req.headers['content-type']);
    let encoding: BodyEncoding;
    const ce = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (ce === 'gzip' || ce === 'x-gzip') encoding = 'gzip';
    else if (ce === 'deflate') encoding = 'deflate';
    else if (ce === 'identity' || ce === '') encoding = 'identity';
    else throw new HttpError(415, `unsupported Content-Encoding "${ce}": send gzip, deflate or none`, {}, rlHeaders);
    if (type === 'application/gzip' || type === 'application/x-gzip') {
      if (encoding === 'identity') encoding = 'gzip';
    } else if (type !== 'application/json') {
      throw new HttpError(
        415,
        `unsupported Content-Type "${type || '(none)'}": send the Health Auto Export JSON as application/json (optionally with Content-Encoding: gzip)`,
        {},
        rlHeaders,
      );
    }

    const declared = Number(req.headers['content-length']);
    if (req.headers['content-length'] !== undefined && Number.isFinite(declared) && declared > bodyLimit) {
      throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${bodyLimit} bytes`, { limit: bodyLimit }, rlHeaders);
    }

    const release = await slots.acquire();
    if (!release) throw new HttpError(503, 'too many uploads in progress; retry later', {}, { ...rlHeaders, 'Retry-After': '5' });
    let summary: ImportSummary;
    const body = requestBody(req, { name: `http:${remoteOf(req)}`, limitBytes: bodyLimit, encoding });
    try {
      if (expectsContinue) res.writeContinue();
      try {
        summary = await importSource(body.source, {
          pool,
          user: who.userName,
          concurrency: opts.concurrency ?? 2,
          batchRows: opts.batchRows,
          knownPartitions,
          observer: metricsObserver,
        });
      } catch (err) {
        // Only the bookkeeping around the run throws (user, raw_ingestions): the database.
        throw dbError(err);
      }
    } finally {
      release();
    }

    recordImportMetrics(summary);
    if (opts.cache?.enabled) {
      // Summaries people read must not show what this upload just changed (failed runs included:
      // they may have committed batches). A cache failure is the cache's business, not the upload's.
      await afterImport(pool, opts.cache, who.userId, summary, false).catch(() => {});
    }
    if (opts.accessLog) {
      log(`ingest user=${who.userName} key=${who.keyId} ${summary.status} ${summary.bytes} B ${summary.totals.read} records ${summary.durationMs} ms`);
    }

    if (summary.status !== 'failed') {
      send(res, 200, summary, rlHeaders);
      return 200;
    }
    if (!req.complete && (req.destroyed || res.destroyed || req.socket.destroyed)) {
      // The client went away mid-upload: nobody to answer. The run is recorded as failed (with
      // what it committed) in raw_ingestions; 499 (nginx's "client closed request") in metrics.
      recordError('io');
      if (opts.accessLog) log(`ingest user=${who.userName}: client disconnected after ${body.wireBytes} bytes`);
      return 499;
    }
    if (body.tooLarge) {
      discardRest(req);
      send(res, 413, { error: `request body exceeds the limit of ${bodyLimit} bytes`, limit: bodyLimit, summary }, rlHeaders);
      return 413;
    }
    if (summary.errorOffset !== null) {
      recordError('parse');
      discardRest(req);
      send(res, 400, { error: summary.error, offset: summary.errorOffset, summary }, rlHeaders);
      return 400;
    }
    // Writing failed: tell "database down" (503, retry later) from anything else (500).
    discardRest(req);
    recordError('db');
    if (await dbAnswers()) {
      send(res, 500, { error: summary.error ?? 'import failed', summary }, rlHeaders);
      return 500;
    }
    send(res, 503, { error: `database unavailable: ${summary.error ?? 'import failed'}`, summary }, { ...rlHeaders, 'Retry-After': '5' });
    return 503;
  }

  function dbError(err: unknown): HttpError {
    if (isDatabaseUnavailable(err)) {
      recordError('db');
      return new HttpError(503, `database unavailable: ${errorMessage(err)}`, {}, { 'Retry-After': '5' });
    }
    return new HttpError(500, `internal error: ${errorMessage(err)}`);
  }

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
      if (!allowed) throw new HttpError(404, `no such endpoint: ${method} ${path} (POST /api/v1/ingest, GET /health, /ready, /metrics)`);
      if (!allowed.includes(method)) {
        throw new HttpError(405, `method ${method} not allowed on ${path} (use ${allowed[0]})`, {}, { Allow: allowed.join(', ') });
      }
      if (path === '/api/v1/ingest') status = await ingest(req, res, expectsContinue);
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
