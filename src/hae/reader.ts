/** The HAE JSON reader: scanner -> parsed slices -> mapped records, as the import pipeline wants them. */
import { rawText, type ReaderBatch, type RecordReader, type ReaderStats } from '../records/reader.js';
import { latestRecordMs } from '../records/admissible.js';
import { isKnownMetric } from '../records/known-metrics.js';
import { mapSlice } from './map.js';
import { parseSlices } from './parse-slices.js';
import type { RecordKind } from '../records/model.js';
import { scanHae, slicePath, type ScanStats } from './scanner.js';

/** Raw text kept with a reject; a reject must not carry a multi-megabyte workout. */
const MAX_RAW = 64 * 1024;

const METRIC_KIND: Record<string, RecordKind> = {
  heart_rate: 'heart_rate',
  blood_pressure: 'blood_pressure',
  sleep_analysis: 'sleep_night',
};

/** The kind a record would have been, for counting one that could not even be parsed. */
function kindOfSlice(section: string, metricName: string | undefined): RecordKind {
  if (section === 'metrics') return (metricName && METRIC_KIND[metricName]) || 'quantity';
  return section === 'workouts' ? 'workout' : 'event';
}

/** `maxElementBytes`: longest datapoint or workout read whole (see scanHae); default no limit. */
export function haeReader(input: AsyncIterable<Buffer>, opts: { maxElementBytes?: number } = {}): RecordReader {
  const scanStats: ScanStats = { bytes: 0, unknownKeys: [] };
  const stats: ReaderStats = { metrics: new Map(), unknownKeys: scanStats.unknownKeys };
  async function* batches(): AsyncGenerator<ReaderBatch> {
    const latest = latestRecordMs();
    for await (const slices of scanHae(input, { stats: scanStats, maxElementBytes: opts.maxElementBytes })) {
      const out: ReaderBatch = { records: [], rejects: [], checked: true };
      for (const p of parseSlices(slices)) {
        const s = p.slice;
        if (s.section === 'metrics' && s.metricName && !stats.metrics.has(s.metricName)) {
          stats.metrics.set(s.metricName, isKnownMetric(s.metricName));
        }
        const raw = () => rawText(s.text, MAX_RAW);
        if (p.error !== undefined) {
          out.rejects.push({ kind: kindOfSlice(s.section, s.metricName), reason: p.error, path: slicePath(s), byteOffset: s.offset, raw: raw() });
          continue;
        }
        const mapped = mapSlice(s.section, s.metricName, s.metricUnits, p.value, latest);
        for (const r of mapped.records) out.records.push(r);
        for (const rj of mapped.rejects) {
          out.rejects.push({
            kind: rj.kind ?? kindOfSlice(s.section, s.metricName),
            reason: rj.reason,
            path: slicePath(s) + rj.pathSuffix,
            byteOffset: s.offset,
            raw: rj.raw !== undefined ? JSON.stringify(rj.raw) : raw(),
          });
        }
      }
      yield out;
    }
  }
  return { batches: batches(), stats };
}
