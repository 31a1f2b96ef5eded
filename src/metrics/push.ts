/**
 * Pushing the registry to a Prometheus Pushgateway (`--pushgateway URL` / PUSHGATEWAY_URL).
 *
 * - PUT semantics (prom-client `push`): the group {job, instance, ...} is replaced by exactly what
 *   this process exports, so a one-shot import's group always shows its last run. (POST would
 *   keep series the last run did not emit, e.g. old error counts: measured against pushgateway
 *   1.5, a POST with empty metric families leaves the old samples in place.)
 * - The grouping always includes `instance` (default os.hostname()), so two hosts pushing the same
 *   job do not overwrite each other.
 * - prom-client's Pushgateway (node:http) rather than fetch: fetch refuses "bad ports" (e.g. 1,
 *   6000, 10080) outright and gives "fetch failed" messages; node:http reports the real cause
 *   (ECONNREFUSED, ENOTFOUND) and supports AbortSignal for an overall timeout.
 * - Never throws: failures come back as { ok: false, error } with a one-line message; the caller
 *   prints a warning and carries on (a push failure never fails an import).
 */
import os from 'node:os';
import { Pushgateway, type Registry } from 'prom-client';
import { registry as sharedRegistry } from './registry.js';

export const IMPORT_JOB = 'healthexport_import';
export const SERVE_JOB = 'healthexport_serve';

export interface PushOptions {
  /** Pushgateway base URL, e.g. http://pushgateway:9091 (a path prefix is kept). */
  url: string;
  /** Job name, e.g. healthexport_import. */
  job: string;
  /** Grouping labels; `instance` defaults to os.hostname() unless given here. */
  groupings?: Record<string, string>;
  /** Defaults to the shared registry. */
  registry?: Registry;
  /** Overall time limit for one push, default 5000 ms. */
  timeoutMs?: number;
}

export type PushResult = { ok: true } | { ok: false; error: string };

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The grouping as path segments prom-client will append (`/key/value`). */
function encodeGroupings(groupings: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(groupings)) {
    if (!LABEL_NAME.test(key)) throw new Error(`invalid grouping label name ${JSON.stringify(key)}`);
    // The Pushgateway cannot take "/" or an empty value in a path segment; it accepts
    // `<label>@base64/<base64url value>` instead ("=" stands for the empty string).
    if (value === '' || value.includes('/')) {
      out[`${key}@base64`] = value === '' ? '=' : Buffer.from(value, 'utf8').toString('base64url');
    } else {
      out[key] = value;
    }
  }
  return out;
}

function oneLine(text: string, max = 300): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Push the registry once. Resolves { ok: true } or { ok: false, error }; never rejects. */
export async function pushMetrics(opts: PushOptions): Promise<PushResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  let target = opts.url; // for messages: never includes credentials
  try {
    const u = new URL(opts.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol ${u.protocol}`);
    u.pathname = u.pathname.replace(/\/+$/, '') || '/';
    u.search = '';
    u.hash = '';
    target = u.origin + (u.pathname === '/' ? '' : u.pathname);
    if (!opts.job || opts.job.includes('/')) throw new Error(`invalid job name ${JSON.stringify(opts.job)}`);
    const groupings = encodeGroupings({ instance: os.hostname(), ...(opts.groupings ?? {}) });
    const signal = AbortSignal.timeout(timeoutMs);
    const gateway = new Pushgateway(u.toString(), { timeout: timeoutMs, signal }, opts.registry ?? sharedRegistry);
    let timer: NodeJS.Timeout | undefined;
    // Belt and braces: the signal aborts the request, this bounds anything else (metrics collection).
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs + 250);
      timer.unref();
    });
    try {
      await Promise.race([gateway.push({ jobName: opts.job, groupings }), deadline]);
    } finally {
      clearTimeout(timer);
    }
    return { ok: true };
  } catch (err) {
    const e = err as Error & { code?: string };
    let msg = e?.message ?? String(err);
    // The overall AbortSignal, the socket idle timeout and the deadline all mean the same thing.
    if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || /timed out/i.test(msg)) {
      msg = `timed out after ${timeoutMs} ms`;
    } else if (e?.code && !msg.includes(e.code)) msg = `${e.code}: ${msg}`;
    return { ok: false, error: oneLine(`push to ${target} failed: ${msg}`) };
  }
}

export interface PeriodicPushOptions extends PushOptions {
  /** Seconds between pushes. */
  intervalS: number;
  /** Called after every push (including the final one) with its result. */
  onResult?: (result: PushResult) => void;
}

export interface PeriodicPush {
  /** Stop the timer, wait for a push in flight, then push one last time. */
  stop(): Promise<PushResult>;
}

/**
 * Push now and then every `intervalS` seconds until stop() (used by serve). Pushes never
 * overlap; the timer is unref'd so it never keeps the process alive by itself.
 */
export function startPeriodicPush(opts: PeriodicPushOptions): PeriodicPush {
  const { intervalS, onResult, ...pushOpts } = opts;
  if (!(intervalS > 0)) throw new Error(`intervalS must be > 0, got ${intervalS}`);
  let inFlight: Promise<void> | undefined;
  let stopped: Promise<PushResult> | undefined;

  const report = (r: PushResult) => {
    try {
      onResult?.(r);
    } catch {
      // a logging callback must not break the timer
    }
  };
  const tick = () => {
    if (inFlight || stopped) return;
    inFlight = pushMetrics(pushOpts)
      .then(report)
      .finally(() => {
        inFlight = undefined;
      });
  };

  tick();
  const timer = setInterval(tick, intervalS * 1000);
  timer.unref();

  return {
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        if (inFlight) await inFlight;
        const r = await pushMetrics(pushOpts);
        report(r);
        return r;
      })();
      return stopped;
    },
  };
}
