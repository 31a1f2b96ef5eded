// Preloaded into the profiled import child (bench/measure.ts): how long node's event loop was
// blocked, i.e. how long a reply from PostgreSQL could wait before node handled it. Written to
// the file named by HEALTHEXPORT_BENCH_ELD when the process exits.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';

const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
process.on('exit', () => {
  const ms = (ns) => ns / 1e6;
  const out = { mean: ms(h.mean), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max) };
  writeFileSync(process.env.HEALTHEXPORT_BENCH_ELD, JSON.stringify(out));
});
