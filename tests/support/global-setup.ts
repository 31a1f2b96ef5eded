/**
 * Finds the real PostgreSQL the tests run against, once per run:
 *   1. TEST_DATABASE_URL (CI and this machine: the local server with PostGIS);
 *   2. otherwise an embedded PostgreSQL in a temporary directory (no PostGIS: tests that need
 *      it say so and are skipped with that reason).
 * (Docker is not used: no Docker engine runs where this project is developed and tested.)
 * Each test file then creates its own database on that server (tests/support/db.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    redisUrl: string;
  }
}

let embedded: EmbeddedServer | null = null;
let tmp: string | null = null;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    // Under /tmp so the postgres OS user can reach it when tests run as root.
    tmp = await mkdtemp(path.join(os.tmpdir(), 'healthexport-test-'));
    embedded = await startEmbedded(tmp);
    url = embedded.connectionString.replace(/\/[^/]*$/, '/postgres');
    console.log(`[tests] TEST_DATABASE_URL not set: using an embedded PostgreSQL in ${tmp} (no PostGIS)`);
  }
  project.provide('adminDatabaseUrl', url);
  project.provide('redisUrl', process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  return async () => {
    await embedded?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
}
