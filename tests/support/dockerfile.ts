/**
 * Reads a Dockerfile into stages and their instructions, enough for tests to check (and run) its
 * commands without Docker: continuation lines joined, comments dropped, RUN's `--mount=` flags
 * removed.
 */
import { readFileSync } from 'node:fs';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

export function readDockerfile(file: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = readFileSync(file, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, rest] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      const from = (m?.[1] ?? rest).replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
      stages.push({ from, name: m?.[2] ?? null, instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args.set(k, v ?? '');
    } else if (stages.length) {
      const cleaned = upper === 'RUN' ? rest.replace(/--mount=\S+\s+/g, '') : rest;
      stages.at(-1)!.instructions.push({ op: upper, args: cleaned.replace(/\s+/g, ' ').trim() });
    }
  }
  return { args, stages };
}

/** The shell commands of a stage's RUN instructions, each `&&` part on its own. */
export function runCommands(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.op === 'RUN').flatMap((i) => i.args.split(/\s*&&\s*/));
}
