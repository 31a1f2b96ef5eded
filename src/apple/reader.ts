/**
 * The Apple Health export reader: export.xml (the Health app's "Export All Health Data") →
 * typed records, as the import pipeline wants them (src/import/reader.ts). Streamed through a
 * SAX-style tokenizer (fast-xml.ts; saxes on request) in constant memory; the workout routes
 * (workout-routes/*.gpx) and ECGs (electrocardiograms/*.csv) are read from the files next to
 * export.xml (same archive or folder) through the input's `siblings`. Choices of the mapping:
 * src/apple/README.md.
 *
 * Elements of <HealthData>:
 *   Record          → QuantityRecord / HeartRateRecord / SleepStageRecord (map-record.ts)
 *   Correlation     → BloodPressureRecord (blood pressure) or an event `correlation`
 *   Workout         → WorkoutRecord; its GPX route → RoutePointRecords (after them, the workout,
 *                     which carries the count of points)
 *   ActivitySummary → an event `activitySummary`
 *   ExportDate      → stats.exportedAt (the import's "as of" instant: which export is newer)
 *   Me              → skipped (birth date and sex: not health samples)
 *   anything else (ClinicalRecord, Audiogram, VisionPrescription, ...) → skipped, reported in
 *                     the summary's unknown keys
 * Then every electrocardiograms/*.csv → an event `ecg`.
 *
 * Reject paths: `HealthData/Record[12345]` (index among the Record elements, from 0),
 * `HealthData/Workout[3]`, ...; byte offsets are those of the element's `<` in export.xml.
 */
import type { HealthRecord, RecordKind, WorkoutRecord } from '../records/model.js';
import { latestRecordMs, recordProblem } from '../records/admissible.js';
import { parseHaeDate } from '../records/dates.js';
import { InstantSeq } from '../records/instant-seq.js';
import { isKnownMetric } from '../records/known-metrics.js';
import { put } from '../records/values.js';
import type { ReaderBatch, ReaderStats, RecordReader } from '../records/reader.js';
import type { InputSource, SiblingFiles } from '../input/open-input.js';
import { MAX_ECG_BYTES, parseEcg } from './ecg.js';
import { readGpx } from './gpx.js';
import { kindOf, mapRecord, type Attrs } from './map-record.js';
import { isBloodPressure, locationPoint, mapActivitySummary, mapCorrelation, mapWorkout, type Node } from './map-workout.js';
import { appleType, type AppleType } from './type-map.js';
import { FastXml } from './fast-xml.js';
import { InputError } from '../errors.js';
import { XmlFeed } from './xml-feed.js';

/** Raw start-tag text kept with a reject. */
const MAX_RAW = 4096;
/** Records per yielded batch (roughly; a batch is cut after a piece of input). */
const BATCH = 1024;
/**
 * Input is parsed in pieces of this many bytes, and a batch yielded between them once it holds
 * BATCH records, so the import can hand node's event loop to PostgreSQL's replies between
 * batches (import/run-import.ts) as it does for HAE files. Measured on the 314 MB bench export
 * (2026-12-01): the same speed (node is the busy side of an Apple import, 17-19 CPU-s in
 * 17.5-18 s), peak RSS 280 -> 227 MB (against 4096 records per 1 MiB read chunk). (FastXml
 * decodes each piece in halves: see its MAX_PIECE.)
 */
const PIECE = 128 * 1024;
/** Deeper elements inside a Workout/Correlation are ignored (a hostile file cannot nest forever). */
const MAX_TREE_DEPTH = 8;
/** ECGs per yielded batch (each holds ~15,000 voltages). */
const ECG_BATCH = 8;

/** A start tag as the tokenizers give it. */
interface Tag {
  name: string;
  attributes: Record<string, string>;
  isSelfClosing: boolean;
}

/** What the parser needs of a tokenizer (FastXml, or saxes through XmlFeed). */
interface TagFeed {
  push(buf: Buffer): void;
  end(): void;
  tagOffset(): number;
  tagText(max?: number): string;
  tagLater(max?: number): () => string;
  tolerated: number;
}

export type XmlTokenizer = 'fast' | 'saxes';

const enum Top {
  None,
  Record,
  Tree,
  Skip,
}

interface RouteJob {
  route: true;
  workout: WorkoutRecord;
  files: string[];
  locations: Node[];
  path: string;
}

type Item = ReaderBatch | RouteJob;

function isRouteJob(i: Item): i is RouteJob {
  return (i as RouteJob).route === true;
}

/**
 * Attributes of a top-level Record that the mapping does not store (map-record.ts): left
 * undecoded. Skipping the device description (~130 bytes of entities a record) and the other two
 * took an Apple dry run of 314 MB from 4.3 to 4.0 s (2026-12-01).
 */
const RECORD_UNREAD: ReadonlySet<string> = new Set(['device', 'creationDate', 'sourceVersion']);

/** What a child element kept in memory costs besides its bytes, for the element limit (checkSize). */
const CHILD_COST = 128;

/** Skipped without a word: known, and not health samples. */
const IGNORED = new Set(['Me']);

class ExportXmlParser {
  out: ReaderBatch = { records: [], rejects: [], checked: true };
  readonly queue: Item[] = [];
  readonly feed: TagFeed;
  private depth = 0;
  private top = Top.None;
  private rec: HealthRecord | null = null;
  /** Where `rec` came from, when it is checked at its end tag (after its metadata is added). */
  private recPlace: { path: string; offset: number; raw: () => string } | null = null;
  private ibi: { bpm: number | string; time: string }[] | null = null;
  private tree: Node[] = [];
  private treeName = '';
  private treePath = '';
  private treeOffset = 0;
  private treeRaw = '';
  /** Where the top-level element being read starts (byte offset), and its children so far. */
  private topOffset = 0;
  private children = 0;
  private readonly counts = new Map<string, number>();
  private nRecords = 0;
  private readonly types = new Map<string, AppleType>();
  private readonly unknown = new Set<string>();

  constructor(
    private readonly stats: ReaderStats,
    tokenizer: XmlTokenizer,
    /**
     * Longest top-level element kept whole (a Record with its metadata, a Workout or Correlation
     * with its children): over it the input fails. Without it, one Workout of a 256 MB upload's
     * worth of children would become millions of objects in memory (serve sets it).
     */
    private readonly maxElementBytes: number,
  ) {
    const handlers = {
      open: (t: Tag) => this.open(t),
      close: () => this.close(),
      unread: (name: string, depth: number) => (depth === 1 && name === 'Record' ? RECORD_UNREAD : null),
    };
    this.feed = tokenizer === 'saxes' ? new XmlFeed(handlers) : new FastXml(handlers);
  }

  get size(): number {
    return this.out.records.length + this.out.rejects.length;
  }

  /** Records out of the accepted range or with unstorable text (src/records/admissible.ts). */
  private readonly latest = latestRecordMs();

  /** Adds `r` to the batch, or rejects it with its context when it cannot be stored. */
  private emit(r: HealthRecord, path: string, offset: number | null, raw: () => string | null): boolean {
    const why = recordProblem(r, this.latest);
    if (why === null) return true;
    this.reject(r.kind, why, path, offset, raw());
    return false;
  }

  private reject(kind: RecordKind, reason: string, path: string, offset: number | null, raw: string | null) {
    this.out.rejects.push({ kind, reason, path, byteOffset: offset, raw });
  }

  private index(name: string): number {
    const n = this.counts.get(name) ?? 0;
    this.counts.set(name, n + 1);
    return n;
  }

  private open(tag: Tag): void {
    const d = this.depth++;
    if (d === 1) return this.openTop(tag);
    if (d === 0) {
      if (tag.name !== 'HealthData') {
        throw new InputError(
          `not an Apple Health export: the root element is <${tag.name}>, not <HealthData>`,
          { offset: this.feed.tagOffset() },
        );
      }
      return;
    }
    switch (this.top) {
      case Top.Record:
        this.checkSize();
        return this.openRecordChild(tag, d);
      case Top.Tree:
        this.checkSize();
        return this.openTreeChild(tag, d);
    }
  }

  /**
   * Throws when the top-level element being kept has grown past maxElementBytes: its bytes, plus
   * CHILD_COST for each child, which becomes an object of its own. Counting bytes alone, a
   * 16 MiB Workout of short WorkoutEvent children held about 100 MB: 8 such uploads at once
   * took serve to 573 MB (`npm run bench:bombs -- --kind workout`), 212 MB counting 128 bytes a
   * child. A 10-hour route of inline Locations (36,000, ~7 MB) stays well under 16 MiB.
   */
  private checkSize(): void {
    this.children++;
    if (this.feed.tagOffset() - this.topOffset + this.children * CHILD_COST <= this.maxElementBytes) return;
    throw new InputError(`an element starting at byte ${this.topOffset} is larger than the limit of ${this.maxElementBytes} bytes`, {
      offset: this.topOffset,
    });
  }

  private openTop(tag: Tag): void {
    const a = tag.attributes as Attrs;
    this.topOffset = this.feed.tagOffset();
    this.children = 0;
    switch (tag.name) {
      case 'Record': {
        const idx = this.nRecords++;
        const type = a.type;
        if (type === undefined || type === '') {
          this.reject('quantity', 'Record type missing', `HealthData/Record[${idx}]`, this.feed.tagOffset(), this.feed.tagText(MAX_RAW));
          this.top = Top.Skip;
          return;
        }
        let t = this.types.get(type);
        if (t === undefined) {
          t = appleType(type);
          this.types.set(type, t);
          if (!this.stats.metrics.has(t.metric)) this.stats.metrics.set(t.metric, isKnownMetric(t.metric));
        }
        const r = mapRecord(a, t);
        if (typeof r === 'string') {
          this.reject(kindOf(t), r, `HealthData/Record[${idx}]`, this.feed.tagOffset(), this.feed.tagText(MAX_RAW));
          this.top = Top.Skip;
          return;
        }
        if (tag.isSelfClosing) {
          if (!this.emit(r, `HealthData/Record[${idx}]`, this.feed.tagOffset(), () => this.feed.tagText(MAX_RAW))) {
            this.top = Top.Skip;
            return;
          }
          this.recPlace = null;
        } else {
          // Its MetadataEntry children become part of it: checked at the end tag, with them.
          this.recPlace = { path: `HealthData/Record[${idx}]`, offset: this.feed.tagOffset(), raw: this.feed.tagLater(MAX_RAW) };
        }
        this.rec = r;
        this.top = Top.Record;
        return;
      }
      case 'Workout':
      case 'Correlation': {
        const root: Node = { ...a };
        this.tree = [root];
        this.treeName = tag.name;
        this.treePath = `HealthData/${tag.name}[${this.index(tag.name)}]`;
        this.treeOffset = this.feed.tagOffset();
        this.treeRaw = this.feed.tagText(MAX_RAW);
        this.top = Top.Tree;
        return;
      }
      case 'ActivitySummary': {
        const path = `HealthData/ActivitySummary[${this.index(tag.name)}]`;
        const r = mapActivitySummary(a);
        if (typeof r === 'string') this.reject('event', r, path, this.feed.tagOffset(), this.feed.tagText(MAX_RAW));
        else if (this.emit(r, path, this.feed.tagOffset(), () => this.feed.tagText(MAX_RAW))) this.out.records.push(r);
        this.top = Top.Skip;
        return;
      }
      case 'ExportDate': {
        const t = parseHaeDate(a.value);
        if (t !== null) this.stats.exportedAt = t;
        this.top = Top.Skip;
        return;
      }
      default:
        if (!IGNORED.has(tag.name) && !this.unknown.has(tag.name)) {
          this.unknown.add(tag.name);
          this.stats.unknownKeys.push(tag.name);
        }
        this.top = Top.Skip;
    }
  }

  private openRecordChild(tag: Tag, d: number): void {
    const rec = this.rec as HealthRecord & { extra: Record<string, unknown> | null };
    const a = tag.attributes as Attrs;
    if (d === 2) {
      if (tag.name === 'MetadataEntry') {
        if (a.key !== undefined) put((rec.extra ??= {}), a.key, a.value ?? null);
      } else if (tag.name === 'HeartRateVariabilityMetadataList') {
        this.ibi = [];
        put((rec.extra ??= {}), 'instantaneousBeatsPerMinute', this.ibi);
      }
    } else if (d === 3 && this.ibi !== null && tag.name === 'InstantaneousBeatsPerMinute') {
      const bpm = Number(a.bpm);
      this.ibi.push({ bpm: Number.isFinite(bpm) ? bpm : (a.bpm ?? ''), time: a.time ?? '' });
    }
  }

  private openTreeChild(tag: Tag, d: number): void {
    if (d > MAX_TREE_DEPTH) return;
    const parent = this.tree[d - 2];
    if (parent === undefined) return;
    const a = tag.attributes as Attrs;
    if (tag.name === 'MetadataEntry') {
      if (a.key !== undefined) put((parent.metadata ??= {}), a.key, a.value ?? '');
      this.tree[d - 1] = {}; // a placeholder: MetadataEntry has no children worth keeping
      return;
    }
    const node: Node = { ...a };
    const list = parent[tag.name];
    if (Array.isArray(list)) list.push(node);
    else put(parent, tag.name, [node]);
    this.tree[d - 1] = node;
  }

  private close(): void {
    const d = --this.depth;
    if (d !== 1) return;
    switch (this.top) {
      case Top.Record: {
        const rec = this.rec as HealthRecord;
        const at = this.recPlace;
        if (at === null || this.emit(rec, at.path, at.offset, at.raw)) this.out.records.push(rec);
        this.rec = null;
        this.recPlace = null;
        this.ibi = null;
        break;
      }
      case Top.Tree:
        this.closeTree();
        break;
    }
    this.top = Top.None;
  }

  private closeTree(): void {
    const root = this.tree[0];
    this.tree = [];
    if (this.treeName === 'Correlation') {
      const r = mapCorrelation(root);
      if (typeof r === 'string') {
        this.reject(isBloodPressure(root) ? 'blood_pressure' : 'event', r, this.treePath, this.treeOffset, this.treeRaw);
      } else if (this.emit(r, this.treePath, this.treeOffset, () => this.treeRaw)) {
        this.out.records.push(r);
      }
      return;
    }
    const m = mapWorkout(root);
    if (typeof m === 'string') {
      this.reject('workout', m, this.treePath, this.treeOffset, this.treeRaw);
      return;
    }
    if (!this.emit(m.workout, this.treePath, this.treeOffset, () => this.treeRaw)) return;
    if (m.routeFiles.length === 0 && m.locations.length === 0) {
      this.out.records.push(m.workout);
      return;
    }
    // Its route is read when the parser pauses (after this chunk); the workout follows its points.
    if (this.size) this.queue.push(this.out);
    this.out = { records: [], rejects: [], checked: true };
    this.queue.push({ route: true, workout: m.workout, files: m.routeFiles, locations: m.locations, path: this.treePath });
  }
}

/** `/workout-routes/route_x.gpx` → `workout-routes/route_x.gpx` (relative to export.xml's folder). */
function relPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^\/+/, '').replace(/^(\.\/)+/, '');
}

async function readAll(stream: AsyncIterable<Buffer>, max: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += c.length;
    if (n > max) return null;
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/**
 * `tokenizer`: FastXml (default), or saxes, a general XML parser (slower; the tests check that
 * both read the same records).
 */
export function appleReader(
  input: AsyncIterable<Buffer>,
  src?: Pick<InputSource, 'siblings'>,
  opts: { tokenizer?: XmlTokenizer; maxElementBytes?: number } = {},
): RecordReader {
  const stats: ReaderStats = { metrics: new Map(), unknownKeys: [] };
  const siblings: SiblingFiles | undefined = src?.siblings;
  // Route points (Locations, GPX) are checked where they are built, against this instant.
  const latest = latestRecordMs();

  async function* route(job: RouteJob): AsyncGenerator<ReaderBatch> {
    const w = job.workout;
    let points = 0;
    // One ranking of same-second points over the workout's inline Locations and route files.
    const seq = new InstantSeq();
    if (job.locations.length) {
      const out: ReaderBatch = { records: [], rejects: [], checked: true };
      job.locations.forEach((l, i) => {
        const p = locationPoint(w.workoutId, l, seq, latest);
        if (typeof p === 'string') {
          out.rejects.push({ kind: 'route_point', reason: p, path: `${job.path}/WorkoutRoute/Location[${i}]`, byteOffset: null, raw: JSON.stringify(l) });
        } else {
          out.records.push(p);
          points++;
        }
      });
      yield out;
    }
    for (const f of job.files) {
      const rel = relPath(f);
      let stream: AsyncIterable<Buffer> | null = null;
      let why = siblings
        ? `route file ${rel} is not in the export`
        : `route file ${rel} cannot be read: export.xml was read alone (import the export.zip or its folder to get routes)`;
      try {
        stream = siblings ? await siblings.open(rel) : null;
      } catch (err) {
        why = `route file ${rel} cannot be read: ${(err as Error).message}`;
      }
      if (stream === null) {
        yield { records: [], rejects: [{ kind: 'route_point', reason: why, path: `${job.path}/WorkoutRoute`, byteOffset: null, raw: f }] };
        continue;
      }
      const res = { points: 0 };
      yield* readGpx(stream, w.workoutId, rel, res, seq, latest);
      points += res.points;
    }
    w.routePoints = points;
    yield { records: [w], rejects: [], checked: true };
  }

  async function* drain(p: ExportXmlParser): AsyncGenerator<ReaderBatch> {
    if (p.size) p.queue.push(p.out);
    p.out = { records: [], rejects: [], checked: true };
    while (p.queue.length) {
      const item = p.queue.shift() as Item;
      if (isRouteJob(item)) yield* route(item);
      else yield item;
    }
  }

  async function* ecgs(): AsyncGenerator<ReaderBatch> {
    if (!siblings) return;
    let out: ReaderBatch = { records: [], rejects: [] };
    let files: string[];
    try {
      files = (await siblings.list('electrocardiograms/')).filter((f) => /\.csv$/i.test(f));
    } catch (err) {
      yield { records: [], rejects: [{ kind: 'event', reason: `cannot list electrocardiograms/: ${(err as Error).message}`, path: 'electrocardiograms/', byteOffset: null, raw: null }] };
      return;
    }
    for (const f of files) {
      let r: ReturnType<typeof parseEcg>;
      try {
        const stream = await siblings.open(f);
        const buf = stream ? await readAll(stream, MAX_ECG_BYTES) : null;
        r = buf === null ? `ECG ${f}: missing or larger than ${MAX_ECG_BYTES} bytes` : parseEcg(buf.toString('utf8'), f);
      } catch (err) {
        r = `ECG ${f} cannot be read: ${(err as Error).message}`;
      }
      if (typeof r === 'string') out.rejects.push({ kind: 'event', reason: r, path: f, byteOffset: null, raw: null });
      else out.records.push(r);
      if (out.records.length >= ECG_BATCH) {
        yield out;
        out = { records: [], rejects: [] };
      }
    }
    if (out.records.length || out.rejects.length) yield out;
  }

  async function* batches(): AsyncGenerator<ReaderBatch> {
    const p = new ExportXmlParser(stats, opts.tokenizer ?? 'fast', opts.maxElementBytes ?? Infinity);
    try {
      for await (const chunk of input) {
        for (let at = 0; at < chunk.length; at += PIECE) {
          try {
            p.feed.push(at === 0 && chunk.length <= PIECE ? chunk : chunk.subarray(at, at + PIECE));
          } catch (err) {
            // Everything complete before the break is still yielded (and loaded), then the error.
            yield* drain(p);
            throw err;
          }
          if (p.queue.length || p.size >= BATCH) yield* drain(p);
        }
      }
      try {
        p.feed.end();
      } catch (err) {
        yield* drain(p);
        throw err;
      }
      yield* drain(p);
      if (p.feed.tolerated) stats.unknownKeys.push(`(${p.feed.tolerated} duplicated XML attributes: the later value kept)`);
      yield* ecgs();
    } finally {
      await siblings?.close?.();
    }
  }
  return { batches: batches(), stats };
}
