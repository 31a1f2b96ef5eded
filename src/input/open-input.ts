/**
 * Turns what the user named (files, directories, `-` for stdin) into byte streams of JSON:
 * plain, gzip (by magic number, whatever the extension) or zip (every .json entry, as the app
 * exports). Everything is streamed; a zip read from stdin is spilled to a temporary file first,
 * since a zip's directory sits at its end.
 *
 * Apple Health's own export is one source: its export.xml, whether inside the export.zip
 * (`apple_health_export/export.xml`), in the unzipped folder, or named directly. The Health app
 * names the file in the phone's language (`exportar.xml`, `eksport.xml`, `导出.xml`, ...), so it
 * is found by content, not by name: the .xml whose root element is <HealthData> (export_cda.xml,
 * beside it, is a <ClinicalDocument>, not health samples, and is left out the same way).
 * `__MACOSX/` entries and `._*` files (resource forks a Mac adds to zips) are skipped. Its `siblings` give the
 * reader the files next to it (workout-routes/*.gpx, electrocardiograms/*.csv) from the same
 * archive or folder. Which reader reads a stream is decided by its content (src/import/detect.ts).
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
  /** When the file (or the archive holding it) was last modified, epoch ms; unknown for stdin/http. */
  modifiedAt?: number;
  /** The JSON bytes (decompressed). Call once. */
  open(): AsyncIterable<Buffer>;
  /** Files next to this one (same folder or archive), for formats that refer to them. */
  siblings?: SiblingFiles;
}

/**
 * Read access to the files beside an input (Apple export: workout-routes/, electrocardiograms/).
 * Paths are relative to the input's folder, with `/` separators; nothing outside it is reachable.
 */
export interface SiblingFiles {
  /** Files under `prefix` (e.g. `electrocardiograms/`), relative paths, sorted. */
  list(prefix: string): Promise<string[]>;
  /** The bytes of one file, or null when there is no such file. */
  open(relPath: string): Promise<AsyncIterable<Buffer> | null>;
  /** Releases what list/open held open (an archive handle). */
  close(): Promise<void>;
}

const GZIP = [0x1f, 0x8b];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const startsWith = (b: Buffer, magic: number[]) => magic.every((m, i) => b[i] === m);
const IMPORTABLE = /\.(json|json\.gz|gz|zip)$/i;
const XML = /\.xml$/i;
/** Bytes read from the start of an .xml file to find its root element. */
const HEAD_BYTES = 4096;

/** A Mac's additions to a zip or folder: resource forks, never data. */
function macJunk(entryName: string): boolean {
  return entryName.startsWith('__MACOSX/') || path.posix.basename(entryName).startsWith('._');
}

/**
 * True when the first bytes of an XML file say its root is <HealthData>: the Health app's
 * export in any language (`<!DOCTYPE HealthData [` then the DTD, or `<HealthData` at once).
 */
export function isHealthDataHead(head: Buffer): boolean {
  const text = head.toString('utf8');
  for (const marker of ['<!DOCTYPE HealthData', '<HealthData']) {
    const at = text.indexOf(marker);
    if (at < 0) continue;
    const next = text.charCodeAt(at + marker.length);
    // The name must end there (not <HealthDataX>); a head cut right after the name is fine too.
    if (next !== next || next === 32 || next === 9 || next === 10 || next === 13 || next === 62 /* > */ || next === 91 /* [ */ || next === 47 /* / */) {
      return true;
    }
  }
  return false;
}

async function readHead(stream: AsyncIterable<Buffer> & { destroy?: () => void }): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of stream) {
      parts.push(c);
      n += c.length;
      if (n >= HEAD_BYTES) break;
    }
  } finally {
    stream.destroy?.();
  }
  return Buffer.concat(parts).subarray(0, HEAD_BYTES);
}

async function isHealthDataFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return isHealthDataHead(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** A relative path that stays inside its base (no absolute path, no `..`), normalised, or null. */
function safeRel(rel: string): string | null {
  const p = path.posix.normalize(rel.replace(/\\/g, '/').replace(/^\/+/, ''));
  if (p === '.' || p.startsWith('../') || p === '..' || path.posix.isAbsolute(p)) return null;
  return p;
}

/** Siblings of a file on disk: files under its folder. */
function dirSiblings(dir: string): SiblingFiles {
  return {
    async list(prefix) {
      const rel = safeRel(prefix);
      if (rel === null) return [];
      const out: string[] = [];
      const visit = async (sub: string) => {
        let entries;
        try {
          entries = await readdir(path.join(dir, sub), { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) {
          const p = path.posix.join(sub, e.name);
          if (e.isDirectory()) await visit(p);
          else if (e.isFile()) out.push(p);
        }
      };
      await visit(rel);
      return out.sort();
    },
    async open(relPath) {
      const rel = safeRel(relPath);
      if (rel === null) return null;
      const file = path.join(dir, rel);
      try {
        if (!(await stat(file)).isFile()) return null;
      } catch {
        return null;
      }
      return createReadStream(file, { highWaterMark: 1 << 20 });
    },
    async close() {},
  };
}

/**
 * Siblings inside a zip archive: the entries under `base` (the folder of export.xml in the
 * archive). The archive is opened once, on first use, and its entries indexed by name (yauzl
 * reads any entry at random); `close` releases it, then calls `release`.
 */
function zipSiblings(file: string, base: string, release?: () => Promise<void>): SiblingFiles {
  let index: Promise<{ zip: yauzl.ZipFile; entries: Map<string, yauzl.Entry> }> | null = null;
  const load = () =>
    (index ??= (async () => {
      const zip = await openZip(file);
      const entries = new Map<string, yauzl.Entry>();
      await new Promise<void>((resolve, reject) => {
        zip.on('entry', (e: yauzl.Entry) => {
          if (e.fileName.startsWith(base) && !e.fileName.endsWith('/')) entries.set(e.fileName.slice(base.length), e);
          zip.readEntry();
        });
        zip.on('end', resolve);
        zip.on('error', reject);
        zip.readEntry();
      });
      return { zip, entries };
    })());
  let closed = false;
  return {
    async list(prefix) {
      const rel = safeRel(prefix);
      if (rel === null) return [];
      const dir = rel.endsWith('/') ? rel : rel + '/';
      const { entries } = await load();
      return [...entries.keys()].filter((n) => n.startsWith(dir)).sort();
    },
    async open(relPath) {
      const rel = safeRel(relPath);
      if (rel === null) return null;
      const { zip, entries } = await load();
      const e = entries.get(rel);
      if (!e) return null;
      return new Promise<Readable>((resolve, reject) => zip.openReadStream(e, (err, s) => (err ? reject(err) : resolve(s!))));
    },
    async close() {
      if (closed) return;
      closed = true;
      if (index) {
        try {
          (await index).zip.close();
        } catch {
          /* it never opened */
        }
      }
      await release?.();
    },
  };
}

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

function fileSource(file: string, size: number, gz: boolean, modifiedAt: number): InputSource {
  return {
    name: file,
    kind: 'file',
    sizeHint: size,
    modifiedAt,
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

interface ZipEntryInfo {
  name: string;
  size: number;
  /** The Apple Health export (root <HealthData>), whatever its name. */
  apple: boolean;
}

/** The importable entries of a zip: every .json, and each .xml whose root is <HealthData>. */
async function zipEntries(file: string): Promise<ZipEntryInfo[]> {
  const zip = await openZip(file);
  try {
    const json: ZipEntryInfo[] = [];
    const xml: yauzl.Entry[] = [];
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        if (!macJunk(e.fileName) && !e.fileName.endsWith('/')) {
          if (/\.json$/i.test(e.fileName)) json.push({ name: e.fileName, size: e.uncompressedSize, apple: false });
          else if (XML.test(e.fileName)) xml.push(e);
        }
        zip.readEntry();
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
    const found = [...json];
    for (const e of xml) {
      const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(e, (err, st) => (err ? reject(err) : resolve(st!))));
      if (isHealthDataHead(await readHead(stream))) found.push({ name: e.fileName, size: e.uncompressedSize, apple: true });
    }
    return found;
  } finally {
    zip.close();
  }
}

function zipEntrySource(file: string, entry: ZipEntryInfo, cleanup?: () => Promise<void>, modifiedAt?: number): InputSource {
  const { name: entryName, size } = entry;
  return {
    name: `${file}:${entryName}`,
    kind: 'file',
    sizeHint: size,
    // The archive's own time: an entry's DOS time has no time zone.
    ...(modifiedAt === undefined ? {} : { modifiedAt }),
    ...(entry.apple ? { siblings: zipSiblings(file, path.posix.dirname(entryName) === '.' ? '' : path.posix.dirname(entryName) + '/', cleanup) } : {}),
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
    let entries: ZipEntryInfo[];
    try {
      entries = await zipEntries(file);
    } catch (err) {
      throw new InputError(`${file}: not a readable zip archive: ${errorMessage(err)}`, { file, offset: 0 });
    }
    if (!entries.length) throw new InputError(`${file}: zip archive holds no .json file and no Apple Health export.xml`, { file, offset: 0 });
    return entries.map((e) => zipEntrySource(file, e, undefined, st.mtimeMs));
  }
  const gz = startsWith(head, GZIP);
  const src = fileSource(file, st.size, gz, st.mtimeMs);
  // A plain file may be an Apple export.xml: its routes and ECGs are in its folder.
  if (!gz) src.siblings = dirSiblings(path.dirname(file));
  return [src];
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  // An unzipped Apple export: its export.xml (by content: the name is localized) is the source;
  // its subfolders (workout-routes/, electrocardiograms/) are read through it, not walked.
  const apple: string[] = [];
  for (const e of entries) {
    if (e.isFile() && XML.test(e.name) && !macJunk(e.name) && (await isHealthDataFile(path.join(dir, e.name)))) apple.push(e.name);
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!apple.length && e.name !== '__MACOSX') out.push(...(await walk(p)));
    } else if (e.isFile() && !macJunk(e.name) && (IMPORTABLE.test(e.name) || apple.includes(e.name))) out.push(p);
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
      throw new InputError('stdin: zip archive holds no .json file and no Apple Health export.xml', { file: 'stdin', offset: 0 });
    }
    // The temporary copy goes when the last entry has been read (and an Apple export's siblings
    // have been released: they count as one more).
    let left = entries.length + entries.filter((e) => e.apple).length;
    return entries.map((e) => zipEntrySource(file, e, async () => (--left === 0 ? cleanup() : undefined)));
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
      throw new InputError(`${arg}: no such file or directory`, { file: arg });
    }
    if (st.isDirectory()) {
      const files = await walk(arg);
      if (!files.length) throw new InputError(`${arg}: directory holds no .json, .json.gz or .zip file and no Apple Health export.xml`, { file: arg });
      for (const f of files) out.push(...(await sourcesForFile(f)));
    } else {
      out.push(...(await sourcesForFile(arg)));
    }
  }
  return out;
}
