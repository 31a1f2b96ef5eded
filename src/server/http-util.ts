/** What every route of the server shares: the error type its handlers throw, JSON answers, probes. */
import type http from 'node:http';
import type pg from 'pg';
import { isDatabaseUnavailable as unreachable } from '../db/unavailable.js';

/** Thrown by a handler to answer with `status` and `{ error: message, ...extra }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Errors meaning "the database cannot be reached right now" (answered 503, worth a retry): those
 * of db/unavailable.ts, plus a database dropped under the running server (3D000).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return unreachable(err) || (err as { code?: string } | null)?.code === '3D000';
}

/** A JSON answer; once headers went out (a streamed error), only ends the response. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Whether PostgreSQL answers `SELECT 1` within `ms`. */
export async function databaseAnswers(pool: pg.Pool, ms: number): Promise<boolean> {
  try {
    await withTimeout(pool.query('SELECT 1'), ms, 'database probe');
    return true;
  } catch {
    return false;
  }
}

export function remoteOf(req: http.IncomingMessage): string {
  const s = req.socket;
  const addr = s.remoteAddress ?? 'unknown';
  return addr.includes(':') ? `[${addr}]:${s.remotePort}` : `${addr}:${s.remotePort}`;
}
