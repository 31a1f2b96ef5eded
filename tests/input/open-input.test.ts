/** What the user names (files, directories, gzip, zip, stdin) becomes byte streams, or one clear error. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { resolveInputs, type InputSource } from '../../src/input/open-input.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
let dir: string;

async function text(src: InputSource): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of src.open()) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'he-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveInputs', () => {
  it('decompresses gzip by content, whatever the name says', async () => {
    const file = path.join(dir, 'looks-plain.json');
    await writeFile(file, gzipSync('{"data":{}}'));
    const [src] = await resolveInputs([file]);
    expect(src.kind).toBe('file');
    expect(await text(src)).toBe('{"data":{}}');
  });

  it('reads stdin for "-"', async () => {
    const [src] = await resolveInputs(['-'], Readable.from([Buffer.from('{"data":'), Buffer.from('{}}')]));
    expect(src.kind).toBe('stdin');
    expect(await text(src)).toBe('{"data":{}}');
  });

  it('gives the same bytes for the sample as .json, .json.gz and .zip', async () => {
    const [plain] = await resolveInputs([path.join(EXAMPLES, 'sample-export.json')]);
    const [gz] = await resolveInputs([path.join(EXAMPLES, 'sample-export.json.gz')]);
    const [zip] = await resolveInputs([path.join(EXAMPLES, 'sample-export.zip')]);
    const want = await text(plain);
    expect(want.length).toBeGreaterThan(1000);
    expect(await text(gz)).toBe(want);
    expect(await text(zip)).toBe(want);
  });

  it('names the file in one InputError when it is missing, or a directory holds nothing to import', async () => {
    const missing = path.join(dir, 'nope.json');
    await expect(resolveInputs([missing])).rejects.toThrow(InputError);
    await expect(resolveInputs([missing])).rejects.toMatchObject({ file: missing, message: `${missing}: no such file or directory` });
    const empty = await mkdtemp(path.join(dir, 'empty-'));
    await expect(resolveInputs([empty])).rejects.toMatchObject({ file: empty, exitCode: 2 });
  });
});
