/**
 * The one date parser of healthexport: Health Auto Export strings and the Health app's
 * export.xml (which writes the same form) go through parseHaeDate. By character codes (no regex,
 * no `new Date(string)`, no allocation): this runs once or more per record, millions of times
 * per import.
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
 *   2024-09-21 7:57:00 am +1000      the 12-hour clock, as phones set to it write every date
 *   2024-09-21 7:57:00\u202fPM +1000 field: a one- or two-digit hour 1..12, `am`/`pm` in either
 *   2024-09-21 12:05 a.m. +1000      case (dots allowed), after a space, U+202F (narrow no-break
 *                                    space), U+00A0 or nothing. 12:xx am is 00:xx, 12:xx pm 12:xx.
 *                                    Tried only when the 24-hour form fails, so the usual form
 *                                    pays nothing for it.
 *
 * A time of day WITHOUT an offset (`2024-01-15 08:30:00`) is rejected: the instant would depend on
 * the machine's time zone, and the offset must never be guessed.
 * Impossible dates and times (2024-02-30, 25:00, 08:61, seconds 60, offset hours > 18, 13 pm,
 * 0 am) → null. A one-digit hour without am/pm is not a form any exporter writes → null.
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

/** Epoch milliseconds (UTC) of a date string, or null when it is not one (see above). */
export function parseHaeDate(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const t = parse24(s);
  return t === t ? t : parse12(s);
}

/** Days since 1970-01-01 of the `YYYY-MM-DD` at the start of `s` as epoch ms, or NaN. */
function datePart(s: string): number {
  const y1 = dig2(s, 0);
  const y2 = dig2(s, 2);
  if (y1 < 0 || y2 < 0) return NaN;
  const y = y1 * 100 + y2;
  if (s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45) return NaN;
  const mo = dig2(s, 5);
  const d = dig2(s, 8);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
  return daysFromCivil(y, mo, d) * MS_PER_DAY;
}

/**
 * The UTC offset written from `i` to the end of `s` (`Z`, `±HH`, `±HHMM`, `±HH:MM`) in
 * milliseconds to subtract from the local time, or NaN when it is not one or text follows it.
 */
function offsetAt(s: string, i: number): number {
  const n = s.length;
  if (i >= n) return NaN; // no offset: refuse to guess a time zone
  const oc = s.charCodeAt(i);
  if (oc === 90 /* Z */ || oc === 122 /* z */) return i + 1 === n ? 0 : NaN;
  let sign: number;
  if (oc === 43 /* + */) sign = 1;
  else if (oc === 45 /* - */ || oc === 0x2212 /* − minus sign */) sign = -1;
  else return NaN;
  i++;
  const oh = dig2(s, i);
  if (oh < 0 || oh > 18) return NaN;
  i += 2;
  let om = 0;
  if (i < n) {
    if (s.charCodeAt(i) === 58) i++;
    om = dig2(s, i);
    if (om < 0 || om > 59) return NaN;
    i += 2;
  }
  if (i !== n) return NaN;
  return sign * (oh * 60 + om) * 60_000;
}

/** The 24-hour forms (every form above but the 12-hour clock) → epoch ms, or NaN. */
function parse24(s: string): number {
  const n = s.length;
  if (n < 10) return NaN;
  const dayMs = datePart(s);
  if (dayMs !== dayMs) return NaN;

  // Date only: UTC midnight (documented choice, see the module comment).
  if (n === 10) return dayMs;

  const sep = s.charCodeAt(10);
  if (sep !== 32 /* space */ && sep !== 84 /* T */ && sep !== 116 /* t */) return NaN;
  const h = dig2(s, 11);
  if (h < 0 || h > 23 || s.charCodeAt(13) !== 58 /* : */) return NaN;
  const mi = dig2(s, 14);
  if (mi < 0 || mi > 59) return NaN;

  let i = 16;
  let sec = 0;
  let ms = 0;
  if (s.charCodeAt(i) === 58 /* : */) {
    sec = dig2(s, 17);
    if (sec < 0 || sec > 59) return NaN;
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
      if (i === start) return NaN; // a dot with no digits
    }
  }

  // One optional space before the offset (the usual HAE form has it).
  if (s.charCodeAt(i) === 32) i++;
  return dayMs + ((h * 60 + mi) * 60 + sec) * 1000 + ms - offsetAt(s, i);
}

/** Space, U+202F narrow no-break space (iOS puts it before am/pm), U+00A0 no-break space. */
function isBlank(c: number): boolean {
  return c === 32 || c === 0x202f || c === 0xa0;
}

/** The 12-hour clock (`2024-09-21 7:57:00 am +1000`, see above) → epoch ms, or null. */
function parse12(s: string): number | null {
  const n = s.length;
  if (n < 16 || n > 64) return null;
  const dayMs = datePart(s);
  if (dayMs !== dayMs) return null;
  const sep = s.charCodeAt(10);
  if (sep !== 32 && sep !== 84 && sep !== 116) return null;
  let i = 11;
  let h = s.charCodeAt(i) - 48;
  if (!(h >= 0 && h <= 9)) return null;
  i++;
  const d2 = s.charCodeAt(i) - 48;
  if (d2 >= 0 && d2 <= 9) {
    h = h * 10 + d2;
    i++;
  }
  if (h < 1 || h > 12 || s.charCodeAt(i) !== 58 /* : */) return null;
  const mi = dig2(s, i + 1);
  if (mi < 0 || mi > 59) return null;
  i += 3;
  let sec = 0;
  if (s.charCodeAt(i) === 58) {
    sec = dig2(s, i + 1);
    if (sec < 0 || sec > 59) return null;
    i += 3;
  }
  while (isBlank(s.charCodeAt(i))) i++;
  const m = s.charCodeAt(i) | 0x20; // lower case
  if (m !== 97 /* a */ && m !== 112 /* p */) return null;
  i++;
  if (s.charCodeAt(i) === 46 /* . */) i++;
  if ((s.charCodeAt(i) | 0x20) !== 109 /* m */) return null;
  i++;
  if (s.charCodeAt(i) === 46) i++;
  while (isBlank(s.charCodeAt(i))) i++;
  const off = offsetAt(s, i);
  if (off !== off) return null;
  // 12 am is midnight (00), 12 pm is noon (12); 1..11 pm are 13..23.
  const h24 = (h === 12 ? 0 : h) + (m === 112 ? 12 : 0);
  return dayMs + ((h24 * 60 + mi) * 60 + sec) * 1000 - off;
}

/** ISO 8601 UTC text (`2024-01-15T16:30:00.000Z`) of epoch milliseconds; throws RangeError when not a valid time. */
export function formatUtc(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatUtc: ${ms} is not a finite epoch-ms value`);
  return new Date(ms).toISOString();
}
