/**
 * An ECG recording of the Apple export (electrocardiograms/ecg_YYYY-MM-DD.csv) → one EventRecord
 * in section `ecg` (the table HAE's ecg array goes to):
 *
 *   Name,Jane Doe
 *   Date of Birth,"Jan 1, 1990"
 *   Recorded Date,2024-01-15 08:30:00 -0800
 *   Classification,Sinus Rhythm
 *   Symptoms,
 *   Software Version,2
 *   Device,"Watch6,1"
 *   Sample Rate,512 hertz
 *   <blank>
 *   Lead,Lead I
 *   Unit,µV
 *   <blank>
 *   -35.254
 *   ...one voltage per line
 *
 * data = {classification, sampleRateHz, lead, unit, symptoms, softwareVersion, device, file,
 * voltages: number[]} plus any other header line under its own name. Name and Date of Birth are
 * not stored (the person is the import's user). time = Recorded Date; endTime = time + samples /
 * rate. eventKey = `apple-ecg-` + the recording instant, stable across exports.
 */
import type { EventRecord } from '../records/model.js';
import { toNum } from '../records/values.js';
import { parseHaeDate } from '../records/dates.js';

/** An ECG file is ~30 s × 512 Hz ≈ 200 kB; anything far larger is not one. */
export const MAX_ECG_BYTES = 32 << 20;

const DROPPED = new Set(['name', 'date of birth']);

function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/""/g, '"');
  return t;
}

function camel(key: string): string {
  const words = key.trim().toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('');
}

/** Parses one ECG CSV; returns the record or a reject reason. */
export function parseEcg(text: string, file: string): EventRecord | string {
  const lines = text.split(/\r?\n/);
  const data: Record<string, unknown> = {};
  const voltages: number[] = [];
  let recorded: string | undefined;
  let rateHz: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const c0 = line.charCodeAt(0);
    // A voltage line: a number (digits, sign, dot) and nothing else.
    if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 46) {
      const v = toNum(line.trim().replace(/,$/, ''));
      if (v !== v) return `ECG ${file} line ${i + 1}: ${JSON.stringify(line.slice(0, 40))} is not a voltage`;
      voltages.push(v);
      continue;
    }
    const comma = line.indexOf(',');
    const key = (comma < 0 ? line : line.slice(0, comma)).trim();
    const value = comma < 0 ? '' : unquote(line.slice(comma + 1));
    const lk = key.toLowerCase();
    if (DROPPED.has(lk)) continue;
    switch (lk) {
      case 'recorded date':
        recorded = value;
        data.recordedDate = value;
        break;
      case 'sample rate': {
        const n = toNum(value.split(/\s+/)[0] ?? '');
        rateHz = n === n && n > 0 ? n : null;
        data.sampleRateHz = rateHz;
        if (rateHz === null) data.sampleRate = value;
        break;
      }
      default:
        if (key) data[camel(key)] = value === '' ? null : value;
    }
  }
  if (recorded === undefined) return `ECG ${file}: no "Recorded Date" line`;
  const time = parseHaeDate(recorded);
  if (time === null) return `ECG ${file}: Recorded Date ${JSON.stringify(recorded)} is not a date`;
  if (voltages.length === 0) return `ECG ${file}: no voltage samples`;
  data.file = file;
  data.samples = voltages.length;
  data.voltages = voltages;
  return {
    kind: 'event',
    section: 'ecg',
    time,
    endTime: rateHz !== null ? time + Math.round((voltages.length / rateHz) * 1000) : null,
    eventKey: `apple-ecg-${time}`,
    source: typeof data.device === 'string' ? data.device : '',
    data,
  };
}
