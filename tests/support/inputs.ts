import type { InputSource } from '../../src/input/open-input.js';

/** An in-memory input, fed to the scanner in small chunks so chunk boundaries get exercised. */
export function stringSource(text: string, name = 'test.json', chunk = 4096): InputSource {
  const buf = Buffer.from(text);
  return {
    name,
    kind: 'file',
    sizeHint: buf.length,
    async *open() {
      for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
    },
  };
}

export function hae(data: Record<string, unknown>): string {
  return JSON.stringify({ data });
}

/**
 * The "as of" instant of each example export (the order the phone wrote them). A checkout's file
 * times say nothing about that order (git writes files in any order, milliseconds apart), so
 * tests that import more than one example pass these instead of letting the import use mtimes.
 */
const EXAMPLE_AS_OF: Record<string, string> = {
  'sample-export.json': '2024-03-11T17:00:00Z',
  'sample-export-later.json': '2024-03-11T20:00:00Z',
  'sleep-unaggregated.json': '2024-03-12T12:00:00Z',
};

export function exampleAsOf(name: string): number | undefined {
  const at = EXAMPLE_AS_OF[name];
  return at === undefined ? undefined : Date.parse(at);
}
