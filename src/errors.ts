/**
 * Errors that end a command with a one-line message and a documented exit code
 * (0 ok, 1 usage/config, 2 input unusable, 3 partial). Anything else is a bug and
 * is reported with its stack.
 */
export const EXIT = { ok: 0, usage: 1, input: 2, partial: 3 } as const;

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

/** The input cannot be imported at all: not JSON, not HAE, truncated, unreadable. */
export class InputError extends UserFacingError {
  constructor(
    message: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(message, EXIT.input);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
