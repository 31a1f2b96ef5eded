import { describe, expect, it } from 'vitest';
import { formatUtc, parseHaeDate } from '../../src/records/dates.js';

const MIN = 60_000;
const HOUR = 3_600_000;

describe('parseHaeDate: accepted forms', () => {
  it('usual HAE form with a negative offset', () => {
    // 08:30 at UTC-8 is 16:30 UTC
    expect(parseHaeDate('2024-01-15 08:30:00 -0800')).toBe(Date.UTC(2024, 0, 15, 16, 30, 0));
  });

  it('usual HAE form with a positive half-hour offset', () => {
    // 08:30 at UTC+5:30 is 03:00 UTC
    expect(parseHaeDate('2024-01-15 08:30:00 +0530')).toBe(Date.UTC(2024, 0, 15, 3, 0, 0));
  });

  it('offset crossing midnight backwards and forwards', () => {
    expect(parseHaeDate('2024-01-01 00:15:00 +0100')).toBe(Date.UTC(2023, 11, 31, 23, 15));
    expect(parseHaeDate('2023-12-31 20:00:00 -0500')).toBe(Date.UTC(2024, 0, 1, 1, 0));
    expect(parseHaeDate('2024-06-01 10:00:00 +0545')).toBe(Date.UTC(2024, 5, 1, 4, 15));
  });

  it('ISO 8601 with a colon offset, Z, and lower-case t/z', () => {
    expect(parseHaeDate('2024-01-15T08:30:00-08:00')).toBe(Date.UTC(2024, 0, 15, 16, 30));
    expect(parseHaeDate('2024-01-15T08:30:00+05:30')).toBe(Date.UTC(2024, 0, 15, 3, 0));
    expect(parseHaeDate('2024-01-15T08:30:00Z')).toBe(Date.UTC(2024, 0, 15, 8, 30));
    expect(parseHaeDate('2024-01-15t08:30:00z')).toBe(Date.UTC(2024, 0, 15, 8, 30));
    expect(parseHaeDate('2024-01-15T08:30:00-0800')).toBe(Date.UTC(2024, 0, 15, 16, 30));
    expect(parseHaeDate('2024-01-15T08:30:00+00:00')).toBe(Date.UTC(2024, 0, 15, 8, 30));
    expect(parseHaeDate('2024-01-15T08:30:00-08')).toBe(Date.UTC(2024, 0, 15, 16, 30));
    expect(parseHaeDate('2024-01-15T08:30Z')).toBe(Date.UTC(2024, 0, 15, 8, 30));
  });

  it('fractional seconds (truncated to milliseconds)', () => {
    expect(parseHaeDate('2024-01-15T08:30:00.123Z')).toBe(Date.UTC(2024, 0, 15, 8, 30, 0, 123));
    expect(parseHaeDate('2024-01-15T08:30:00.5-08:00')).toBe(Date.UTC(2024, 0, 15, 16, 30, 0, 500));
    expect(parseHaeDate('2024-01-15T08:30:00.123456789+02:00')).toBe(Date.UTC(2024, 0, 15, 6, 30, 0, 123));
    expect(parseHaeDate('2024-01-15 08:30:59.999 -0800')).toBe(Date.UTC(2024, 0, 15, 16, 30, 59, 999));
  });

  it('date only is UTC midnight', () => {
    expect(parseHaeDate('2024-01-15')).toBe(Date.UTC(2024, 0, 15));
    expect(parseHaeDate('1970-01-01')).toBe(0);
  });

  it('epoch and pre-epoch instants', () => {
    expect(parseHaeDate('1969-12-31 16:00:00 -0800')).toBe(0);
    expect(parseHaeDate('1960-03-01 00:00:00 +0000')).toBe(Date.UTC(1960, 2, 1));
  });

  it('leap days', () => {
    expect(parseHaeDate('2024-02-29 12:00:00 +0000')).toBe(Date.UTC(2024, 1, 29, 12));
    expect(parseHaeDate('2000-02-29 12:00:00 +0000')).toBe(Date.UTC(2000, 1, 29, 12));
    expect(parseHaeDate('2023-02-29 12:00:00 +0000')).toBeNull();
    expect(parseHaeDate('1900-02-29 12:00:00 +0000')).toBeNull();
  });
});

describe('parseHaeDate: daylight-saving transitions (America/Los_Angeles)', () => {
  it('the repeated 01:30 on 2024-11-03 gives two instants one hour apart', () => {
    const pdt = parseHaeDate('2024-11-03 01:30:00 -0700');
    const pst = parseHaeDate('2024-11-03 01:30:00 -0800');
    expect(pdt).toBe(Date.UTC(2024, 10, 3, 8, 30));
    expect(pst).toBe(Date.UTC(2024, 10, 3, 9, 30));
    expect(pst! - pdt!).toBe(HOUR);
  });

  it('2024-03-10 01:59 PST and 03:00 PDT are one minute apart', () => {
    const before = parseHaeDate('2024-03-10 01:59:00 -0800');
    const after = parseHaeDate('2024-03-10 03:00:00 -0700');
    expect(before).toBe(Date.UTC(2024, 2, 10, 9, 59));
    expect(after).toBe(Date.UTC(2024, 2, 10, 10, 0));
    expect(after! - before!).toBe(MIN);
  });

  it('the same instant written in both ISO and HAE forms agrees', () => {
    expect(parseHaeDate('2024-11-03T01:30:00-07:00')).toBe(parseHaeDate('2024-11-03 01:30:00 -0700'));
  });
});

describe('parseHaeDate: the 12-hour clock (phones set to it write every date field this way)', () => {
  const NNBSP = '\u202f';

  it('the form seen in a real HAE export: one-digit hour, U+202F before "am"', () => {
    // 07:57 at UTC+10 is 21:57 UTC the day before
    expect(parseHaeDate(`2024-09-21 7:57:00${NNBSP}am +1000`)).toBe(Date.UTC(2024, 8, 20, 21, 57));
    expect(parseHaeDate('2024-09-28 4:51:59 pm +1000')).toBe(Date.UTC(2024, 8, 28, 6, 51, 59));
  });

  it('am/pm/AM/PM, a space, U+202F, U+00A0 or nothing before it, dots, two-digit hours', () => {
    const want = Date.UTC(2024, 0, 15, 21, 5, 9); // 13:05:09 at -0800
    for (const m of ['pm', 'PM', 'Pm', 'p.m.', 'P.M.']) {
      for (const sp of [' ', NNBSP, '\u00a0', '']) {
        expect(parseHaeDate(`2024-01-15 1:05:09${sp}${m} -0800`), `${sp}${m}`).toBe(want);
        expect(parseHaeDate(`2024-01-15 01:05:09${sp}${m} -0800`), `01 ${sp}${m}`).toBe(want);
      }
    }
    expect(parseHaeDate('2024-01-15 9:30:00 AM -0800')).toBe(Date.UTC(2024, 0, 15, 17, 30));
    expect(parseHaeDate('2024-01-15 9:30 am -08:00')).toBe(Date.UTC(2024, 0, 15, 17, 30));
    expect(parseHaeDate('2024-01-15T9:30:00PM+0000')).toBe(Date.UTC(2024, 0, 15, 21, 30));
  });

  it('12 am is midnight (00:xx) and 12 pm is noon (12:xx); 11 pm is 23', () => {
    expect(parseHaeDate('2024-01-15 12:00:00 am +0000')).toBe(Date.UTC(2024, 0, 15, 0, 0));
    expect(parseHaeDate('2024-01-15 12:59:59 AM +0000')).toBe(Date.UTC(2024, 0, 15, 0, 59, 59));
    expect(parseHaeDate('2024-01-15 12:00:00 pm +0000')).toBe(Date.UTC(2024, 0, 15, 12, 0));
    expect(parseHaeDate('2024-01-15 12:30:00 PM +0000')).toBe(Date.UTC(2024, 0, 15, 12, 30));
    expect(parseHaeDate('2024-01-15 11:59:59 pm +0000')).toBe(Date.UTC(2024, 0, 15, 23, 59, 59));
    expect(parseHaeDate('2024-01-15 1:00:00 am +0000')).toBe(Date.UTC(2024, 0, 15, 1, 0));
  });

  it('across a DST change (America/Los_Angeles, 2024-11-03): the repeated 1:30 am is two instants', () => {
    const pdt = parseHaeDate(`2024-11-03 1:30:00${NNBSP}am -0700`);
    const pst = parseHaeDate(`2024-11-03 1:30:00${NNBSP}am -0800`);
    expect(pst! - pdt!).toBe(HOUR);
    expect(pdt).toBe(parseHaeDate('2024-11-03 01:30:00 -0700'));
    // spring forward: 1:59 am PST and 3:00 am PDT are one minute apart
    expect(parseHaeDate('2024-03-10 3:00:00 AM -0700')! - parseHaeDate('2024-03-10 1:59:00 AM -0800')!).toBe(MIN);
  });

  it.each([
    ['2024-01-15 13:05:00 pm -0800', 'hour 13'],
    ['2024-01-15 0:05:00 am -0800', 'hour 0'],
    ['2024-01-15 7:60:00 am -0800', 'minute 60'],
    ['2024-01-15 7:05:60 am -0800', 'second 60'],
    ['2024-01-15 7:05:00 am', 'no offset'],
    ['2024-01-15 7:05:00 xm -0800', 'not am/pm'],
    ['2024-01-15 7:05:00 a -0800', 'a without m'],
    ['2024-01-15 7:05:00 am -0800 x', 'trailing junk'],
    ['2024-02-30 7:05:00 am -0800', 'Feb 30'],
    ['2024-01-15 123:05:00 am -0800', 'three-digit hour'],
  ])('%s (%s) → null', (s) => {
    expect(parseHaeDate(s)).toBeNull();
  });
});

describe('parseHaeDate: rejects', () => {
  it.each([
    ['2024-02-30 08:00:00 -0800', 'Feb 30'],
    ['2024-04-31 08:00:00 -0800', 'Apr 31'],
    ['2024-13-01 08:00:00 -0800', 'month 13'],
    ['2024-00-10 08:00:00 -0800', 'month 0'],
    ['2024-01-00 08:00:00 -0800', 'day 0'],
    ['2024-01-15 25:00:00 -0800', 'hour 25'],
    ['2024-01-15 24:00:00 -0800', 'hour 24'],
    ['2024-01-15 08:60:00 -0800', 'minute 60'],
    ['2024-01-15 08:30:60 -0800', 'second 60'],
    ['2024-01-15 08:30:00', 'no offset'],
    ['2024-01-15T08:30:00', 'ISO without offset'],
    ['2024-01-15 08:30:00 -0860', 'offset minutes 60'],
    ['2024-01-15 08:30:00 +1900', 'offset hours 19'],
    ['2024-01-15 08:30:00 -0800x', 'trailing junk'],
    ['2024-01-15 08:30:00 -08000', 'offset too long'],
    ['2024-01-15 08:30:00 PST', 'zone abbreviation'],
    ['2024-01-15T08:30:00.Z', 'dot without digits'],
    ['2024/01/15 08:30:00 -0800', 'slashes'],
    ['2024-1-15 08:30:00 -0800', 'one-digit month'],
    ['2024-01-15X08:30:00Z', 'bad separator'],
    ['2024-01-15 8:30:00 -0800', 'one-digit hour'],
    ['24-01-15', 'two-digit year'],
    ['2024-01-1', 'short'],
    ['2024-01-15 ', 'date and a space'],
    ['', 'empty'],
    ['yesterday', 'words'],
  ])('%s (%s) → null', (s) => {
    expect(parseHaeDate(s)).toBeNull();
  });

  it('non-strings → null', () => {
    for (const v of [undefined, null, 1705336200000, {}, [], true]) expect(parseHaeDate(v)).toBeNull();
  });
});

describe('parseHaeDate agrees with Date on random instants and offsets', () => {
  // A deterministic Park-Miller generator, so a failure is reproducible.
  let seed = 12345;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const p2 = (n: number) => String(n).padStart(2, '0');

  it('2000 samples round-trip through the HAE form', () => {
    for (let k = 0; k < 2000; k++) {
      const lo = Date.UTC(1990, 0, 1);
      const hi = Date.UTC(2040, 0, 1);
      const ms = Math.floor((lo + rnd() * (hi - lo)) / 1000) * 1000;
      const offMin = (Math.floor(rnd() * 57) - 24) * 15; // -06:00 .. +08:00 in quarter hours, incl. odd ones
      const local = new Date(ms + offMin * MIN); // its UTC fields are the wall-clock fields
      const sign = offMin < 0 ? '-' : '+';
      const a = Math.abs(offMin);
      const text =
        `${local.getUTCFullYear()}-${p2(local.getUTCMonth() + 1)}-${p2(local.getUTCDate())} ` +
        `${p2(local.getUTCHours())}:${p2(local.getUTCMinutes())}:${p2(local.getUTCSeconds())} ` +
        `${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
      expect(parseHaeDate(text), text).toBe(ms);
      expect(parseHaeDate(text.replace(' ', 'T').replace(/ ([+-]\d\d)(\d\d)$/, '$1:$2')), text).toBe(ms);
    }
  });
});

describe('formatUtc', () => {
  it('formats epoch ms as ISO UTC', () => {
    expect(formatUtc(Date.UTC(2024, 0, 15, 16, 30))).toBe('2024-01-15T16:30:00.000Z');
    expect(formatUtc(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(formatUtc(parseHaeDate('2024-01-15 08:30:00.250 -0800')!)).toBe('2024-01-15T16:30:00.250Z');
  });

  it('throws on a non-finite value', () => {
    expect(() => formatUtc(NaN)).toThrow(RangeError);
  });
});

describe('parseHaeDate: the Unicode minus sign and leap years', () => {
  it('reads U+2212 (−) in an offset as the hyphen-minus, in both forms', () => {
    expect(parseHaeDate('2024-01-15 08:30:00 \u22120800')).toBe(Date.UTC(2024, 0, 15, 16, 30));
    expect(parseHaeDate('2024-01-15T08:30:00\u221205:30')).toBe(Date.UTC(2024, 0, 15, 14, 0));
    expect(parseHaeDate('2024-01-15 08:30:00 \u22120800')).toBe(parseHaeDate('2024-01-15 08:30:00 -0800'));
    // Other dashes are not minus signs.
    expect(parseHaeDate('2024-01-15 08:30:00 \u20130800')).toBeNull();
  });

  it('February 29 exists in years divisible by 4, except centuries not divisible by 400', () => {
    expect(parseHaeDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseHaeDate('2000-02-29 12:00:00 +0000')).toBe(Date.UTC(2000, 1, 29, 12));
    expect(parseHaeDate('1900-02-29 12:00:00 +0000')).toBeNull();
    expect(parseHaeDate('2100-02-29')).toBeNull();
    expect(parseHaeDate('2023-02-29')).toBeNull();
  });

  it('offsets up to ±18 hours, the most any zone has had', () => {
    expect(parseHaeDate('2024-01-15 08:30:00 +1800')).toBe(Date.UTC(2024, 0, 14, 14, 30));
    expect(parseHaeDate('2024-01-15 08:30:00 -1800')).toBe(Date.UTC(2024, 0, 16, 2, 30));
    expect(parseHaeDate('2024-01-15 08:30:00 +2300')).toBeNull();
  });
});
