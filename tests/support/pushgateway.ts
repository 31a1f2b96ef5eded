/**
 * A real Prometheus Pushgateway for tests (Debian package prometheus-pushgateway), started on a
 * free loopback port with persistence off. Reusable by any test file:
 *
 *   const gw = await startPushgateway();   // gw.url = http://127.0.0.1:<port>
 *   ... push to gw.url ...
 *   const text = await gw.metrics();       // what the gateway exposes
 *   await gw.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/db/embedded.js';
import { debianTool, executable, findOnPath } from './debian-tools.js';

export interface RunningPushgateway {
  url: string;
  port: number;
  /** GET /metrics from the gateway (text exposition format). */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

const CANDIDATES = ['prometheus-pushgateway', 'pushgateway'];

/** Path of the pushgateway binary: $PUSHGATEWAY_BIN, then PATH, then /usr/bin; null when missing. */
function pushgatewayBinary(): string | null {
  const explicit = process.env.PUSHGATEWAY_BIN;
  return explicit && executable(explicit) ? explicit : findOnPath(CANDIDATES);
}

/** The binary, or null (one printed line, tests skip) outside CI when it is not installed. */
export function pushgatewayOrSkip(what?: string): string | null {
  return debianTool('prometheus-pushgateway', pushgatewayBinary(), 'prometheus-pushgateway', what);
}

export function findPushgatewayBinary(): string {
  const bin = pushgatewayBinary();
  if (!bin) throw new Error('prometheus-pushgateway not found (looked in $PUSHGATEWAY_BIN, PATH and /usr/bin): apt-get install prometheus-pushgateway');
  return bin;
}

export { freePort };

async function waitReady(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`pushgateway exited (${child.exitCode ?? child.signalCode}) before ready: ${output()}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pushgateway not ready after ${timeoutMs} ms: ${output()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startPushgateway(): Promise<RunningPushgateway> {
  const bin = findPushgatewayBinary();
  let lastError: unknown;
  // A free port can be taken between probing and binding; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(bin, [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file='], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const collect = (b: Buffer) => {
      out = (out + b.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', (err) => {
      out += `\nspawn error: ${err.message}`;
    });
    try {
      await waitReady(url, child, () => out, 15_000);
    } catch (err) {
      lastError = err;
      await stopChild(child);
      continue;
    }
    return {
      url,
      port,
      async metrics() {
        const res = await fetch(`${url}/metrics`);
        if (!res.ok) throw new Error(`GET ${url}/metrics: ${res.status}`);
        return res.text();
      },
      stop: () => stopChild(child),
    };
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** Parse one sample line set of the text format into {name, labels, value} (tests only). */
export function parseSamples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}
