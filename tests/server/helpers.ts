/** Small HAE bodies and an HTTP client for the serve tests. */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const SAMPLE = fileURLToPath(new URL('../../examples/sample-export.json', import.meta.url));

/** examples/sample-export.json when present, else a small inline export. */
export function sampleExport(): Buffer {
  if (existsSync(SAMPLE)) return readFileSync(SAMPLE);
  return Buffer.from(stepsExport(7, 30));
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `n` hourly step counts from 2024-03-01 with qty = base + i, plus as many heart-rate samples. */
export function stepsExport(base: number, n: number, source = 'Test iPhone'): string {
  const steps: string[] = [];
  const hr: string[] = [];
  for (let i = 0; i < n; i++) {
    const day = 1 + Math.floor(i / 24);
    const date = `2024-03-${pad(day)} ${pad(i % 24)}:00:00 -0800`;
    steps.push(JSON.stringify({ date, qty: base + i, source }));
    hr.push(JSON.stringify({ date, Min: 50, Avg: 60 + (i % 30), Max: 90, source }));
  }
  return (
    `{"data":{"metrics":[` +
    `{"name":"step_count","units":"count","data":[${steps.join(',')}]},` +
    `{"name":"heart_rate","units":"count/min","data":[${hr.join(',')}]}` +
    `],"workouts":[]}}`
  );
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/**
 * One request with node:http (full control: chunked bodies, slow bodies, no automatic headers).
 * `body` may be an async function that writes to the request itself (for slow uploads).
 */
export function request(
  base: string,
  p: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string | ((req: http.ClientRequest) => Promise<void>);
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(p, base), { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any = null;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON (metrics)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = opts.body;
    if (typeof body === 'function') {
      body(req).catch(reject);
    } else {
      req.end(body);
    }
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
