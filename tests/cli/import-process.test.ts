/**
 * Which process runs `import`: the CLI's own by default, so the import's memory is one process's
 * (bin/import-flags.js); a child under a heap cap only when HEALTHEXPORT_MAX_HEAP_MB asks for one.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv } from '../support/cli.js';
import { hae } from '../support/inputs.js';

const RECORDS = 30_000;
/** Child processes are read from /proc/PID/task/PID/children. */
const HAS_PROC = existsSync('/proc/self/task');

function heartRates(): Buffer {
  const t0 = Date.UTC(2024, 0, 1);
  const data = Array.from({ length: RECORDS }, (_, i) => ({
    date: new Date(t0 + i * 60_000).toISOString(),
    Min: 50 + (i % 30),
    Avg: 60 + (i % 30),
    Max: 70 + (i % 30),
    source: 'Watch',
  }));
  return Buffer.from(hae({ metrics: [{ name: 'heart_rate', units: 'count/min', data }] }));
}

/** A dry-run import from stdin: the CLI's child processes while it reads, and its summary. */
async function importFromStdin(env: Record<string, string>) {
  const input = heartRates();
  const cli = spawn(process.execPath, [BIN, 'import', '-', '--dry-run', '--json'], { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (d) => (stdout += d));
  cli.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => cli.on('close', resolve));
  // 1 MiB through a 64 KiB pipe: its write completes only once the import has read most of it.
  const head = input.subarray(0, 1 << 20);
  await new Promise<void>((resolve, reject) => cli.stdin.write(head, (err) => (err ? reject(err) : resolve())));
  const children = readFileSync(`/proc/${cli.pid}/task/${cli.pid}/children`, 'utf8').split(' ').filter(Boolean);
  const argv = children.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  cli.stdin.end(input.subarray(head.length));
  const code = await exited;
  return { code, stderr, argv, summary: code === 0 ? JSON.parse(stdout) : null };
}

describe('the process that runs import', () => {
  it('is the CLI itself by default: no second process', async (ctx) => {
    if (!HAS_PROC) ctx.skip('needs Linux /proc to see child processes');
    const r = await importFromStdin({});
    expect(r.argv).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary.valid.heart_rate_metrics).toBe(RECORDS);
  });

  it('is a child under the heap cap HEALTHEXPORT_MAX_HEAP_MB sets', async (ctx) => {
    if (!HAS_PROC) ctx.skip('needs Linux /proc to see child processes');
    const r = await importFromStdin({ HEALTHEXPORT_MAX_HEAP_MB: '96' });
    expect(r.argv).toHaveLength(1);
    expect(r.argv[0]).toContain('--max-old-space-size=96');
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary.valid.heart_rate_metrics).toBe(RECORDS);
  });
});
