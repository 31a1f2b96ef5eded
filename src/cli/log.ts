/**
 * Everything a command prints on stderr besides its result (stdout stays the result only): one
 * place that knows how much (`--quiet`: errors only; `--verbose`: debug lines too) and in which
 * format (`--log-format text`: `healthexport: message key=value`, as a person reads it;
 * `--log-format json`: one object per line with time, level, msg and fields, for journald,
 * Loki or jq). Colour: only on a terminal, never with NO_COLOR, always with FORCE_COLOR.
 *
 * Example: log.info('request', { method: 'POST', path: '/api/data', status: 200, durationMs: 812 })
 *   text: healthexport: request method=POST path=/api/data status=200 durationMs=812
 *   json: {"time":"2026-12-01T02:00:00.000Z","level":"info","msg":"request","method":"POST",...}
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type Fields = Record<string, unknown>;

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = 'info';
let format: LogFormat = 'text';

/** From the global flags; --quiet wins over --verbose. */
export function configureLog(o: { verbose?: boolean; quiet?: boolean; logFormat?: LogFormat }): void {
  threshold = o.quiet ? 'error' : o.verbose ? 'debug' : 'info';
  format = o.logFormat ?? 'text';
}

export function logFormat(): LogFormat {
  return format;
}

/** Whether lines of `level` are printed: e.g. no progress spinner under --quiet. */
export function logs(level: Level): boolean {
  return RANK[level] >= RANK[threshold];
}

function textValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

function write(level: Level, msg: string, fields: Fields = {}): void {
  if (!logs(level)) return;
  if (format === 'json') {
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
    return;
  }
  const tail = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${textValue(v)}`)
    .join('');
  process.stderr.write(`healthexport: ${level === 'warn' ? 'warning: ' : ''}${msg}${tail}\n`);
}

export const log = {
  debug: (msg: string, fields?: Fields) => write('debug', msg, fields),
  info: (msg: string, fields?: Fields) => write('info', msg, fields),
  warn: (msg: string, fields?: Fields) => write('warn', msg, fields),
  error: (msg: string, fields?: Fields) => write('error', msg, fields),
  /** A structured event only JSON logs carry (in text the command's own output says it). */
  event: (msg: string, fields?: Fields) => {
    if (format === 'json') write('info', msg, fields);
  },
};

/** Colour for `stream`: FORCE_COLOR (not 0) forces it, NO_COLOR (any value) turns it off. */
export function colorEnabled(stream: { isTTY?: boolean } = process.stderr): boolean {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (force === '0' || force === 'false') return false;
  return !!stream.isTTY;
}
