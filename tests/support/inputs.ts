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
