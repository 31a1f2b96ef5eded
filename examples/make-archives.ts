/**
 * Regenerates the compressed copies of examples/sample-export.json:
 *
 *   examples/sample-export.json.gz   gzip (node:zlib)
 *   examples/sample-export.zip       a zip holding one entry, named like the app's export file
 *                                    (HealthAutoExport-2024-03-09-2024-03-11.json), deflated
 *
 *   node --import tsx examples/make-archives.ts
 *
 * Node has no zip writer, so this holds a minimal one (single-file or several, deflate, no
 * zip64, no encryption). Output is byte-for-byte reproducible: fixed timestamps, gzip mtime 0.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateRawSync, gzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Name of the JSON entry inside sample-export.zip. */
export const ZIP_ENTRY_NAME = 'HealthAutoExport-2024-03-09-2024-03-11.json';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** Local wall time stored in the entry (zip has no time zone). */
  mtime?: Date;
}

/** DOS date/time words of a wall time given as a Date whose UTC fields hold it. */
function dosDateTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/** A complete zip archive (deflate, UTF-8 names) of `entries`. */
export function makeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const packed = deflateRawSync(e.data, { level: 9 });
    const crc = crc32(e.data);
    const { time, date } = dosDateTime(e.mtime ?? new Date(Date.UTC(2024, 2, 11, 9, 40, 0)));
    if (packed.length >= 0xffffffff || e.data.length >= 0xffffffff || offset >= 0xffffffff) {
      throw new Error('makeZip: entry too large (no zip64 support)');
    }

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); // local file header signature
    local.writeUInt16LE(20, 4); // version needed to extract (2.0: deflate)
    local.writeUInt16LE(0x0800, 6); // flags: bit 11 = UTF-8 file name
    local.writeUInt16LE(8, 8); // method: deflate
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra field length
    locals.push(local, name, packed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); // central directory header signature
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, spec 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk number start
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: regular file rw-r--r--
    central.writeUInt32LE(offset, 42); // offset of the local header
    centrals.push(central, name);

    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // end of central directory signature
  end.writeUInt16LE(0, 4); // this disk
  end.writeUInt16LE(0, 6); // disk with the central directory
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20); // comment length
  return Buffer.concat([...locals, cd, end]);
}

function main(): void {
  const json = readFileSync(join(HERE, 'sample-export.json'));
  const gz = gzipSync(json, { level: 9 }); // header mtime is 0: reproducible
  writeFileSync(join(HERE, 'sample-export.json.gz'), gz);
  console.log(`wrote examples/sample-export.json.gz (${gz.length} bytes)`);
  const zip = makeZip([{ name: ZIP_ENTRY_NAME, data: json }]);
  writeFileSync(join(HERE, 'sample-export.zip'), zip);
  console.log(`wrote examples/sample-export.zip (${zip.length} bytes, entry ${ZIP_ENTRY_NAME})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
