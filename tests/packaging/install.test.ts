/**
 * The package as its users get it: `npm pack` (prepack builds dist/), then
 *   - `npm install -g` of the tarball into a temporary prefix (no dev dependencies), running
 *     `healthexport` from PATH: --version, and an import of the sample on the embedded default;
 *   - `npm ci --omit=dev` over the tarball's contents plus the lockfile: the Dockerfile's runtime
 *     stage does exactly that.
 * The pack runs in a copy of the project: prepack rebuilds dist/, which the other test files run
 * at the same time. Packages come from the npm cache when present (--prefer-offline).
 */
import { spawn } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDockerfile, runCommands } from '../support/dockerfile.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', 'coverage', '.scratch', '.healthexport']);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell: no settings from the npm running the tests, no database. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^npm_/i.test(k) && k.toLowerCase() !== 'npm_config_cache') continue;
    if (/^(PG|DATABASE_URL|REDIS_URL|PUSHGATEWAY_URL|HEALTHEXPORT_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails with the command's output, so a broken install says why. */
function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`);
  return r;
}

describe('the packed tarball', () => {
  let work: string;
  let tarball: string;
  let packed: string[];
  let pkgVersion: string;

  beforeAll(async () => {
    pkgVersion = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')).version;
    work = await mkdtemp(path.join(os.tmpdir(), 'healthexport-pack-'));
    // As root the embedded server runs as the postgres OS user, who must reach the data dir.
    await chmod(work, 0o755);
    const copy = path.join(work, 'project');
    await cp(ROOT, copy, {
      recursive: true,
      filter: (src) => {
        const rel = path.relative(ROOT, src);
        return !NOT_COPIED.has(rel.split(path.sep)[0]) && rel !== path.join('bench', 'out');
      },
    });
    await symlink(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const r = ok(await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: copy }), 'npm pack');
    const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info.filename);
    packed = info.files.map((f) => f.path);
  }, 300_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships the built program, its license and changelog, and nothing that points at missing sources', async () => {
    for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json', 'bin/healthexport.js', 'dist/cli/main.js', 'scripts/prepare.js', 'docs/queries.md']) {
      expect(packed, f).toContain(f);
    }
    expect(packed.filter((f) => f.startsWith('migrations/') && f.endsWith('.up.sql')).length).toBeGreaterThan(0);
    expect(packed.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(packed.filter((f) => f.startsWith('src/') || f.startsWith('tests/'))).toEqual([]);
    expect(packed.filter((f) => f.startsWith('dist/') && !f.endsWith('.js'))).toEqual([]);
    const license = await readFile(path.join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
  });

  it('npm install -g of the tarball gives a healthexport on PATH that imports on the embedded default', async () => {
    const prefix = path.join(work, 'prefix');
    ok(await run('npm', ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: work }), 'npm install -g');
    const installed = path.join(prefix, 'lib', 'node_modules', 'healthexport');
    const deps = await readdir(path.join(installed, 'node_modules'));
    expect(deps).toContain('pg');
    expect(deps).not.toContain('typescript');
    expect(deps).not.toContain('vitest');

    const env = cleanEnv({
      PATH: `${path.join(prefix, 'bin')}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
      HEALTHEXPORT_DATA_DIR: path.join(work, 'data'),
    });
    const v = ok(await run('healthexport', ['--version'], { cwd: work, env }), 'healthexport --version');
    expect(v.stdout.trim()).toBe(pkgVersion);

    const sample = path.join(installed, 'examples', 'sample-export.json');
    const first = ok(await run('healthexport', ['import', sample, '--json'], { cwd: work, env }), 'healthexport import');
    const s1 = JSON.parse(first.stdout);
    expect(s1.status).toBe('ok');
    expect(s1.totals.read).toBeGreaterThan(0);
    expect(s1.totals.inserted).toBe(s1.totals.read);
    // The data directory kept it: the same file again changes nothing.
    const again = ok(await run('healthexport', ['import', sample, '--json'], { cwd: work, env }), 'healthexport import (again)');
    const s2 = JSON.parse(again.stdout);
    expect(s2.totals.unchanged).toBe(s1.totals.read);
    expect(s2.totals.inserted).toBe(0);
  }, 300_000);

  it("the Dockerfile runtime stage's install (npm ci --omit=dev over the tarball contents and the lockfile) runs", async () => {
    // As the build stage lays it out: the tarball unpacked, the lockfile beside it.
    const dir = path.join(work, 'unpacked');
    ok(await run('mkdir', ['-p', dir], { cwd: work }), 'mkdir');
    ok(await run('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1'], { cwd: work }), 'tar');
    await cp(path.join(ROOT, 'package-lock.json'), path.join(dir, 'package-lock.json'));
    const runtime = readDockerfile(path.join(ROOT, 'Dockerfile')).stages.at(-1)!;
    const install = runCommands(runtime).find((c) => c.startsWith('npm ci'));
    expect(install).toMatch(/--omit=dev/);
    const [npm, ...args] = install!.split(' ');
    ok(await run(npm, [...args, '--prefer-offline'], { cwd: dir }), install!);
    const v = ok(await run(process.execPath, ['bin/healthexport.js', '--version'], { cwd: dir }), 'bin/healthexport.js --version');
    expect(v.stdout.trim()).toBe(pkgVersion);
    const help = ok(await run(process.execPath, ['bin/healthexport.js', 'import', '--help'], { cwd: dir }), 'import --help');
    expect(help.stdout).toMatch(/Usage: healthexport import/);
  }, 300_000);
});
