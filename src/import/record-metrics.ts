/** What `import` and `serve` both report to Prometheus about an import run. */
import {
  addParsedBytes,
  batchDurationSeconds,
  recordImportRun,
  recordOutcomes,
} from '../metrics/registry.js';
import type { WriteResult } from '../load/writer.js';
import type { ImportObserver } from './run-import.js';
import type { ImportSummary } from './summary.js';

/** Per batch, as it commits. Rejections are left to recordImportMetrics, which sees them all. */
export const metricsObserver: Required<Pick<ImportObserver, 'batchWritten'>> = {
  batchWritten(table: string, r: WriteResult) {
    recordOutcomes(table, { ...r.counts, rejected: 0 });
    batchDurationSeconds.observe({ table }, r.seconds);
  },
};

/** Once per input, at its end. (Errors are the caller's to classify: a CLI and an HTTP upload fail differently.) */
export function recordImportMetrics(s: ImportSummary): void {
  for (const [table, c] of Object.entries(s.tables)) if (c.rejected) recordOutcomes(table, { rejected: c.rejected });
  addParsedBytes(s.bytes);
  recordImportRun(s.status, s.durationMs / 1000);
}
