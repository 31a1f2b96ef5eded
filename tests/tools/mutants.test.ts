/** The planted-bug list of `npm run test:mutate` still fits the source it edits. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MUTANTS, mutantProblems } from './mutants.js';

describe('test:mutate mutant list', () => {
  it('every snippet occurs exactly once in its file, and every test file it runs exists', () => {
    expect(MUTANTS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(MUTANTS.map((m) => m.id)).size).toBe(MUTANTS.length);
    expect(mutantProblems(MUTANTS, path.resolve(import.meta.dirname, '../..'))).toEqual([]);
  });

  it('reports a snippet that is no longer there', () => {
    const gone = { ...MUTANTS[0], find: 'this line is in no source file' };
    expect(mutantProblems([gone], path.resolve(import.meta.dirname, '../..'))).toEqual([
      `${gone.id}: snippet found 0 times in ${gone.file}: this line is in no source file`,
    ]);
  });
});
