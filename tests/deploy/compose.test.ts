/**
 * compose.yaml, the Dockerfile and the provisioning under monitoring/, checked without Docker
 * (no Docker engine runs where this project is tested): the files parse, every service the README
 * lists is there with the image it names, images are pinned, what the services mount exists and
 * points at the right files, Prometheus' configuration passes promtool, the dashboards' data
 * sources are provisioned, and the Dockerfile builds with the commands CI runs.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { adminUrl } from '../support/db.js';
import { readDockerfile, runCommands } from '../support/dockerfile.js';
import { promtoolOrSkip } from '../support/debian-tools.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const yamlFile = (rel: string) => parse(read(rel), { merge: true });

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, unknown> | string[];
  profiles?: string[];
  restart?: string;
}

const compose = yamlFile('compose.yaml') as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

/** Host path of a container path, through the service's bind mounts. */
function hostPath(service: Service, containerPath: string): string | null {
  for (const v of service.volumes ?? []) {
    const [src, dst] = v.split(':');
    if (!src.startsWith('.')) continue;
    if (containerPath === dst || containerPath.startsWith(dst + '/')) return path.join(ROOT, src, containerPath.slice(dst.length));
  }
  return null;
}

/** The `| \`service\` | \`image\` | ... |` rows of the README's compose table. */
function readmeServices(): Map<string, string> {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('### With Docker Compose'));
  const table = section.slice(0, section.indexOf('\n#'));
  const rows = new Map<string, string>();
  for (const m of table.matchAll(/^\| `([\w-]+)` \| `([^`]+)` \|/gm)) rows.set(m[1], m[2]);
  return rows;
}

const PROMTOOL = promtoolOrSkip('the promtool check of the compose Prometheus configuration');

function promtool(args: string[]): Promise<{ code: number; out: string }> {
  const bin = PROMTOOL!;
  return new Promise((resolve) =>
    execFile(bin, args, { cwd: ROOT }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` })),
  );
}

describe('compose.yaml', () => {
  it('has every service the README lists, with the image it names, and no other', () => {
    const listed = readmeServices();
    expect([...listed.keys()].sort()).toEqual(Object.keys(services).sort());
    for (const [name, image] of listed) {
      expect(services[name].image, name).toBe(image);
    }
    for (const name of ['healthexport', 'postgres', 'redis', 'pushgateway', 'prometheus', 'grafana']) {
      expect(services, name).toHaveProperty(name);
    }
  });

  it('pins every image to a version and builds healthexport from the Dockerfile', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue; // built here from the Dockerfile, whose base image is checked below
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
    expect(services.healthexport.build).toBe('.');
    expect(services.postgres.image).toMatch(/^postgis\/postgis:/);
    const { stages } = readDockerfile(path.join(ROOT, 'Dockerfile'));
    for (const st of stages) expect(st.from).toMatch(/:\d+\.\d+\.\d+-/);
  });

  it('gives every long-running service a healthcheck and a restart policy, and waits for healthy dependencies', () => {
    for (const [name, s] of Object.entries(services)) {
      const oneShot = s.profiles?.includes('tools') || name === 'partitions';
      if (oneShot) {
        expect(s.healthcheck?.disable, `${name}: the image's HEALTHCHECK is for serve`).toBe(true);
        continue;
      }
      expect(s.healthcheck?.test?.length, name).toBeGreaterThan(0);
      expect(s.restart, name).toBe('unless-stopped');
    }
    const deps = services.healthexport.depends_on as Record<string, { condition: string }>;
    expect(deps.postgres.condition).toBe('service_healthy');
    expect(deps.redis.condition).toBe('service_healthy');
  });

  it('declares every named volume it uses, and mounts only files that exist', () => {
    const used = new Set<string>();
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const src = v.split(':')[0];
        if (src.startsWith('.')) {
          // ./inbox holds the user's own files; compose creates it when missing.
          if (src !== './inbox') expect(existsSync(path.join(ROOT, src)), `${name}: ${src}`).toBe(true);
        } else used.add(src);
      }
    }
    expect([...used].sort()).toEqual(Object.keys(compose.volumes).sort());
  });

  it('takes its secrets from .env, and .env.example sets every variable it reads', () => {
    const text = read('compose.yaml');
    const vars = new Set([...text.matchAll(/\$\{(\w+)/g)].map((m) => m[1]));
    const example = new Set([...read('.env.example').matchAll(/^(\w+)=/gm)].map((m) => m[1]));
    for (const v of vars) expect(example, v).toContain(v);
    // No password written into the file itself.
    expect(text).not.toMatch(/^\s*\w*PASSWORD:\s*[^$\s]/m);
    expect(read('.gitignore')).toMatch(/^\.env$/m);
  });

  it('connects services by the names and ports they listen on', () => {
    const env = services.healthexport.environment!;
    expect(env.DATABASE_URL).toMatch(/@postgres:5432\/healthexport$/);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(services.healthexport.command).toEqual(['serve', '--host', '0.0.0.0', '--port', '8080']);
    // serve is scraped, not pushing (monitoring/README.md: one or the other); imports push.
    expect(env.PUSHGATEWAY_URL).toBeUndefined();
    expect(services.import.environment!.PUSHGATEWAY_URL).toBe('http://pushgateway:9091');
  });
});

describe('Prometheus in compose', () => {
  const prom = services.prometheus;
  const configArg = prom.command!.find((c) => c.startsWith('--config.file='))!.split('=')[1];
  const configFile = hostPath(prom, configArg)!;

  it.skipIf(!PROMTOOL)('loads a configuration from the repository that passes promtool, with the alert rules', async () => {
    expect(existsSync(configFile)).toBe(true);
    const r = await promtool(['check', 'config', configFile]);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.code, r.out).toBe(0);
    expect(parse(readFileSync(configFile, 'utf8')).rule_files).toContain('alerts.yml');
  });

  it('scrapes serve and the Pushgateway at their compose names, the Pushgateway with honor_labels', () => {
    const cfg = parse(readFileSync(configFile, 'utf8'));
    const jobs = new Map<string, any>(cfg.scrape_configs.map((j: any) => [j.job_name, j]));
    const targets = (job: string) => jobs.get(job).static_configs.flatMap((c: any) => c.targets);
    expect(targets('healthexport_serve')).toEqual(['healthexport:8080']);
    expect(targets('pushgateway')).toEqual(['pushgateway:9091']);
    expect(jobs.get('pushgateway').honor_labels).toBe(true);
  });
});

describe('Grafana in compose', () => {
  const grafana = services.grafana;
  const provisioning = hostPath(grafana, '/etc/grafana/provisioning')!;
  const datasources = readdirSync(path.join(provisioning, 'datasources')).flatMap(
    (f) => parse(readFileSync(path.join(provisioning, 'datasources', f), 'utf8')).datasources as any[],
  );

  it('provisions the Prometheus and PostgreSQL data sources at their compose services', () => {
    const byType = new Map(datasources.map((d) => [d.type, d]));
    expect(byType.get('prometheus').url).toBe('http://prometheus:9090');
    expect(byType.get('prometheus').isDefault).toBe(true);
    const pgSource = byType.get('grafana-postgresql-datasource');
    expect(pgSource.url).toBe('postgres:5432');
    expect(pgSource.jsonData.database).toBe(services.postgres.environment!.POSTGRES_DB);
    expect(pgSource.user).toBe(services.postgres.environment!.GRAFANA_DB_USER);
    // Grafana expands ${VAR} in provisioning files from its own environment.
    const secret = /^\$\{(\w+)\}$/.exec(pgSource.secureJsonData.password)![1];
    expect(grafana.environment).toHaveProperty(secret);
  });

  it('loads dashboards from a folder that holds the dashboards in monitoring/grafana, each using a provisioned data source', () => {
    const providers = readdirSync(path.join(provisioning, 'dashboards')).flatMap(
      (f) => parse(readFileSync(path.join(provisioning, 'dashboards', f), 'utf8')).providers as any[],
    );
    expect(providers.length).toBeGreaterThan(0);
    const uids = new Set(datasources.map((d) => d.uid));
    const types = new Set(datasources.map((d) => d.type));
    let dashboards = 0;
    for (const p of providers) {
      const dir = hostPath(grafana, p.options.path)!;
      expect(dir, p.options.path).toBeTruthy();
      expect(statSync(dir).isDirectory()).toBe(true);
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
        dashboards++;
        const dash = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
        expect(dash.panels?.length, f).toBeGreaterThan(0);
        // A `${VAR}` uid must be a data-source template variable of a provisioned type.
        const dsVars = new Map<string, string>(
          (dash.templating?.list ?? []).filter((v: any) => v.type === 'datasource').map((v: any) => [v.name, v.query]),
        );
        const refs = JSON.stringify(dash).matchAll(/"datasource":\s*\{[^{}]*?"uid":\s*"([^"]+)"/g);
        for (const [, uid] of refs) {
          const variable = /^\$\{(\w+)\}$/.exec(uid)?.[1];
          if (variable) expect(types, `${f}: ${uid}`).toContain(dsVars.get(variable));
          else if (uid !== '-- Grafana --' && uid !== 'grafana') expect(uids, `${f}: ${uid}`).toContain(uid);
        }
      }
    }
    expect(dashboards).toBeGreaterThanOrEqual(readdirSync(path.join(ROOT, 'monitoring/grafana')).filter((n) => n.endsWith('.json')).length);
  });
});

describe('the Dockerfile', () => {
  const { stages } = readDockerfile(path.join(ROOT, 'Dockerfile'));
  const build = stages.find((s) => s.name === 'build')!;
  const runtime = stages.at(-1)!;

  it('builds in one stage with the commands CI runs, and ships only the packed package', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    // .ci/run: `npm ci --no-audit --no-fund`, then `npm test`, whose pretest is the build that
    // `npm pack` runs as prepack.
    const ciInstall = read('.ci/run').split('\n').find((l) => /^npm ci\b/.test(l))!.trim();
    const commands = runCommands(build);
    expect(commands).toContain(ciInstall);
    expect(commands.some((c) => c.startsWith('npm pack'))).toBe(true);
    const scripts = JSON.parse(read('package.json')).scripts;
    expect(scripts.prepack).toBe('npm run build');
    expect(scripts.pretest).toBe('npm run build');
    const copies = runtime.instructions.filter((i) => i.op === 'COPY');
    expect(copies.every((c) => c.args.startsWith('--from=build '))).toBe(true);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const c of build.instructions.filter((i) => i.op === 'COPY')) {
      const sources = c.args.split(' ').slice(0, -1).filter((s) => !s.startsWith('--'));
      for (const s of sources.filter((x) => x !== '.')) {
        expect(existsSync(path.join(ROOT, s)), s).toBe(true);
        expect(ignored, s).not.toContain(s.replace(/\/$/, ''));
      }
    }
    for (const needed of ['src', 'bin', 'migrations', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(ignored, needed).not.toContain(needed);
    }
  });

  it('runs as an unprivileged user, serve by default, with a healthcheck', () => {
    const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeTruthy();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.instructions.find((i) => i.op === 'CMD')?.args).toMatch(/"serve"/);
    expect(runtime.instructions.some((i) => i.op === 'HEALTHCHECK')).toBe(true);
  });
});

describe('the Grafana read-only role script', () => {
  it('creates a role that reads every table and writes none', async () => {
    const role = `he_grafana_${randomBytes(4).toString('hex')}`;
    const db = `he_grafana_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    const u = new URL(adminUrl());
    try {
      const out = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          'sh',
          [path.join(ROOT, 'monitoring/postgres/grafana-reader.sh')],
          {
            env: {
              PATH: process.env.PATH,
              PGHOST: u.hostname,
              PGPORT: u.port || '5432',
              PGPASSWORD: decodeURIComponent(u.password),
              POSTGRES_USER: decodeURIComponent(u.username),
              POSTGRES_DB: db,
              GRAFANA_DB_USER: role,
              GRAFANA_DB_PASSWORD: 'secret',
            },
          },
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }),
        ),
      );
      expect(out.code, out.out).toBe(0);
      const owner = new pg.Client({ connectionString: `${adminUrl().replace(/\/[^/]*$/, '')}/${db}` });
      await owner.connect();
      await owner.query(`CREATE TABLE t (x int); INSERT INTO t VALUES (1)`);
      await owner.end();
      const asRole = new URL(adminUrl());
      asRole.username = role;
      asRole.password = 'secret';
      asRole.pathname = `/${db}`;
      const reader = new pg.Client({ connectionString: asRole.toString() });
      await reader.connect();
      try {
        expect((await reader.query('SELECT x FROM t')).rows).toEqual([{ x: 1 }]);
        await expect(reader.query('INSERT INTO t VALUES (2)')).rejects.toThrow(/permission denied/);
      } finally {
        await reader.end();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});
