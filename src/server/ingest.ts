/**
 * POST /api/v1/ingest (and /api/data, the official HAE server's path): an HAE envelope (JSON, optionally gzip/deflate) streamed through the same
 * import pipeline as files, answered with the import summary.
 *
 * In order: API key (Authorization: Bearer <key>, X-API-Key: <key>, or api-key: <key> as the
 * official HAE server takes it; 401) -> per-key rate limit
 * (429 + Retry-After) -> Content-Type (application/json, or application/gzip for a gzip body;
 * else 415) -> Content-Encoding (gzip, x-gzip, deflate, identity; else 415) -> declared
 * Content-Length over the limit (413 before reading anything) -> an import slot (503 when too
 * many wait) -> import. Nothing touches the database before the import starts, so refused
 * requests store nothing.
 *
 * Status codes of an import:
 *   200  status ok or partial (some records rejected: the body says which and why). The Health
 *        Auto Export app retries any non-2xx, and re-sending records that were rejected for their
 *        content would not help, so "partial" is a success at the HTTP level.
 *   400  the body is not JSON / not an HAE export / truncated: { error, offset, summary }.
 *   413  the body went over the limit: { error, limit, summary? }.
 *   503  the database is unreachable (Retry-After: 5); 500 for anything else.
 * Batches commit as they go (design notes): when an input breaks half-way, what was complete
 * before the break is stored, and the error response carries the summary that says so.
 */
import type http from 'node:http';
import type pg from 'pg';
import { verifyApiKey, type VerifiedKey } from '../auth/api-keys.js';
import type { Cache } from '../cache/cache.js';
import { errorMessage } from '../errors.js';
import { afterImport, metricsObserver } from '../import/after-import.js';
import { importSource } from '../import/run-import.js';
import type { ImportSummary } from '../import/summary.js';
import { recordError } from '../metrics/registry.js';
import { discardRest, requestBody, type BodyEncoding, type RequestBody } from './body.js';
import { HttpError, databaseAnswers, isDatabaseUnavailable, remoteOf } from './http-util.js';
import type { RateLimiter } from './rate-limit.js';
import type { Slots } from './slots.js';

export interface IngestContext {
  pool: pg.Pool;
  bodyLimit: number;
  rateLimiter: RateLimiter;
  slots: Slots;
  /** Partitions ensured so far, shared by every upload of this process. */
  knownPartitions: Set<string>;
  concurrency: number;
  batchRows?: number;
  keyCacheTtlMs?: number;
  cache?: Cache;
  readyTimeoutMs: number;
  /** Uploads in progress per API key id, and how many one key may have. */
  uploadsByKey: Map<number, number>;
  maxUploadsPerKey: number;
  /** A body with no progress for this long is cut off with 408. */
  bodyIdleTimeoutMs: number;
  /** Bytes of a body read before it takes an import slot. */
  prefetchBytes: number;
  /** Longest single element of an upload read whole. */
  maxElementBytes: number;
  accessLog: boolean;
  log: (line: string) => void;
  /** Sends a JSON answer (the server adds `Connection: close` while it shuts down). */
  send(res: http.ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void;
}

type Headers = Record<string, string>;

/** Handles one upload; resolves with the status answered (499 when the client went away). */
export async function ingest(ctx: IngestContext, req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): Promise<number> {
  const who = await authenticate(ctx, req);
  const rlHeaders = await checkRateLimit(ctx, who);
  const encoding = bodyEncoding(req, rlHeaders);
  const declared = Number(req.headers['content-length']);
  if (req.headers['content-length'] !== undefined && Number.isFinite(declared) && declared > ctx.bodyLimit) {
    throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${ctx.bodyLimit} bytes`, { limit: ctx.bodyLimit }, rlHeaders);
  }

  // One key cannot take every slot (nor every place in the queue) from the others.
  const mine = ctx.uploadsByKey.get(who.keyId) ?? 0;
  if (mine >= ctx.maxUploadsPerKey) {
    throw new HttpError(
      429,
      `this API key already has ${mine} upload${mine === 1 ? '' : 's'} in progress (at most ${ctx.maxUploadsPerKey}); retry when ${mine === 1 ? 'it ends' : 'one ends'}`,
      { retryAfter: 5 },
      { ...rlHeaders, 'Retry-After': '5' },
    );
  }
  ctx.uploadsByKey.set(who.keyId, mine + 1);
  try {
    return await importUpload(ctx, req, res, expectsContinue, who, encoding, rlHeaders);
  } finally {
    const left = (ctx.uploadsByKey.get(who.keyId) ?? 1) - 1;
    if (left > 0) ctx.uploadsByKey.set(who.keyId, left);
    else ctx.uploadsByKey.delete(who.keyId);
  }
}

async function importUpload(
  ctx: IngestContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  expectsContinue: boolean,
  who: VerifiedKey,
  encoding: BodyEncoding,
  rlHeaders: Headers,
): Promise<number> {
  const body = requestBody(req, { name: `http:${remoteOf(req)}`, limitBytes: ctx.bodyLimit, encoding, idleMs: ctx.bodyIdleTimeoutMs });
  if (expectsContinue) res.writeContinue();
  // The first part of the body (all of a typical upload) arrives before a slot is taken: a slow
  // client waits on its own connection, not in a slot that a fast one could use.
  await body.prefetch(ctx.prefetchBytes);
  if (body.timedOut) throw timeoutError(ctx, rlHeaders);
  const release = await ctx.slots.acquire();
  if (!release) throw new HttpError(503, 'too many uploads in progress; retry later', {}, { ...rlHeaders, 'Retry-After': '5' });
  let summary: ImportSummary;
  try {
    summary = await importSource(body.source, {
      pool: ctx.pool,
      user: who.userName,
      concurrency: ctx.concurrency,
      batchRows: ctx.batchRows,
      knownPartitions: ctx.knownPartitions,
      maxElementBytes: ctx.maxElementBytes,
      observer: metricsObserver,
    });
  } catch (err) {
    // Only the bookkeeping around the run throws (user, raw_ingestions): the database.
    throw databaseError(err);
  } finally {
    release();
  }

  // Failed runs included: they may have committed batches, and the cache must not hide them.
  await afterImport(summary, { pool: ctx.pool, cache: ctx.cache });
  if (ctx.accessLog) {
    ctx.log(`ingest user=${who.userName} key=${who.keyId} ${summary.status} ${summary.bytes} B ${summary.totals.read} records ${summary.durationMs} ms`);
  }
  if (summary.status !== 'failed') {
    ctx.send(res, 200, summary, rlHeaders);
    return 200;
  }
  return answerFailure(ctx, req, res, summary, body, rlHeaders);
}

/** The key's owner; 401 for no key or a wrong one, 503 when the database cannot say. */
async function authenticate(ctx: IngestContext, req: http.IncomingMessage): Promise<VerifiedKey> {
  const key = presentedKey(req);
  const unauthorized = { 'WWW-Authenticate': 'Bearer realm="healthexport"' };
  if (!key) throw new HttpError(401, 'missing API key: send "Authorization: Bearer <key>", "X-API-Key: <key>" or "api-key: <key>"', {}, unauthorized);
  let who: VerifiedKey | null;
  try {
    who = await verifyApiKey(ctx.pool, key, { cacheTtlMs: ctx.keyCacheTtlMs });
  } catch (err) {
    throw databaseError(err);
  }
  if (!who) throw new HttpError(401, 'invalid or revoked API key', {}, unauthorized);
  return who;
}

function presentedKey(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  for (const name of ['x-api-key', 'api-key']) {
    const x = req.headers[name];
    const v = Array.isArray(x) ? x[0] : x;
    if (v && v.trim()) return v.trim();
  }
  return null;
}

/** The rate-limit headers every later answer carries; 429 when the key is over its limit. */
async function checkRateLimit(ctx: IngestContext, who: VerifiedKey): Promise<Headers> {
  const rl = await ctx.rateLimiter.check(who.keyId);
  const headers: Headers = rl.backend === 'off' ? {} : { 'X-RateLimit-Limit': String(rl.limit), 'X-RateLimit-Remaining': String(rl.remaining) };
  if (!rl.allowed) {
    throw new HttpError(
      429,
      `rate limit exceeded: at most ${rl.limit} requests per ${Math.round(ctx.rateLimiter.windowMs / 1000)} s per API key; retry in ${rl.retryAfterS} s`,
      { retryAfter: rl.retryAfterS },
      { ...headers, 'Retry-After': String(rl.retryAfterS) },
    );
  }
  return headers;
}

/** From Content-Type and Content-Encoding; 415 for anything but JSON, plain or compressed. */
function bodyEncoding(req: http.IncomingMessage, headers: Headers): BodyEncoding {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const ce = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let encoding: BodyEncoding;
  if (ce === 'gzip' || ce === 'x-gzip') encoding = 'gzip';
  else if (ce === 'deflate') encoding = 'deflate';
  else if (ce === 'identity' || ce === '') encoding = 'identity';
  else throw new HttpError(415, `unsupported Content-Encoding "${ce}": send gzip, deflate or none`, {}, headers);
  if (type === 'application/gzip' || type === 'application/x-gzip') return encoding === 'identity' ? 'gzip' : encoding;
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      `unsupported Content-Type "${type || '(none)'}": send the Health Auto Export JSON as application/json (optionally with Content-Encoding: gzip)`,
      {},
      headers,
    );
  }
  return encoding;
}

/** A failed run: the client left (nobody to answer), too large, not HAE, or the database. */
async function answerFailure(
  ctx: IngestContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  summary: ImportSummary,
  body: RequestBody,
  headers: Headers,
): Promise<number> {
  if (!req.complete && (req.destroyed || res.destroyed || req.socket.destroyed)) {
    // The run is recorded as failed (with what it committed) in raw_ingestions; 499 (nginx's
    // "client closed request") in metrics.
    if (ctx.accessLog) ctx.log(`ingest: client disconnected after ${body.wireBytes} bytes`);
    return 499;
  }
  if (body.timedOut) {
    ctx.send(res, 408, { error: timeoutError(ctx, headers).message, summary }, { ...headers, Connection: 'close' });
    req.socket.destroySoon();
    return 408;
  }
  discardRest(req);
  if (body.tooLarge) {
    ctx.send(res, 413, { error: `request body exceeds the limit of ${ctx.bodyLimit} bytes`, limit: ctx.bodyLimit, summary }, headers);
    return 413;
  }
  if (summary.errorOffset !== null) {
    // Not HAE, truncated, or a body that cannot be decompressed: the client's to fix.
    ctx.send(res, 400, { error: summary.error, offset: summary.errorOffset, summary }, headers);
    return 400;
  }
  // Writing failed: tell "database down" (503, retry later) from anything else (500).
  if (await databaseAnswers(ctx.pool, Math.min(ctx.readyTimeoutMs, 1000))) {
    ctx.send(res, 500, { error: summary.error ?? 'import failed', summary }, headers);
    return 500;
  }
  ctx.send(res, 503, { error: `database unavailable: ${summary.error ?? 'import failed'}`, summary }, { ...headers, 'Retry-After': '5' });
  return 503;
}

function timeoutError(ctx: IngestContext, headers: Headers): HttpError {
  return new HttpError(
    408,
    `no part of the request body arrived for ${Math.round(ctx.bodyIdleTimeoutMs / 1000)} s; send it again`,
    {},
    { ...headers, Connection: 'close' },
  );
}

function databaseError(err: unknown): HttpError {
  if (isDatabaseUnavailable(err)) {
    recordError('db');
    return new HttpError(503, `database unavailable: ${errorMessage(err)}`, {}, { 'Retry-After': '5' });
  }
  return new HttpError(500, `internal error: ${errorMessage(err)}`);
}
