import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/healthexport.js');

export interface CliResult {
  /** The arguments it ran with, for failure messages. */
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment a CLI child gets: this process's, minus every setting the CLI reads, plus `extra`. */
export function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(PG|DATABASE_URL|REDIS_URL|PUSHGATEWAY_URL|HEALTHEXPORT_)/.test(k)) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs the built CLI (npm test builds it first) as a user would, with a clean environment. */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; stdin?: Buffer | string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ args, code, signal, stdout, stderr });
    });
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

/** The failure text of a CLI run: the command, how it ended, and what it wrote (stderr in full). */
export function describeRun(r: CliResult): string {
  const out = r.stdout.length > 2000 ? `${r.stdout.slice(0, 2000)}… (${r.stdout.length} chars)` : r.stdout;
  return [
    `healthexport ${r.args.join(' ')} ended with ${r.signal ? `signal ${r.signal}` : `exit ${r.code}`}`,
    `--- stderr ---\n${r.stderr || '(empty)'}`,
    `--- stdout ---\n${out || '(empty)'}`,
  ].join('\n');
}

/**
 * Asserts the exit code; when it differs the failure shows the command's stderr and stdout, so a
 * CI log says why it failed. Returns the result for chaining: `json(expectExit(r, 0))`.
 */
export function expectExit(r: CliResult, code: number): CliResult {
  expect(r.code, describeRun(r)).toBe(code);
  return r;
}

/** stdout parsed as JSON; when it is not JSON the failure shows the whole run. */
export function stdoutJson(r: CliResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not JSON\n${describeRun(r)}`);
  }
}
