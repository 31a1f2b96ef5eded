/**
 * Date parsing for Health Auto Export strings, by character codes (no regex, no `new Date(string)`,
 * no allocation): this runs once or more per record, millions of times per import.
 *
 * Accepted forms (anything else → null):
 *   2024-01-15 08:30:00 -0800        the usual HAE form: local wall time + numeric UTC offset
 *   2024-01-15 08:30:00 +0530
 *   2024-01-15T08:30:00-08:00        ISO 8601 (offset with or without colon, or ±HH alone)
 *   2024-01-15T08:30:00Z             also lower-case `t` / `z`
 *   2024-01-15T08:30:00.123-08:00    optional fractional seconds (`.` or `,`; digits past
 *                                    milliseconds are truncated); seconds may be omitted (08:30Z)
 *   2024-01-15                       date only: taken as UTC MIDNIGHT of that calendar day (HAE
 *                                    writes no offset there, so there is no local day to honour)
 *
 * A time of day WITHOUT an offset (`2024-01-15 08:30:00`) is rejected: the instant would depend on
 * the machine's time zone, and the offset must never be guessed.
 * Impossible dates and times (2024-02-30, 25:00, 08:61, seconds 60, offset hours > 18) → null.
 */

const MS_PER_DAY = 86_400_000;

/** Two ASCII digits at i..i+1 as a number, or -1. */
function dig2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  // charCodeAt past the end is NaN; NaN comparisons are false, so test the positive range.
  if (a >= 0 && a <= 9 && b >= 0 && b <= 9) return a * 10 + b;
  return -1;
}

function isLeap(y: number): boolean {
  return (y & 3) === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  if (m <= 2) y -= 1;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Epoch milliseconds (UTC) of an HAE date string, or null when it is not one (see above). */
export function parseHaeDate(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const n = s.length;
  if (n < 10) return null;

  const y1 = dig2(s, 0);
  const y2 = dig2(s, 2);
  if (y1 < 0 || y2 < 0) return null;
  const y = y1 * 100 + y2;
  if (s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45) return null;
  const mo = dig2(s, 5);
  const d = dig2(s, 8);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  const dayMs = daysFromCivil(y, mo, d) * MS_PER_DAY;

  // Date only: UTC midnight (documented choice, see the module comment).
  if (n === 10) return dayMs;

  const sep = s.charCodeAt(10);
  if (sep !== 32 /* space */ && sep !== 84 /* T */ && sep !== 116 /* t */) return null;
  const h = dig2(s, 11);
  if (h < 0 || h > 23 || s.charCodeAt(13) !== 58 /* : */) return null;
  const mi = dig2(s, 14);
  if (mi < 0 || mi > 59) return null;

  let i = 16;
  let sec = 0;
  let ms = 0;
  if (s.charCodeAt(i) === 58 /* : */) {
    sec = dig2(s, 17);
    if (sec < 0 || sec > 59) return null;
    i = 19;
    const c = s.charCodeAt(i);
    if (c === 46 /* . */ || c === 44 /* , */) {
      i++;
      const start = i;
      while (i < n) {
        const dgt = s.charCodeAt(i) - 48;
        if (dgt < 0 || dgt > 9) break;
        const k = i - start;
        if (k === 0) ms += dgt * 100;
        else if (k === 1) ms += dgt * 10;
        else if (k === 2) ms += dgt;
        i++;
      }
      if (i === start) return null; // a dot with no digits
    }
  }

  // One optional space before the offset (the usual HAE form has it).
  if (s.charCodeAt(i) === 32) i++;
  if (i >= n) return null; // no offset: refuse to guess a time zone

  const local = dayMs + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
  const oc = s.charCodeAt(i);
  if (oc === 90 /* Z */ || oc === 122 /* z */) {
    return i + 1 === n ? local : null;
  }
  let sign: number;
  if (oc === 43 /* + */) sign = 1;
  else if (oc === 45 /* - */ || oc === 0x2212 /* − minus sign */) sign = -1;
  else return null;
  i++;
  const oh = dig2(s, i);
  if (oh < 0 || oh > 18) return null;
  i += 2;
  let om = 0;
  if (i < n) {
    if (s.charCodeAt(i) === 58) i++;
    om = dig2(s, i);
    if (om < 0 || om > 59) return null;
    i += 2;
  }
  if (i !== n) return null;
  return local - sign * (oh * 60 + om) * 60_000;
}

/** ISO 8601 UTC text (`2024-01-15T16:30:00.000Z`) of epoch milliseconds; throws RangeError when not a valid time. */
export function formatUtc(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatUtc: ${ms} is not a finite epoch-ms value`);
  return new Date(ms).toISOString();
}
