/**
 * Errors that end a command with a one-line message and a documented exit code
 * (0 ok, 1 usage/config, 2 input unusable, 3 partial, 75 database unreachable: try again later).
 * Anything else is a bug and is reported with its stack.
 */
export const EXIT = { ok: 0, usage: 1, input: 2, partial: 3, tempfail: 75 } as const;

export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, bad DATABASE_URL, unreachable server, missing PostGIS when required. */
export class ConfigError extends UserFacingError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/**
 * The database cannot be reached right now (refused, timed out, shutting down, too many
 * connections). Exit 75, EX_TEMPFAIL of sysexits.h: what cron wrappers and systemd's
 * RestartPreventExitStatus/SuccessExitStatus understand as "try again later", unlike a usage
 * error that no retry fixes.
 */
export class DatabaseUnavailableError extends UserFacingError {
  constructor(message: string) {
    super(message, EXIT.tempfail);
  }
}

/**
 * The input cannot be imported (further): not JSON, not HAE, not well-formed XML, truncated,
 * unreadable. The one error class every reader and input opener throws; `offset` is the byte
 * of the (decompressed) input where it went wrong, when there is one. Readers throw it only after
 * yielding every record complete before that point.
 */
export class InputError extends UserFacingError {
  readonly file: string | null;
  readonly offset: number | null;
  constructor(message: string, where: { file?: string; offset?: number } = {}) {
    super(message, EXIT.input);
    this.file = where.file ?? null;
    this.offset = where.offset ?? null;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
