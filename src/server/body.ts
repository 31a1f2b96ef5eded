/**
 * A request body as an import input: streamed (never buffered whole), decompressed when gzip or
 * deflate, and cut off at the size limit.
 *
 * The limit counts the bytes on the wire and, separately, the JSON bytes after decompression, so
 * a small gzip "bomb" cannot expand past it either. Going over makes the stream throw
 * BodyTooLargeError: importSource then ends the run as failed (what it had already committed stays
 * and is in its summary), and the server answers 413.
 *
 * The request is read with `destroyOnReturn: false`: when the import stops early (the input is not
 * HAE, or too large) the socket stays open so the error response can still be sent.
 */
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflate } from 'node:zlib';
import type { InputSource } from '../input/open-input.js';

export type BodyEncoding = 'gzip' | 'deflate' | 'identity';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds the limit of ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** No bytes arrived for `idleMs`: the client stalled (answered 408). */
export class BodyTimeoutError extends Error {
  constructor(readonly idleMs: number) {
    super(`no part of the request body arrived for ${Math.round(idleMs / 1000)} s`);
    this.name = 'BodyTimeoutError';
  }
}

export interface RequestBody {
  source: InputSource;
  /**
   * Reads up to `maxBytes` of the body ahead (or all of it, if smaller), before an import slot is
   * taken: a client trickling its body holds this buffer and its connection, never a slot.
   * Never throws; what went wrong surfaces when the import reads on.
   */
  prefetch(maxBytes: number): Promise<void>;
  /** Set once the body stalled for longer than the idle limit. */
  readonly timedOut: boolean;
  /** Bytes read from the socket so far. */
  readonly wireBytes: number;
  /** Set once the body went over the limit. */
  readonly tooLarge: boolean;
}

const GZIP_MAGIC = [0x1f, 0x8b];

export function requestBody(
  req: IncomingMessage,
  opts: { name: string; limitBytes: number; encoding: BodyEncoding; idleMs?: number },
): RequestBody {
  const state = { wireBytes: 0, tooLarge: false, timedOut: false };
  const limit = opts.limitBytes;
  const idleMs = opts.idleMs ?? 0;
  const it = req.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  const ahead: Buffer[] = [];
  let aheadError: unknown = null;
  let ended = false;

  /** The next chunk, or the end; BodyTimeoutError when none comes within idleMs. */
  async function next(): Promise<Buffer | null> {
    let timer: NodeJS.Timeout | undefined;
    const stalled =
      idleMs > 0
        ? new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              state.timedOut = true;
              reject(new BodyTimeoutError(idleMs));
            }, idleMs);
          })
        : null;
    try {
      const r = await (stalled ? Promise.race([it.next(), stalled]) : it.next());
      if (r.done) return null;
      state.wireBytes += r.value.length;
      if (state.wireBytes > limit) {
        state.tooLarge = true;
        throw new BodyTooLargeError(limit);
      }
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  }

  async function prefetch(maxBytes: number): Promise<void> {
    let n = 0;
    try {
      while (n < maxBytes) {
        const c = await next();
        if (c === null) {
          ended = true;
          return;
        }
        ahead.push(c);
        n += c.length;
      }
    } catch (err) {
      aheadError = err;
    }
  }

  async function* wire(): AsyncGenerator<Buffer> {
    while (ahead.length) yield ahead.shift()!;
    if (aheadError) throw aheadError;
    if (ended) return;
    for (;;) {
      const c = await next();
      if (c === null) return;
      yield c;
    }
  }

  async function* decoded(): AsyncGenerator<Buffer> {
    const raw = wire();
    let encoding = opts.encoding;
    let head: Buffer[] = [];
    if (encoding === 'identity') {
      // Lenient: a gzip body sent without Content-Encoding is recognised by its magic number,
      // as `import` does for files.
      let n = 0;
      for (;;) {
        const r = await raw.next();
        if (r.done) break;
        head.push(r.value);
        n += r.value.length;
        if (n >= 2) break;
      }
      const first = Buffer.concat(head);
      if (first.length >= 2 && first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1]) encoding = 'gzip';
      head = first.length ? [first] : [];
    }
    async function* all(): AsyncGenerator<Buffer> {
      yield* head;
      yield* raw;
    }
    if (encoding === 'identity') {
      yield* all();
      return;
    }
    const z = encoding === 'gzip' ? createGunzip({ chunkSize: 1 << 20 }) : createInflate({ chunkSize: 1 << 20 });
    pipeline(all(), z).catch((err) => z.destroy(err));
    let out = 0;
    for await (const chunk of z as AsyncIterable<Buffer>) {
      out += chunk.length;
      if (out > limit) {
        state.tooLarge = true;
        throw new BodyTooLargeError(limit);
      }
      yield chunk;
    }
  }

  return {
    source: { name: opts.name, kind: 'http', sizeHint: null, open: decoded },
    prefetch,
    get timedOut() {
      return state.timedOut;
    },
    get wireBytes() {
      return state.wireBytes;
    },
    get tooLarge() {
      return state.tooLarge;
    },
  };
}

/**
 * Read and throw away what is left of a request body, so the connection can carry the response
 * (and the next request). Past `maxBytes` or `maxMs` the socket is destroyed instead.
 */
export function discardRest(req: IncomingMessage, maxBytes = 1 << 20, maxMs = 5000): void {
  if (req.complete || req.destroyed) return;
  let n = 0;
  const timer = setTimeout(() => req.socket.destroy(), maxMs);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.on('end', done);
  req.on('close', done);
  req.on('error', done);
  req.on('data', (c: Buffer) => {
    n += c.length;
    if (n > maxBytes) req.socket.destroy();
  });
  req.resume();
}
