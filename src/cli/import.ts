/** `import`: parses the options, runs each input through src/import, prints the summaries. */
import { constants as osConstants } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import type pg from 'pg';
import { openCache } from '../cache/cache.js';
import { EXIT } from '../errors.js';
import { afterImport, metricsObserver, pushImportRun } from '../import/after-import.js';
import { parseAsOf } from '../import/as-of.js';
import { DEFAULT_BATCH_ROWS, DEFAULT_CONCURRENCY, importSource, type ImportProgress } from '../import/run-import.js';
import type { ImportSummary } from '../import/summary.js';
import { resolveInputs, type InputSource } from '../input/open-input.js';
import { IMPORT_JOB } from '../metrics/push.js';
import { trackPool } from '../metrics/registry.js';
import { rebuildRollups } from '../rollups/rebuild.js';
import { addDbOptions, defaultUser, positiveInt, withDatabase, type DbOptions } from './context.js';
import { formatBytes, renderTable } from './format.js';
import { colorEnabled, log, logFormat, logs } from './log.js';

interface ImportFlags extends DbOptions {
  user: string;
  json?: boolean;
  dryRun?: boolean;
  concurrency: number;
  batchRows: number;
  pushgateway?: string;
  redisUrl?: string;
  warm?: boolean;
  asOf?: number;
  rollups: 'batch' | 'end';
}

/**
 * 0 ok, 3 some records rejected, 2 an input unusable, 75 the database failed during the run
 * (try again later: what was committed stays, and a second run finishes the job); 128 + n after
 * signal n (130 Ctrl-C, 143 SIGTERM).
 */
export function exitCodeFor(summaries: ImportSummary[], signal: NodeJS.Signals | null = null): number {
  if (signal) return signalExitCode(signal);
  if (summaries.some((s) => s.failure === 'database')) return EXIT.tempfail;
  if (summaries.some((s) => s.status === 'failed')) return EXIT.input;
  if (summaries.some((s) => s.status === 'partial')) return EXIT.partial;
  return EXIT.ok;
}

function renderSummary(s: ImportSummary): string {
  const lines: string[] = [];
  const secs = s.durationMs / 1000;
  const rate = secs > 0 ? Math.round(s.totals.read / secs) : s.totals.read;
  lines.push(
    `${s.source}: ${s.status}${s.dryRun ? ' (dry run: nothing written)' : ''} — ${formatBytes(s.bytes)} in ${secs.toFixed(1)} s, ${rate.toLocaleString('en-US')} records/s`,
  );
  const names = Object.keys(s.tables).sort();
  if (s.dryRun) {
    const rows = names.map((t) => [t, s.tables[t].read, s.valid?.[t] ?? 0, s.tables[t].rejected]);
    rows.push(['total', s.totals.read, s.totals.read - s.totals.rejected, s.totals.rejected]);
    lines.push(renderTable(['table', 'read', 'valid', 'rejected'], rows));
  } else {
    const row = (t: string, c: ImportSummary['totals']) => [t, c.read, c.inserted, c.updated, c.unchanged, c.rejected];
    const rows = names.map((t) => row(t, s.tables[t]));
    rows.push(row('total', s.totals));
    lines.push(renderTable(['table', 'read', 'inserted', 'updated', 'unchanged', 'rejected'], rows));
  }
  if (s.unknownMetrics.length) lines.push(`metrics new to healthexport (stored as they are): ${s.unknownMetrics.join(', ')}`);
  if (s.unknownKeys.length) lines.push(`keys not understood (skipped): ${s.unknownKeys.join(', ')}`);
  const older = Object.entries(s.unchangedOlder).filter(([, n]) => n > 0);
  if (older.length) {
    lines.push(
      `unchanged because the stored values come from a newer export (this one is as of ${s.asOf?.at}, from its ${s.asOf?.source}): ` +
        older.map(([t, n]) => `${t} ${n}`).join(', '),
    );
  }
  if (s.workoutsMoved.length) {
    lines.push(`workouts re-exported with a corrected start (their earlier row and series replaced): ${s.workoutsMoved.join(', ')}`);
  }
  if (s.workoutsFlagged.length) {
    lines.push(`workouts whose heart-rate series looks like post-workout recovery: ${s.workoutsFlagged.length}`);
  }
  if (s.totals.rejected && s.ingestionId) {
    lines.push(`rejected records: healthexport rejects list --ingestion ${s.ingestionId}`);
  }
  return lines.join('\n');
}

export function importCommand(): Command {
  const cmd = new Command('import')
    .description(
      "import Health Auto Export JSON files (.json, .json.gz, .zip, a directory of them, or - for stdin) or the Health app's own export (export.zip, its folder, or export.xml)",
    )
    .argument('<inputs...>', 'files, directories, or - for stdin')
    .option('--user <name>', 'whose data this is (default: $HEALTHEXPORT_USER or "default")', defaultUser())
    .option('--json', 'print the summary as one JSON object on stdout (for cron)')
    .option('--dry-run', 'read and validate only; write nothing')
    .option('--concurrency <n>', 'COPY streams in parallel (batches of one table too, when their times do not overlap)', positiveInt('--concurrency'), DEFAULT_CONCURRENCY)
    .option('--batch-rows <n>', 'rows per COPY batch', positiveInt('--batch-rows'), DEFAULT_BATCH_ROWS)
    .option('--redis-url <url>', 'cache to invalidate for the touched user and metrics (default: $REDIS_URL)')
    .option('--warm', 'fill the cache again for what the import touched')
    .option(
      '--as-of <time>',
      'when this data was current (e.g. 2024-06-30 or "2024-06-30 18:00:00 +0200"); stored values from a newer export are kept. Default: the export\'s own date (content or file name), else the file\'s mtime',
      asOfOption,
    )
    .addOption(
      new Option('--rollups <when>', 'keep the daily rollups per batch (batch), or rebuild the user\'s once when the input is loaded (end: for a first load of years)')
        .choices(['batch', 'end'])
        .default('batch'),
    )
    .option('--pushgateway <url>', 'push run metrics to this Prometheus Pushgateway at the end (default: $PUSHGATEWAY_URL)')
    .addHelpText(
      'after',
      `
Exit codes: 0 all stored, 3 some records rejected (see "rejects list"), 2 an input is unusable
(neither HAE JSON nor Apple Health XML, truncated), 1 usage or configuration error, 75 the
database cannot be reached or failed mid-run (EX_TEMPFAIL: run it again later).

Examples:
  $ healthexport import ~/Downloads/HealthAutoExport-2024.json
  $ healthexport import export.zip --user jane --json
  $ healthexport import ~/Downloads/apple_health_export   # Health app: Export All Health Data
  $ gunzip -c export.json.gz | healthexport import - --dry-run`,
    );
  addDbOptions(cmd).action(async (inputs: string[], o: ImportFlags) => {
    const sources = await resolveInputs(inputs);
    const stop = stopOnSignals();
    let summaries: ImportSummary[];
    try {
      summaries = o.dryRun
        ? await importAll(sources, o, undefined, stop.signal)
        : await withDatabase(o, (db) => importAll(sources, o, db.pool, stop.signal), { poolMax: o.concurrency + 2 });
    } finally {
      stop.dispose();
    }
    if (o.json) {
      const out = summaries.length === 1 ? summaries[0] : { imports: summaries };
      process.stdout.write(JSON.stringify(out) + '\n');
    } else {
      console.log(summaries.map(renderSummary).join('\n\n'));
    }
    for (const s of summaries) {
      log.event('import', {
        source: s.source,
        status: s.status,
        ingestionId: s.ingestionId,
        bytes: s.bytes,
        durationMs: s.durationMs,
        totals: s.totals,
        error: s.error ?? undefined,
      });
      if (s.error) log.error(s.error, { source: s.source, offset: s.errorOffset ?? undefined });
    }
    process.exitCode = exitCodeFor(summaries, stop.received);
  });
  return cmd;
}

/** `--as-of`: any date form the importer reads (a bare date is UTC midnight of that day). */
function asOfOption(value: string): number {
  const t = parseAsOf(value);
  if (t === null) throw new InvalidArgumentError(`--as-of: "${value}" is not a date (e.g. 2024-06-30 or "2024-06-30 18:00:00 +0200")`);
  return t;
}

const signalExitCode = (sig: NodeJS.Signals) => 128 + (osConstants.signals[sig] ?? 0);

/**
 * Ctrl-C (SIGINT) or SIGTERM during an import: the run stops reading, lets the batches in flight
 * commit, records itself as interrupted and prints how much is stored; exit 130 / 143. The same
 * signal again within a second is the same keypress (a terminal signals the whole process group,
 * and bin/healthexport.js forwards it to a capped import child too); later, or if the run has
 * not stopped 10 s on (a read blocked on stdin), the process exits at once: the next run marks
 * the row (see the run's lease).
 */
function stopOnSignals() {
  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  let at = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    const now = Date.now();
    if (received && now - at < 1000) return;
    if (received) hardExit(sig);
    received = sig;
    at = now;
    controller.abort(sig);
    setTimeout(() => hardExit(sig), 10_000).unref();
  };
  const hardExit = (sig: NodeJS.Signals) => {
    console.error(`healthexport: interrupted by ${sig} before the run could record itself; what was committed is kept, and running the same import again finishes the job`);
    process.exit(signalExitCode(sig));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const sig of signals) process.on(sig, onSignal);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose() {
      for (const sig of signals) process.off(sig, onSignal);
    },
  };
}

/** Every input in turn, each followed by the after-import step; one push at the end. */
async function importAll(sources: InputSource[], o: ImportFlags, pool?: pg.Pool, signal?: AbortSignal): Promise<ImportSummary[]> {
  const summaries: ImportSummary[] = [];
  const knownPartitions = new Set<string>();
  const untrack = pool ? trackPool(pool) : () => {};
  const cache = pool ? openCache(o.redisUrl ?? process.env.REDIS_URL) : null;
  if (cache && !cache.enabled && o.warm) log.info(cache.notice);
  const spinner = await progressSpinner();
  for (const src of sources) {
    if (signal?.aborted) break;
    spinner.start(src.name);
    let summary: ImportSummary;
    try {
      summary = await importSource(src, {
        pool,
        user: o.user,
        dryRun: o.dryRun,
        concurrency: o.concurrency,
        batchRows: o.batchRows,
        knownPartitions,
        asOf: o.asOf,
        signal,
        observer: { progress: spinner.update, ...metricsObserver },
        rollups: o.rollups,
      });
    } finally {
      spinner.stop();
    }
    summaries.push(summary);
    if (o.rollups === 'end' && pool && summary.userId !== null) {
      const r = await rebuildRollups(pool, summary.userId);
      console.error(`healthexport: rollups of ${o.user} rebuilt in ${(r.ms / 1000).toFixed(1)} s (${r.quarters} quarter-hour rows, ${r.days} day rows)`);
    }
    await afterImport(summary, { pool, cache, warm: o.warm });
  }
  await cache?.close();
  const gateway = o.pushgateway ?? process.env.PUSHGATEWAY_URL;
  if (gateway) {
    const pushed = await pushImportRun(gateway, IMPORT_JOB, pool);
    // Monitoring must never fail an import: a failed push is only a warning.
    if (!pushed.ok) log.warn(`metrics push to ${gateway} failed: ${pushed.error}`);
  }
  untrack();
  return summaries;
}

/**
 * A one-line spinner on stderr, only on a terminal with a known width: a pseudo-terminal that
 * reports no width (script(1), some CI runners) sends ora's line clearing into an endless loop.
 * ora is loaded only then (a cron run's start is ~0.05 s shorter without it).
 */
async function progressSpinner() {
  const columns = process.stderr.isTTY ? process.stderr.columns || 0 : 0;
  // A progress line is an info line for a person: not under --quiet, not among JSON log lines.
  const wanted = columns > 0 && !process.env.CI && logs('info') && logFormat() === 'text';
  const spinner = wanted ? (await import('ora')).default({ stream: process.stderr, color: colorEnabled() ? 'cyan' : false }) : null;
  return {
    start(text: string) {
      spinner?.start(text);
    },
    stop() {
      spinner?.stop();
    },
    update(p: ImportProgress) {
      const pct = p.sizeHint ? ` ${Math.min(100, (100 * p.bytes) / p.sizeHint).toFixed(0)}%` : '';
      const rate = p.elapsedMs ? Math.round((p.records * 1000) / p.elapsedMs) : 0;
      const text = `${p.source}${pct} ${formatBytes(p.bytes)} · ${p.records.toLocaleString('en-US')} records · ${rate.toLocaleString('en-US')}/s`;
      // One line: a wrapped spinner line leaves copies of itself behind on every redraw.
      if (spinner) spinner.text = text.length > columns - 4 ? `…${text.slice(text.length - (columns - 5))}` : text;
    },
  };
}
