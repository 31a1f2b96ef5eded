/** Value coercion and small helpers every reader shares: numbers, durations, hashing, reject building. */
import { createHash } from 'node:crypto';
import type { Quantity, RecordKind, RecordReject } from './model.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Absent in the sense of HAE: the key is missing or written as null. */
export function absent(v: unknown): boolean {
  return v === undefined || v === null;
}

/**
 * Numeric value of a field, or NaN when it is not a finite number.
 *
 * Numeric STRINGS are accepted and converted (`"12.5"` → 12.5): some exports / REST relays quote
 * numbers, and the value is unambiguous. Only plain decimal notation is accepted
 * (`[+-]digits[.digits][e[+-]digits]`, no spaces, no hex, no `Infinity`, no locale comma);
 * anything else (booleans, objects, "", "12,5", "n/a") is NaN → rejected by the caller.
 */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'string') return decimal(v);
  return NaN;
}

/** The value of `s` in plain decimal notation, else NaN; converted once (export.xml's values are all strings). */
function decimal(s: string): number {
  const n = s.length;
  if (n === 0 || n > 64) return NaN;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) i++;
  let digits = 0;
  while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) { i++; digits++; }
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) { i++; digits++; }
  }
  if (digits === 0) return NaN;
  if (i < n && ((c = s.charCodeAt(i)) === 101 || c === 69)) {
    i++;
    if (i < n && ((c = s.charCodeAt(i)) === 43 || c === 45)) i++;
    let exp = 0;
    while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) { i++; exp++; }
    if (exp === 0) return NaN;
  }
  if (i !== n) return NaN;
  const x = Number(s);
  return x - x === 0 ? x : NaN; // finite: "1e999" is Infinity
}

/** Optional numeric field: null when absent, the number when valid, NaN when present but bad. */
/**
 * A duration in `unit` (s, sec, min, h, hr; none means seconds) as seconds, or null for a unit
 * it does not know or a value that is not a non-negative number.
 */
export function durationToSeconds(n: number, unit: unknown): number | null {
  if (!(n >= 0)) return null;
  switch (unit) {
    case undefined:
    case null:
    case 's':
    case 'sec':
      return n;
    case 'min':
      return n * 60;
    case 'h':
    case 'hr':
      return n * 3600;
    default:
      return null;
  }
}

export function optNum(v: unknown): number | null {
  return absent(v) ? null : toNum(v);
}

export function strOr(v: unknown, dflt: string): string {
  return typeof v === 'string' ? v : dflt;
}

export function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** A `{qty, units}` summary field as a Quantity, or null when it is not one. */
export function quantityOf(v: unknown): Quantity | null {
  if (!isObj(v)) return null;
  const q = toNum(v.qty);
  if (q !== q) return null;
  return { qty: q, unit: strOrNull(v.units) };
}

/** First 32 hex chars of the SHA-1 of `text`. */
export function sha1Hex32(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 32);
}

/**
 * Sets a key on an extra/summary bag. JSON.parse makes `__proto__` an own property; a plain
 * assignment would change the bag's prototype instead, so that one key is defined explicitly.
 */
export function put(bag: Obj, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(bag, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    bag[key] = value;
  }
}

/** Short printable form of a value for reject reasons (reject path only, not hot). */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return String(v);
  let t: string;
  try {
    t = JSON.stringify(v) ?? String(v);
  } catch {
    t = String(v);
  }
  return t.length > 60 ? t.slice(0, 57) + '...' : t;
}

export function rej(kind: RecordKind | null, reason: string, pathSuffix = '', raw?: unknown): RecordReject {
  const r: RecordReject = { kind, reason, pathSuffix };
  if (raw !== undefined) r.raw = raw;
  return r;
}
