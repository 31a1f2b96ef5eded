/**
 * Text PostgreSQL can store, for what describes a record rather than is one. (Record rows go
 * as binary COPY: db/copy-binary.ts.)
 */

// In `u` mode a surrogate pair is one code point: only lone surrogates match.
const LONE_SURROGATE = /\p{Surrogate}/u;
const LONE_SURROGATES = /\p{Surrogate}/gu;

/**
 * Text PostgreSQL can store, for what describes a record rather than is one (reject reasons,
 * paths, raw input, summaries): NUL written as the visible escape `\u0000`, lone surrogates as
 * U+FFFD. Record values themselves are never altered; records with such text are rejected.
 */
export function storable(s: string): string;
export function storable(s: string | null): string | null;
export function storable(s: string | null): string | null {
  if (s === null) return null;
  const t = s.indexOf('\u0000') === -1 ? s : s.replaceAll('\u0000', '\\u0000');
  return LONE_SURROGATE.test(t) ? t.replace(LONE_SURROGATES, '\uFFFD') : t;
}

/** JSON text of `v` that jsonb accepts (every string passed through `storable`). */
export function storableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'string' ? storable(x) : x));
}
