/**
 * The shape of src/, checked on every run: data flows one way (input -> reader -> records ->
 * load -> db), so each folder may import only the folders listed for it below, the two format
 * readers never import each other, no two folders import each other even through a third, and
 * tests/ mirrors src/ folder by folder. Root files (src/errors.ts) are open to all.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = path.join(ROOT, 'src');

/** What each folder may import: the README's layout section draws the same arrows. */
const ALLOWED: Record<string, readonly string[]> = {
  records: [],
  metrics: ['db'],
  input: [],
  db: [],
  rollups: ['records', 'db'],
  hae: ['records'],
  apple: ['records', 'input'],
  load: ['records', 'db', 'rollups'],
  auth: ['db'],
  cache: ['db', 'metrics'],
  import: ['records', 'hae', 'apple', 'input', 'load', 'db', 'cache', 'metrics'],
  server: ['import', 'input', 'auth', 'cache', 'metrics', 'db'],
  cli: ['import', 'input', 'load', 'db', 'cache', 'metrics', 'server', 'auth', 'rollups'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** folder -> folders it imports (relative imports only; `import type` and `import()` included). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of tsFiles(SRC)) {
    const from = path.relative(SRC, file).split(path.sep);
    if (from.length < 2) continue; // a root file
    const deps = graph.get(from[0]) ?? graph.set(from[0], new Set()).get(from[0])!;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), m[1])).split(path.sep);
      if (target.length >= 2 && target[0] !== from[0]) deps.add(target[0]);
    }
  }
  return graph;
}

function reaches(graph: Map<string, Set<string>>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [...(graph.get(from) ?? [])];
  while (stack.length) {
    const f = stack.pop()!;
    if (f === to) return true;
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...(graph.get(f) ?? []));
  }
  return false;
}

describe('src/ structure', () => {
  const graph = folderGraph();

  it('every folder is listed, and imports only what it may', () => {
    expect([...graph.keys()].sort()).toEqual(Object.keys(ALLOWED).sort());
    const wrong: string[] = [];
    for (const [folder, deps] of graph) for (const d of deps) if (!ALLOWED[folder]?.includes(d)) wrong.push(`${folder} -> ${d}`);
    expect(wrong).toEqual([]);
  });

  it('the allowed imports themselves have no cycle, and hae/ and apple/ are strangers', () => {
    const allowed = new Map(Object.entries(ALLOWED).map(([k, v]) => [k, new Set(v)]));
    for (const folder of allowed.keys()) expect(reaches(allowed, folder, folder), `${folder} reaches itself`).toBe(false);
    expect(reaches(graph, 'hae', 'apple') || reaches(graph, 'apple', 'hae')).toBe(false);
  });

  it('sees imports of every form (so a cycle could not hide from it)', () => {
    expect(graph.get('import')).toContain('hae'); // from '../hae/...'
    expect(graph.get('cli')).toContain('server'); // a multi-line import
    expect(graph.get('records')?.size).toBe(0);
  });

  it('tests/ mirrors src/ folder by folder', () => {
    const testDirs = new Set(readdirSync(path.join(ROOT, 'tests')));
    expect([...graph.keys()].filter((f) => !testDirs.has(f))).toEqual([]);
  });
});

/** Packages a module loads at startup: its static imports, followed through src/ (`import type` and `import()` are not loads). */
function packagesLoadedBy(file: string, seen = new Set<string>(), out = new Set<string>()): Set<string> {
  if (seen.has(file)) return out;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s*['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gms)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) packagesLoadedBy(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')), seen, out);
    else if (!spec.startsWith('node:')) out.add(spec.split('/')[0]);
  }
  return out;
}

describe('CLI startup', () => {
  it('loads Redis, the spinner and the HTTP server only for the commands that use them', () => {
    // Each costs every command its load time: ioredis and ora together ~0.1 s of a 0.35 s start.
    const loaded = packagesLoadedBy(path.join(SRC, 'cli/main.ts'));
    expect(loaded).toContain('pg'); // the walk follows src/ (main.ts imports no package but commander itself)
    expect([...loaded].filter((p) => ['ioredis', 'ora'].includes(p))).toEqual([]);
    expect(packagesLoadedBy(path.join(SRC, 'cache/cache.ts'))).not.toContain('ioredis');
  });
});
