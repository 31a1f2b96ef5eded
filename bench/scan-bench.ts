/**
 * Scanner + batch-parse throughput.
 *
 *   node --import tsx bench/scan-bench.ts FILE [--batch N] [--batch-bytes N] [--chunk BYTES]
 *   node --import tsx bench/scan-bench.ts --generate FILE [--mb 200]   # write a synthetic export
 *
 * Prints MB/s, slices/s and peak RSS (process.resourceUsage().maxRSS).
 */
import { createReadStream, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { scanHae, type ScanStats } from '../src/hae/scanner.js';
import { parseSlices } from '../src/hae/parse-slices.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function pad(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function stamp(ms: number): string {
  const d = new Date(ms - 8 * 3600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} -0800`;
}

/** A synthetic export: mostly heart_rate, some step_count, workouts with 5,000-point routes. */
function generate(file: string, targetMb: number): void {
  const fd = openSync(file, 'w');
  let pending = '';
  const out = (s: string): void => {
    pending += s;
    if (pending.length > 1 << 20) {
      writeSync(fd, pending);
      pending = '';
    }
  };
  const t0 = Date.UTC(2024, 0, 15, 16, 30);
  // Budget: ~60% heart rate, ~20% steps, ~20% workouts.
  const target = targetMb * 1e6;
  const hrCount = Math.round((target * 0.6) / 95);
  const stepCount = Math.round((target * 0.2) / 80);
  const workoutCount = Math.max(1, Math.round((target * 0.2) / 1.3e6));
  out('{"data":{"metrics":[');
  out('{"name":"heart_rate","units":"count/min","data":[');
  for (let i = 0; i < hrCount; i++) {
    const avg = 60 + (i % 40) + 0.5;
    out(
      `${i ? ',' : ''}{"date":"${stamp(t0 + i * 60_000)}","Min":${avg - 2.5},"Avg":${avg},"Max":${avg + 2.5},"source":"Jane’s Apple Watch"}`,
    );
  }
  out(']},{"name":"step_count","units":"count","data":[');
  for (let i = 0; i < stepCount; i++) {
    out(`${i ? ',' : ''}{"date":"${stamp(t0 + i * 60_000)}","qty":${(i * 7) % 130},"source":"Jane’s iPhone|Jane’s Apple Watch"}`);
  }
  out(']}],"workouts":[');
  for (let w = 0; w < workoutCount; w++) {
    const start = t0 + w * 86_400_000;
    out(
      `${w ? ',' : ''}{"id":"${'00000000-0000-4000-8000-' + String(w).padStart(12, '0')}","name":"Outdoor Run","start":"${stamp(start)}","end":"${stamp(start + 5000_000)}","duration":5000,"location":"Outdoor","activeEnergyBurned":{"qty":512.3,"units":"kcal"},"distance":{"qty":10.2,"units":"km"},"heartRateData":[`,
    );
    for (let k = 0; k < 84; k++) {
      out(`${k ? ',' : ''}{"date":"${stamp(start + k * 60_000)}","Min":120,"Avg":140.5,"Max":160,"units":"count/min","source":"Jane’s Apple Watch"}`);
    }
    out('],"route":[');
    for (let k = 0; k < 5000; k++) {
      out(
        `${k ? ',' : ''}{"latitude":${(37.33 + k * 1e-5).toFixed(6)},"longitude":${(-122.03 - k * 1e-5).toFixed(6)},"altitude":${(12 + (k % 50) / 10).toFixed(1)},"course":${k % 360},"courseAccuracy":5.2,"speed":2.91,"speedAccuracy":0.4,"horizontalAccuracy":3.1,"verticalAccuracy":2.2,"timestamp":"${stamp(start + k * 1000)}"}`,
      );
    }
    out('],"metadata":{}}');
  }
  out('],"stateOfMind":[],"ecg":[]}}\n');
  writeSync(fd, pending);
  closeSync(fd);
  console.log(`wrote ${file}: ${(statSync(file).size / 1e6).toFixed(1)} MB (${hrCount} heart_rate, ${stepCount} step_count, ${workoutCount} workouts)`);
}

async function bench(file: string): Promise<void> {
  const batchSize = Number(arg('--batch') ?? 2000);
  const chunk = Number(arg('--chunk') ?? 64 << 10); // fs.createReadStream's default
  const batchBytes = Number(arg('--batch-bytes') ?? 1 << 20);
  const stats: ScanStats = { bytes: 0, unknownKeys: [] };
  let slices = 0;
  let bad = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for await (const batch of scanHae(createReadStream(file, { highWaterMark: chunk }), { batchSize, batchBytes, stats })) {
    for (const p of parseSlices(batch)) {
      if (p.error !== undefined) bad++;
    }
    slices += batch.length;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${(stats.bytes / 1e6).toFixed(1)} MB, ${slices} slices (${bad} bad) in ${secs.toFixed(2)} s: ` +
      `${(stats.bytes / 1e6 / secs).toFixed(1)} MB/s, ${Math.round(slices / secs)} slices/s, ` +
      `${cpuSecs.toFixed(2)} CPU-s, peak RSS ${rssMb.toFixed(0)} MB (batch ${batchSize} / ${batchBytes} B, chunk ${chunk} B)`,
  );
}

const gen = arg('--generate');
if (gen) generate(gen, Number(arg('--mb') ?? 200));
else if (process.argv[2]) await bench(process.argv[2]);
else {
  console.error('usage: scan-bench.ts FILE [--batch N] [--batch-bytes N] [--chunk BYTES] | --generate FILE [--mb 200]');
  process.exit(2);
}
