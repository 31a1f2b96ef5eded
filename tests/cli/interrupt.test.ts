/**
 * Ctrl-C (SIGINT) and SIGTERM during `import`, sent to the CLI process as a shell or a service
 * manager would (the import runs in it; under HEALTHEXPORT_MAX_HEAP_MB, bin/healthexport.js
 * forwards them to its capped child): one line saying how much is stored and that running it
 * again finishes the job, the run recorded as interrupted, exit 130 / 143, and the re-run
 * completes it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const RECORDS = 60_000;

function steps(n: number): string {
  const data: string[] = [];
  for (let i = 0; i < n; i++) data.push(`{"date":"${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()}","qty":${i % 50},"source":"W"}`);
  return `{"data":{"metrics":[{"name":"step_count","units":"count","data":[${data.join(',')}]}]}}`;
}

describe('import interrupted by a signal', () => {
  let db: TestDatabase;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'he-interrupt-'));
    file = path.join(dir, 'steps.json');
    await writeFile(file, steps(RECORDS));
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const stored = async (user: string): Promise<number> =>
    (await db.pool.query(`SELECT count(*)::int AS n FROM activity_metrics a JOIN users u ON u.id = a.user_id WHERE u.name = $1`, [user])).rows[0].n;

  const cases = [
    ['SIGINT', 130, ''],
    ['SIGTERM', 143, ''],
    ['SIGINT', 130, '64'],
    ['SIGTERM', 143, '64'],
  ] as const;
  for (const [sig, code, heapMb] of cases) {
    const where = heapMb ? ` (import in a child capped at ${heapMb} MB)` : '';
    it(`${sig}${where}: one line, the run recorded as interrupted, exit ${code}; running it again finishes the job`, async () => {
      const user = `u_${sig.toLowerCase()}${heapMb}`;
      const capped = heapMb ? { HEALTHEXPORT_MAX_HEAP_MB: heapMb } : {};
      const child = spawn(process.execPath, [BIN, 'import', file, '--user', user, '--batch-rows', '500', '--concurrency', '1'], {
        env: { PATH: process.env.PATH, DATABASE_URL: db.url, ...capped },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stdout.resume();
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      for (let i = 0; i < 1000 && (await stored(user)) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      child.kill(sig);
      expect(await exited).toBe(code);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^healthexport: interrupted by ${sig}; [\\d,]+ of [\\d,]+ records read were stored before that and are kept; running the same import again finishes the job( source=\\S+)?$`));
      const { rows } = await db.pool.query(
        `SELECT r.status, r.error FROM raw_ingestions r JOIN users u ON u.id = r.user_id WHERE u.name = $1`,
        [user],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].status).toBe('failed');
      expect(rows[0].error).toMatch(new RegExp(`^interrupted by ${sig}`));
      const before = await stored(user);
      expect(before).toBeGreaterThan(0);
      expect(before).toBeLessThan(RECORDS);

      const again = await runCli(['import', file, '--user', user, '--json'], { env: { DATABASE_URL: db.url } });
      expect(again.code).toBe(0);
      const s = JSON.parse(again.stdout);
      expect(s.totals.inserted).toBe(RECORDS - before);
      expect(await stored(user)).toBe(RECORDS);
    });
  }
});
