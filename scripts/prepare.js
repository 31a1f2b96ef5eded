#!/usr/bin/env node
// npm's `prepare` hook: runs after `npm ci` / `npm install` in this directory, and during
// `npm pack`. It compiles src/ to dist/ only in a git checkout installed with its dev
// dependencies, so `npm ci && npx healthexport ...` works from a clone. The packed tarball is
// built by `prepack` and ships dist/ without src/: installing it, or `npm ci --omit=dev` over its
// contents (the Dockerfile's runtime stage), compiles nothing and needs no TypeScript.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const command = process.env.npm_command;
// prepack has just built dist/; building again would only double the time of `npm pack`.
if (command === 'pack' || command === 'publish') process.exit(0);
if (!existsSync('src')) process.exit(0);

let hasCompiler = true;
try {
  createRequire(import.meta.url).resolve('typescript/package.json');
} catch {
  hasCompiler = false;
}
if (!hasCompiler) {
  if (!existsSync('dist/cli/main.js')) {
    console.warn(
      'healthexport: dist/ is not built and TypeScript (a dev dependency) is not installed: ' +
        'run `npm ci` with dev dependencies once, or install the packed tarball (README: Install)',
    );
  }
  process.exit(0);
}
const npm = process.env.npm_execpath;
const build = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(build.status ?? 1);
