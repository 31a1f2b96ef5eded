/**
 * Turns what the user named (files, directories, `-` for stdin) into byte streams of JSON:
 * plain, gzip (by magic number, whatever the extension) or zip (every .json entry, as the app
 * exports). Everything is streamed; a zip read from stdin is spilled to a temporary file first,
 * since a zip's directory sits at its end.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { InputError, errorMessage } from '../errors.js';

export interface InputSource {
  /** For messages and raw_ingestions: a path, `archive.zip:entry.json`, or `stdin`. */
  name: string;
  kind: 'file' | 'stdin' | 'http';
  /** Size on disk when known, for progress. */
  sizeHint: number | null;
  /** The JSON bytes (decompressed). Call once. */
  open(): AsyncIterable<Buffer>;
}

const GZIP = [0x1f, 0x8b];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const startsWith = (b: Buffer, magic: number[]) => magic.every((m, i) => b[i] === m);
const IMPORTABLE = /\.(json|json\.gz|gz|zip)$/i;

async function peek(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function fileSource(file: string, size: number, gz: boolean): InputSource {
  return {
    name: file,
    kind: 'file',
    sizeHint: size,
    open() {
      // 1 MiB reads: fewer chunk boundaries for the scanner to stitch.
      const raw = createReadStream(file, { highWaterMark: 1 << 20 });
      return gz ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
    },
  };
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, zip) => (err ? reject(err) : resolve(zip!))),
  );
}

async function zipEntries(file: string): Promise<{ name: string; size: number }[]> {
  const zip = await openZip(file);
  const found: { name: string; size: number }[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      if (/\.json$/i.test(e.fileName) && !e.fileName.startsWith('__MACOSX/')) {
        found.push({ name: e.fileName, size: e.uncompressedSize });
      }
      zip.readEntry();
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  zip.close();
  return found;
}

function zipEntrySource(file: string, entryName: string, size: number, cleanup?: () => Promise<void>): InputSource {
  return {
    name: `${file}:${entryName}`,
    kind: 'file',
    sizeHint: size,
    async *open() {
      const zip = await openZip(file);
      try {
        const stream = await new Promise<Readable>((resolve, reject) => {
          zip.on('entry', (e: yauzl.Entry) => {
            if (e.fileName !== entryName) return zip.readEntry();
            zip.openReadStream(e, (err, s) => (err ? reject(err) : resolve(s!)));
          });
          zip.on('end', () => reject(new Error(`entry ${entryName} vanished from ${file}`)));
          zip.on('error', reject);
          zip.readEntry();
        });
        yield* stream as AsyncIterable<Buffer>;
      } finally {
        zip.close();
        await cleanup?.();
      }
    },
  };
}

async function sourcesForFile(file: string): Promise<InputSource[]> {
  const st = await stat(file);
  const head = await peek(file);
  if (startsWith(head, ZIP)) {
    let entries: { name: string; size: number }[];
    try {
      entries = await zipEntries(file);
    } catch (err) {
      throw new InputError(`${file}: not a readable zip archive: ${errorMessage(err)}`, file, 0);
    }
    if (!entries.length) throw new InputError(`${file}: zip archive holds no .json file`, file, 0);
    return entries.map((e) => zipEntrySource(file, e.name, e.size));
  }
  return [fileSource(file, st.size, startsWith(head, GZIP))];
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() && IMPORTABLE.test(e.name)) out.push(p);
  }
  return out;
}

async function stdinSource(stdin: Readable): Promise<InputSource[]> {
  const iterator = (stdin as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (;;) {
      const n = await iterator.next();
      if (n.done) return;
      yield n.value;
    }
  }
  if (startsWith(head, ZIP)) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'healthexport-stdin-'));
    const file = path.join(dir, 'stdin.zip');
    await pipeline(rest(), createWriteStream(file));
    const entries = await zipEntries(file);
    const cleanup = async () => rm(dir, { recursive: true, force: true });
    if (!entries.length) {
      await cleanup();
      throw new InputError('stdin: zip archive holds no .json file', 'stdin', 0);
    }
    // The temporary copy goes when the last entry has been read.
    let left = entries.length;
    return entries.map((e) => zipEntrySource(file, e.name, e.size, async () => (--left === 0 ? cleanup() : undefined)));
  }
  const gz = startsWith(head, GZIP);
  return [
    {
      name: 'stdin',
      kind: 'stdin',
      sizeHint: null,
      open() {
        if (!gz) return rest();
        const gunzip = createGunzip({ chunkSize: 1 << 20 });
        pipeline(rest(), gunzip).catch((err) => gunzip.destroy(err));
        return gunzip;
      },
    },
  ];
}

export async function resolveInputs(args: string[], stdin: Readable = process.stdin): Promise<InputSource[]> {
  const out: InputSource[] = [];
  for (const arg of args) {
    if (arg === '-') {
      out.push(...(await stdinSource(stdin)));
      continue;
    }
    let st;
    try {
      st = await stat(arg);
    } catch {
      throw new InputError(`${arg}: no such file or directory`, arg);
    }
    if (st.isDirectory()) {
      const files = await walk(arg);
      if (!files.length) throw new InputError(`${arg}: directory holds no .json, .json.gz or .zip file`, arg);
      for (const f of files) out.push(...(await sourcesForFile(f)));
    } else {
      out.push(...(await sourcesForFile(arg)));
    }
  }
  return out;
}
