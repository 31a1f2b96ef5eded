/**
 * The operations around `import`, end to end through the CLI: the run's metrics reach a real
 * Pushgateway, and an import invalidates the cached summary a person reads.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectExit, runCli, stdoutJson } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { hae } from '../support/inputs.js';
import { parseSamples, pushgatewayOrSkip, startPushgateway, type RunningPushgateway } from '../support/pushgateway.js';

const GATEWAY = pushgatewayOrSkip('the --pushgateway import test');

const steps = (qty: number) =>
  hae({ metrics: [{ name: 'step_count', units: 'count', data: [{ date: '2024-05-01 10:00:00 +0000', qty, source: 'Phone' }] }] });

describe('import with --pushgateway and a cache (CLI)', () => {
  let db: TestDatabase;
  let gw: RunningPushgateway;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    if (GATEWAY) gw = await startPushgateway();
    dir = await mkdtemp(path.join(os.tmpdir(), 'he-ops-'));
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      // Keys of this test only, so parallel tests and other runs never see them.
      HEALTHEXPORT_CACHE_PREFIX: `he-test-${randomBytes(4).toString('hex')}`,
    };
  });
  afterAll(async () => {
    await gw?.stop();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!GATEWAY)('pushes the run to the Pushgateway under job healthexport_import, grouped by instance', async () => {
    const file = path.join(dir, 'a.json');
    await writeFile(file, steps(100));
    const r = await runCli(['import', file, '--json', '--user', 'ops', '--pushgateway', gw.url], { env });
    expectExit(r, 0);
    expect(r.stderr).toBe('');
    const samples = parseSamples(await gw.metrics()).filter((s) => s.labels.job === 'healthexport_import');
    const inserted = samples.find(
      (s) => s.name === 'healthexport_records_total' && s.labels.table === 'activity_metrics' && s.labels.outcome === 'inserted',
    );
    expect(inserted?.value).toBe(1);
    expect(inserted?.labels.instance).toBe(os.hostname());
    expect(samples.find((s) => s.name === 'healthexport_import_runs_total' && s.labels.status === 'ok')?.value).toBe(1);
  });

  it('a push to a dead gateway is a warning, never a failed import', async () => {
    const file = path.join(dir, 'dead-gateway.json');
    await writeFile(file, steps(100));
    const r = await runCli(['import', file, '--json', '--user', 'ops', '--pushgateway', 'http://127.0.0.1:9/'], { env });
    expectExit(r, 0);
    expect(r.stderr).toMatch(/warning: metrics push to http:\/\/127\.0\.0\.1:9\/ failed/);
  });

  it('an import invalidates the cached summary, so summary shows the new value', async () => {
    const latest = async () => {
      const r = await runCli(['summary', '--user', 'cached', '--json'], { env });
      expectExit(r, 0);
      const s = JSON.parse(r.stdout);
      return { cache: s.cache as string, qty: s.latest.find((l: { metric: string }) => l.metric === 'step_count')?.value };
    };
    const first = path.join(dir, 'first.json');
    await writeFile(first, steps(100));
    expectExit(await runCli(['import', first, '--json', '--user', 'cached'], { env }), 0);
    expect(await latest()).toMatchObject({ qty: 100 });
    expect(await latest()).toEqual({ cache: 'hit', qty: 100 });
    const later = path.join(dir, 'b.json');
    await writeFile(later, steps(250));
    const r = await runCli(['import', later, '--json', '--user', 'cached'], { env });
    expect(stdoutJson(expectExit(r, 0)).totals.updated).toBe(1);
    expect(await latest()).toEqual({ cache: 'miss', qty: 250 });
  });
});
