import net from 'node:net';
import os from 'node:os';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_JOB, SERVE_JOB, pushMetrics, startPeriodicPush, type PushResult } from '../../src/metrics/push.js';
import { recordOutcomes } from '../../src/metrics/registry.js';
import { freePort, parseSamples, pushgatewayOrSkip, startPushgateway, type RunningPushgateway } from '../support/pushgateway.js';

const GATEWAY = pushgatewayOrSkip('the Pushgateway tests');

let gw: RunningPushgateway;

beforeAll(async () => {
  if (GATEWAY) gw = await startPushgateway();
});

afterAll(async () => {
  await gw?.stop();
});

function registryWithCounter(value: number): { reg: Registry; counter: Counter } {
  const reg = new Registry();
  const counter = new Counter({ name: 'pushtest_things_total', help: 'things', registers: [reg] });
  counter.inc(value);
  return { reg, counter };
}

async function samples(name: string, labels: Record<string, string> = {}) {
  return parseSamples(await gw.metrics()).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

describe.skipIf(!GATEWAY)('pushMetrics against a real Pushgateway', () => {
  it('pushes the shared registry under job healthexport_import with an instance label', async () => {
    recordOutcomes('workouts', { inserted: 3, rejected: 1 });
    const r = await pushMetrics({ url: gw.url, job: IMPORT_JOB, groupings: { instance: 'host-a' } });
    expect(r).toEqual({ ok: true });

    const inserted = await samples('healthexport_records_total', {
      job: 'healthexport_import',
      instance: 'host-a',
      table: 'workouts',
      outcome: 'inserted',
    });
    expect(inserted.map((s) => s.value)).toEqual([3]);
    const unchanged = await samples('healthexport_records_total', { instance: 'host-a', outcome: 'unchanged' });
    expect(unchanged.map((s) => s.value)).toEqual([0]);
    // the gateway accepted default process metrics and histograms too
    expect(await samples('process_cpu_user_seconds_total', { instance: 'host-a' })).toHaveLength(1);
    expect(await samples('push_time_seconds', { job: IMPORT_JOB, instance: 'host-a' })).toHaveLength(1);
  });

  it('defaults the instance grouping to the hostname', async () => {
    const { reg } = registryWithCounter(5);
    expect(await pushMetrics({ url: gw.url, job: 'pushtest_default', registry: reg })).toEqual({ ok: true });
    const s = await samples('pushtest_things_total', { job: 'pushtest_default' });
    expect(s).toHaveLength(1);
    expect(s[0].labels.instance).toBe(os.hostname());
    expect(s[0].value).toBe(5);
  });

  it('keeps the groups of two hosts side by side', async () => {
    const a = registryWithCounter(7);
    const b = registryWithCounter(11);
    expect(await pushMetrics({ url: gw.url, job: 'pushtest_two', groupings: { instance: 'h1' }, registry: a.reg })).toEqual({ ok: true });
    expect(await pushMetrics({ url: gw.url, job: 'pushtest_two', groupings: { instance: 'h2' }, registry: b.reg })).toEqual({ ok: true });
    const s = await samples('pushtest_things_total', { job: 'pushtest_two' });
    expect(Object.fromEntries(s.map((x) => [x.labels.instance, x.value]))).toEqual({ h1: 7, h2: 11 });
  });

  it('replaces its own group on every push (PUT): series the last push lacks are gone', async () => {
    const first = new Registry();
    new Counter({ name: 'pushtest_old_total', help: 'old', registers: [first] }).inc();
    await pushMetrics({ url: gw.url, job: 'pushtest_put', groupings: { instance: 'h' }, registry: first });
    expect(await samples('pushtest_old_total', { job: 'pushtest_put' })).toHaveLength(1);

    const { reg } = registryWithCounter(1);
    await pushMetrics({ url: gw.url, job: 'pushtest_put', groupings: { instance: 'h' }, registry: reg });
    expect(await samples('pushtest_old_total', { job: 'pushtest_put' })).toHaveLength(0);
    expect(await samples('pushtest_things_total', { job: 'pushtest_put' })).toHaveLength(1);
  });

  it('handles grouping values with a slash or empty (base64 path encoding)', async () => {
    const { reg } = registryWithCounter(2);
    expect(await pushMetrics({ url: gw.url, job: 'pushtest_b64', groupings: { instance: 'rack/7', site: '' }, registry: reg })).toEqual({ ok: true });
    const s = await samples('pushtest_things_total', { job: 'pushtest_b64', instance: 'rack/7' });
    expect(s).toHaveLength(1);
  });

  it('returns ok:false quickly for a dead port, never throws', async () => {
    const port = await freePort(); // nothing listens there now
    const t0 = Date.now();
    const r = await pushMetrics({ url: `http://127.0.0.1:${port}`, job: IMPORT_JOB, registry: registryWithCounter(1).reg });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatch(/ECONNREFUSED/);
      expect(r.error).not.toContain('\n');
    }
  });

  it('returns ok:false for a malformed URL and for an HTTP error', async () => {
    const bad = await pushMetrics({ url: 'not a url', job: IMPORT_JOB });
    expect(bad.ok).toBe(false);
    const notFound = await pushMetrics({ url: `${gw.url}/no/such/prefix`, job: IMPORT_JOB, registry: registryWithCounter(1).reg });
    expect(notFound.ok).toBe(false);
    if (!notFound.ok) expect(notFound.error).toMatch(/404/);
  });

  it('gives up after timeoutMs when the server accepts but never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const t0 = Date.now();
      const r = await pushMetrics({ url: `http://127.0.0.1:${port}`, job: IMPORT_JOB, timeoutMs: 300, registry: registryWithCounter(1).reg });
      const took = Date.now() - t0;
      expect(r).toEqual({ ok: false, error: expect.stringMatching(/timed out after 300 ms/) });
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(2000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe.skipIf(!GATEWAY)('startPeriodicPush', () => {
  it('pushes repeatedly and once more on stop()', async () => {
    const { reg, counter } = registryWithCounter(1);
    const results: PushResult[] = [];
    const periodic = startPeriodicPush({
      url: gw.url,
      job: SERVE_JOB,
      groupings: { instance: 'serve-1' },
      registry: reg,
      intervalS: 0.2,
      onResult: (r) => results.push(r),
    });
    const deadline = Date.now() + 5000;
    while (results.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(results.length).toBeGreaterThanOrEqual(2);
    expect(results.every((r) => r.ok)).toBe(true);

    counter.inc(41); // only the final push carries 42
    const before = results.length;
    const final = await periodic.stop();
    expect(final).toEqual({ ok: true });
    expect(results.length).toBeGreaterThan(before); // the final push was reported
    expect(results.at(-1)).toEqual({ ok: true });
    const s = await samples('pushtest_things_total', { job: SERVE_JOB, instance: 'serve-1' });
    expect(s.map((x) => x.value)).toEqual([42]);

    // stopped: no more pushes
    const count = results.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(results.length).toBe(count);
    expect(await periodic.stop()).toEqual(final); // idempotent
  });

  it('reports failures through onResult without throwing', async () => {
    const port = await freePort();
    const results: PushResult[] = [];
    const periodic = startPeriodicPush({
      url: `http://127.0.0.1:${port}`,
      job: SERVE_JOB,
      registry: registryWithCounter(1).reg,
      intervalS: 0.1,
      onResult: (r) => results.push(r),
    });
    const deadline = Date.now() + 5000;
    while (results.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const final = await periodic.stop();
    expect(final.ok).toBe(false);
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(results.every((r) => !r.ok)).toBe(true);
  });
});
