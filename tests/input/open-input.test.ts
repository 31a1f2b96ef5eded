/** What the user names (files, directories, gzip, zip, stdin) becomes byte streams, or one clear error. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { isHealthDataHead, resolveInputs, type InputSource } from '../../src/input/open-input.js';
import { EXPORT_CDA_XML, EXPORT_XML, ROUTE_FILE, ROUTE_GPX } from '../../examples/apple/make-samples.js';
import { makeZip } from '../../examples/make-archives.js';

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

  it('finds a localized Apple export in a zip by its <HealthData> root, skipping export_cda.xml and __MACOSX/', async () => {
    const file = path.join(dir, 'exportar.zip');
    await writeFile(
      file,
      makeZip([
        { name: 'apple_health_export/exportar.xml', data: Buffer.from(EXPORT_XML) },
        { name: 'apple_health_export/export_cda.xml', data: Buffer.from(EXPORT_CDA_XML) },
        { name: `apple_health_export/${ROUTE_FILE}`, data: Buffer.from(ROUTE_GPX) },
        // A Mac's resource fork of the export: same name, not the data
        { name: '__MACOSX/apple_health_export/._exportar.xml', data: Buffer.from('\x00\x05\x16\x07<HealthData') },
      ]),
    );
    const sources = await resolveInputs([file]);
    expect(sources.map((s) => s.name)).toEqual([`${file}:apple_health_export/exportar.xml`]);
    const [src] = sources;
    // its routes are reachable next to it, as for export.xml
    expect(await src.siblings!.list('workout-routes/')).toEqual([ROUTE_FILE]);
    await src.siblings!.close();
    expect(await text(src)).toBe(EXPORT_XML);
  });

  it('finds the export in an unzipped folder by content, whatever the language named it', async () => {
    for (const name of ['eksport.xml', '导出.xml', 'Export.xml']) {
      const folder = await mkdtemp(path.join(dir, 'apple-'));
      await writeFile(path.join(folder, name), EXPORT_XML);
      await writeFile(path.join(folder, 'export_cda.xml'), EXPORT_CDA_XML);
      await writeFile(path.join(folder, '._' + name), '\x00\x05\x16\x07');
      const sources = await resolveInputs([folder]);
      expect(sources.map((s) => s.name), name).toEqual([path.join(folder, name)]);
    }
  });

  it('isHealthDataHead: the DOCTYPE or root element names HealthData, and only that', () => {
    expect(isHealthDataHead(Buffer.from(EXPORT_XML.slice(0, 300)))).toBe(true);
    expect(isHealthDataHead(Buffer.from('\ufeff<?xml version="1.0"?>\n<HealthData locale="es_ES">'))).toBe(true);
    expect(isHealthDataHead(Buffer.from(EXPORT_CDA_XML))).toBe(false);
    expect(isHealthDataHead(Buffer.from('<?xml version="1.0"?><HealthDataset/>'))).toBe(false);
    expect(isHealthDataHead(Buffer.from('{"data":{}}'))).toBe(false);
  });
});
