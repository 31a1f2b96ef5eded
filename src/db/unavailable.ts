/**
 * Whether an error from pg means "the database cannot be reached right now": worth a retry later
 * (exit 75 for commands, 503 for serve), as opposed to a wrong password or a missing database
 * that no retry fixes.
 */

/** SQLSTATE classes and codes: 08 connection exception, 57P01-03 shutdown / cannot connect now, 53300 too many connections. */
const UNAVAILABLE_SQLSTATES = ['57P01', '57P02', '57P03', '53300'];
const UNAVAILABLE_ERRNO = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'];
const UNAVAILABLE_MESSAGES =
  /pool after calling end|Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; errors?: unknown[] } | null;
  const code = e?.code ?? '';
  if (/^08/.test(code) || UNAVAILABLE_SQLSTATES.includes(code) || UNAVAILABLE_ERRNO.includes(code)) return true;
  // Node's happy-eyeballs connect (localhost: ::1 and 127.0.0.1) fails with an AggregateError.
  if (Array.isArray(e?.errors) && e.errors.length > 0 && e.errors.every(isDatabaseUnavailable)) return true;
  return UNAVAILABLE_MESSAGES.test(e?.message ?? '');
}
