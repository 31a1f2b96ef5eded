/**
 * Tests that need a tool from a Debian package (promtool, the Pushgateway) and cannot run
 * without it. Outside CI a missing tool skips them with one printed line saying what to install;
 * with CI=true (as .ci/run runs, which installs them) a missing tool fails the file instead.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First of `names` on $PATH, then in /usr/bin; null when none is there. */
export function findOnPath(names: readonly string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin'];
  for (const dir of dirs) for (const name of names) if (executable(path.join(dir, name))) return path.join(dir, name);
  return null;
}

const inCi = () => /^(1|true|yes)$/i.test(process.env.CI ?? '');

/**
 * The tool's path, or null (print one line, skip) when it is missing outside CI; throws in CI.
 * @example const PROMTOOL = debianTool('promtool', findOnPath(['promtool']), 'prometheus'); it.skipIf(!PROMTOOL)(...)
 */
export function debianTool(tool: string, found: string | null, pkg: string, what = 'its tests'): string | null {
  if (found) return found;
  const install = `apt-get install ${pkg}`;
  if (inCi()) throw new Error(`${tool} not found, and CI=true requires it: ${install} (bash .ci/run installs it)`);
  console.log(`[tests] ${tool} not installed: skipping ${what} (install it with: ${install})`);
  return null;
}

/** promtool (Debian package prometheus), or null outside CI when missing. */
export function promtoolOrSkip(what?: string): string | null {
  return debianTool('promtool', findOnPath(['promtool']), 'prometheus', what);
}
