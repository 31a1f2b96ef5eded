/**
 * Synthetic Health Auto Export (HAE) generator: writes a large, realistic export to disk as a
 * stream (the document is never built in memory), for import benchmarks and soak tests.
 *
 *   node --import tsx examples/generate.ts --size 1GB --out /tmp/big.json \
 *        [--seed 42] [--start 2015-01-01] [--user-tz America/Los_Angeles]
 *
 * Sizes accept B, KB, MB, GB (binary: 1 KB = 1024 B; KiB/MiB/GiB and K/M/G are synonyms).
 * At the end one JSON line goes to stderr: {"event":"generate.done","bytes":..,"totalRecords":..,
 * "counts":{..},...} so a benchmark can reconcile what it imported with what was written.
 *
 * Shape of the output (compact JSON, like the app writes it):
 *   {"data":{"metrics":[{"name":..,"units":..,"data":[..]},...],"workouts":[..]}}
 * Metrics are alphabetical; every metric covers the same planned span of local days, in
 * ascending time order. Workouts come last and act as the "filler": they are written day by day
 * until the output reaches the requested size (the last workout's route may be cut short there,
 * and workouts may run a few days past the metrics' span when the size estimate was low).
 *
 * Record mix per day (user in `--user-tz`, dates with that zone's offset of the instant, so a
 * daylight-saving change shows in the offsets of the same file):
 *   heart_rate                  per minute, Min/Avg/Max (the bulk), gap while the watch charges
 *   step_count, active_energy,  per 5 minutes while awake and moving
 *   distance_walking_running
 *   basal_energy_burned         hourly
 *   resting_heart_rate          daily (00:00)
 *   heart_rate_variability,     a few per night
 *   blood_oxygen_saturation,
 *   respiratory_rate
 *   sleep_analysis              nightly, aggregated (totalSleep/core/deep/rem/awake/inBed + times)
 *   weight_body_mass,           weekly (Mondays)
 *   body_fat_percentage
 *   blood_pressure              on about a third of the days
 *   vo2_max                     after outdoor runs
 *   workouts                    about every other day; v2 mostly, v1 ~15%; outdoor ones carry a
 *                               route of 1,000-10,000 points; heart-rate series, recovery series,
 *                               v2 activeEnergy/stepCount series; ~5% of v2 show the "heartRateData
 *                               is really the recovery series" quirk.
 *
 * Counting convention (counts / totalRecords): each metric datapoint = 1 (key = metric name);
 * each workout = 1 (key `workouts`) + route points (`workouts.route`) + heartRateData samples
 * (`workouts.heartRateData`) + heartRateRecovery samples (`workouts.heartRateRecovery`) + per-sample
 * series elements (`workouts.activeEnergy`, `workouts.stepCount`). totalRecords = sum of counts.
 *
 * Deterministic: every random choice comes from a PRNG seeded by (seed, stream, day), so a given
 * seed/start/zone/size always produces the same bytes, and the first days of a small file equal
 * the first days of a big one (except where the size cut falls).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32: tiny, fast 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes integers into one well-spread 32-bit seed (murmur3 finaliser per input). */
export function mix32(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    let k = Math.imul(x | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A standard-normal-ish value (sum of 3 uniforms, cheap and bounded). */
function gauss(r: () => number): number {
  return (r() + r() + r() - 1.5) * 2;
}

function uuid(r: () => number): string {
  const hex = '0123456789ABCDEF';
  let s = '';
  for (let i = 0; i < 32; i++) {
    let v = (r() * 16) | 0;
    if (i === 12) v = 4;
    if (i === 16) v = 8 | (v & 3);
    s += hex[v];
    if (i === 7 || i === 11 || i === 15 || i === 19) s += '-';
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Time zone clock: HAE date strings with the correct offset, Intl only once or twice per day
// ---------------------------------------------------------------------------------------------

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const HM: string[] = [];
for (let h = 0; h < 24; h++) for (let m = 0; m < 60; m++) HM.push(`${pad2(h)}:${pad2(m)}:`);
const SS: string[] = [];
for (let s = 0; s < 60; s++) SS.push(`${pad2(s)} `);

/** `-480` → `-0800`. */
export function offsetString(offMin: number, colon = false): string {
  const a = Math.abs(offMin);
  return (offMin < 0 ? '-' : '+') + pad2((a / 60) | 0) + (colon ? ':' : '') + pad2(a % 60);
}

interface UtcDayInfo {
  o1: number; // offset (minutes) at the start of the UTC day
  o2: number; // offset at the end of the UTC day
  trans: number; // first instant with o2 (Infinity when the day has no transition)
  s1: string;
  s2: string;
}

/**
 * Formats instants as HAE local dates (`2024-03-10 03:00:00 -0700`) for one IANA zone. The UTC
 * offset comes from Intl.DateTimeFormat, computed once per UTC day (twice, plus a short binary
 * search, on a day with a transition) and cached; formatting itself is table lookups.
 */
export class TzClock {
  readonly timeZone: string;
  private readonly dtf: Intl.DateTimeFormat;
  private readonly days = new Map<number, UtcDayInfo>();
  private dk = Number.NaN;
  private cur: UtcDayInfo = { o1: 0, o2: 0, trans: Infinity, s1: '', s2: '' };
  private wd = Number.NaN;
  private prefix = '';
  private isoPrefix = '';

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    this.dtf = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Local minus UTC, in minutes, at instant `t` — straight from Intl (slow; cached by callers). */
  rawOffset(t: number): number {
    let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    for (const p of this.dtf.formatToParts(new Date(t))) {
      switch (p.type) {
        case 'year': y = +p.value; break;
        case 'month': mo = +p.value; break;
        case 'day': d = +p.value; break;
        case 'hour': h = +p.value % 24; break;
        case 'minute': mi = +p.value; break;
        case 'second': s = +p.value; break;
      }
    }
    return Math.round((Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(t / 1000) * 1000) / MIN);
  }

  private load(dk: number): UtcDayInfo {
    let info = this.days.get(dk);
    if (!info) {
      const a = dk * DAY;
      const b = a + DAY - 1000;
      const o1 = this.rawOffset(a);
      const o2 = this.rawOffset(b);
      let trans = Infinity;
      if (o1 !== o2) {
        let lo = a; // offset o1
        let hi = b; // offset o2
        while (hi - lo > 1000) {
          const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
          if (this.rawOffset(mid) === o1) lo = mid;
          else hi = mid;
        }
        trans = hi;
      }
      info = { o1, o2, trans, s1: offsetString(o1), s2: offsetString(o2) };
      this.days.set(dk, info);
    }
    this.dk = dk;
    this.cur = info;
    return info;
  }

  /** Offset in minutes at instant `t` (cached per UTC day). */
  offsetAt(t: number): number {
    const dk = Math.floor(t / DAY);
    const info = dk === this.dk ? this.cur : this.load(dk);
    return t < info.trans ? info.o1 : info.o2;
  }

  private wall(t: number): { w: number; off: number; offStr: string } {
    const dk = Math.floor(t / DAY);
    const info = dk === this.dk ? this.cur : this.load(dk);
    const before = t < info.trans;
    const off = before ? info.o1 : info.o2;
    const w = t + off * MIN;
    const wd = Math.floor(w / DAY);
    if (wd !== this.wd) {
      this.wd = wd;
      const dt = new Date(wd * DAY);
      const ymd = `${dt.getUTCFullYear()}-${pad2(dt.getUTCMonth() + 1)}-${pad2(dt.getUTCDate())}`;
      this.prefix = ymd + ' ';
      this.isoPrefix = ymd + 'T';
    }
    return { w, off, offStr: before ? info.s1 : info.s2 };
  }

  /** `2024-03-10 03:00:00 -0700` (seconds truncated). */
  format(t: number): string {
    // Inlined fast path of wall(): this runs once per record.
    const dk = Math.floor(t / DAY);
    const info = dk === this.dk ? this.cur : this.load(dk);
    const before = t < info.trans;
    const w = t + (before ? info.o1 : info.o2) * MIN;
    const wd = Math.floor(w / DAY);
    if (wd !== this.wd) this.wall(t);
    const sod = Math.floor((w - wd * DAY) / 1000);
    const m = (sod / 60) | 0;
    return this.prefix + HM[m] + SS[sod - m * 60] + (before ? info.s1 : info.s2);
  }

  /** ISO 8601 with offset, `2024-03-10T03:00:00-07:00` (plus `.mmm` when `ms`). */
  formatIso(t: number, ms = false): string {
    const { w, off } = this.wall(t);
    const wd = Math.floor(w / DAY);
    const msOfDay = w - wd * DAY;
    const sod = Math.floor(msOfDay / 1000);
    const m = (sod / 60) | 0;
    const frac = ms ? '.' + String(msOfDay % 1000).padStart(3, '0') : '';
    return this.isoPrefix + HM[m] + pad2(sod - m * 60) + frac + offsetString(off, true);
  }

  /**
   * UTC instant where calendar day (y, m0 = 0-based month, d) starts locally: its midnight, the
   * first one when midnight happens twice, or the end of the gap when a transition skips it
   * (e.g. America/Havana, America/Santiago spring forward at 00:00).
   */
  localMidnight(y: number, m0: number, d: number): number {
    const w = Date.UTC(y, m0, d);
    const offs = new Set([this.offsetAt(w - DAY), this.offsetAt(w), this.offsetAt(w + DAY)]);
    let valid = Infinity;
    let gapEnd = -Infinity;
    for (const o of offs) {
      const t = w - o * MIN;
      if (this.offsetAt(t) === o) valid = Math.min(valid, t);
      gapEnd = Math.max(gapEnd, t);
    }
    return valid !== Infinity ? valid : gapEnd;
  }
}

// ---------------------------------------------------------------------------------------------
// The simulated person
// ---------------------------------------------------------------------------------------------

export const WATCH = 'Jane’s Apple Watch';
export const PHONE = 'Jane’s iPhone';
export const PHONE_WATCH = 'Jane’s iPhone|Jane’s Apple Watch';

/**
 * Output text is built as "byte strings": every char is one output byte (UTF-8 already encoded,
 * Latin-1 code units), so V8 keeps the strings one-byte, `Buffer.from(s, 'latin1')` is a plain
 * copy, and `s.length` is the exact byte count. Every non-ASCII constant must pass through u8().
 */
const u8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
const WATCH_B = u8(WATCH);
const PHONE_WATCH_B = u8(PHONE_WATCH);
const KCAL_HR_KG_B = u8('kcal/hr·kg');
const SCALE = 'Withings Body+';
const CUFF = 'Withings BPM Connect';

// PRNG stream ids.
const S_SLEEP = 1, S_WORKOUT = 2, S_CHARGE = 3, S_HR = 4, S_ACT = 5, S_BASAL = 6, S_RHR = 7,
  S_NIGHT = 8, S_WEIGHT = 9, S_BP = 10, S_WRENDER = 11, S_VO2 = 12;

interface Night {
  inBedStart: number;
  sleepStart: number;
  sleepEnd: number;
  inBedEnd: number;
  core: number;
  deep: number;
  rem: number;
  awake: number;
}

type WorkoutType = {
  name: string;
  outdoor: boolean;
  hr: number; // typical session heart rate
  steps: number; // steps per minute (0: none)
  kcalMin: number; // active kcal per minute
  speed: number; // m/s for outdoor ones
  routePow: number; // skew of the route-length distribution (bigger: shorter routes)
};

const WORKOUT_TYPES: { w: number; t: WorkoutType }[] = [
  { w: 20, t: { name: 'Outdoor Run', outdoor: true, hr: 152, steps: 165, kcalMin: 11.5, speed: 2.9, routePow: 6 } },
  { w: 16, t: { name: 'Outdoor Walk', outdoor: true, hr: 108, steps: 112, kcalMin: 4.6, speed: 1.45, routePow: 7 } },
  { w: 9, t: { name: 'Outdoor Cycling', outdoor: true, hr: 136, steps: 0, kcalMin: 8.9, speed: 6.2, routePow: 3 } },
  { w: 22, t: { name: 'Traditional Strength Training', outdoor: false, hr: 118, steps: 0, kcalMin: 5.8, speed: 0, routePow: 1 } },
  { w: 12, t: { name: 'Indoor Cycling', outdoor: false, hr: 140, steps: 0, kcalMin: 9.5, speed: 0, routePow: 1 } },
  { w: 11, t: { name: 'Elliptical', outdoor: false, hr: 134, steps: 0, kcalMin: 8.8, speed: 0, routePow: 1 } },
  { w: 10, t: { name: 'Yoga', outdoor: false, hr: 92, steps: 0, kcalMin: 3.1, speed: 0, routePow: 1 } },
];
const WORKOUT_WEIGHT = WORKOUT_TYPES.reduce((a, x) => a + x.w, 0);

export interface WorkoutPlan {
  day: number;
  index: number;
  id: string;
  version: 1 | 2;
  type: WorkoutType;
  start: number;
  end: number;
  points: number; // route points (0 for indoor)
  quirkRecoveryAsSession: boolean;
  emptyRoute: boolean;
}

interface DayCtx {
  d: number;
  t0: number; // local midnight (UTC ms)
  t1: number; // next local midnight
  weekday: number; // 0 = Sunday
  wake: number; // end of last night's time in bed
  bed: number; // start of tonight's time in bed
  nightPrev: Night;
  nightNext: Night;
  chargeA: number;
  chargeB: number;
  workouts: WorkoutPlan[];
}

class Model {
  private readonly dayStarts = new Map<number, number>();
  private readonly nights = new Map<number, Night>();
  private readonly plans = new Map<number, WorkoutPlan[]>();

  constructor(
    readonly seed: number,
    readonly clock: TzClock,
    readonly y: number,
    readonly m0: number,
    readonly d0: number,
  ) {}

  rng(stream: number, d: number, k = 0): () => number {
    return mulberry32(mix32(this.seed, stream, d, k));
  }

  dayStart(d: number): number {
    let t = this.dayStarts.get(d);
    if (t === undefined) {
      t = this.clock.localMidnight(this.y, this.m0, this.d0 + d);
      this.dayStarts.set(d, t);
    }
    return t;
  }

  /** The night that ends on the morning of day n. */
  night(n: number): Night {
    let nt = this.nights.get(n);
    if (!nt) {
      const r = this.rng(S_SLEEP, n);
      const t0 = this.dayStart(n);
      const weekend = new Date(Date.UTC(this.y, this.m0, this.d0 + n)).getUTCDay() % 6 === 0;
      const inBedStart = t0 - 100 * MIN + Math.floor(r() * 110) * MIN + Math.floor(r() * 60) * 1000;
      const sleepStart = inBedStart + (4 + Math.floor(r() * 24)) * MIN + Math.floor(r() * 60) * 1000;
      const sleepEnd = t0 + (6 * 60 + Math.floor(gauss(r) * 25) + (weekend ? 55 : 0)) * MIN + Math.floor(r() * 60) * 1000;
      const inBedEnd = sleepEnd + (2 + Math.floor(r() * 16)) * MIN + Math.floor(r() * 60) * 1000;
      const span = (sleepEnd - sleepStart) / HOUR;
      const awake = Math.round((0.12 + r() * 0.45) * 1000) / 1000;
      const asleep = span - awake;
      const deep = Math.round(asleep * (0.11 + r() * 0.08) * 1000) / 1000;
      const rem = Math.round(asleep * (0.19 + r() * 0.07) * 1000) / 1000;
      const core = Math.round((asleep - deep - rem) * 1000) / 1000;
      nt = { inBedStart, sleepStart, sleepEnd, inBedEnd, core, deep, rem, awake };
      this.nights.set(n, nt);
      if (this.nights.size > 64) this.nights.delete(this.nights.keys().next().value as number);
    }
    return nt;
  }

  workouts(d: number): WorkoutPlan[] {
    let list = this.plans.get(d);
    if (!list) {
      list = [];
      const r = this.rng(S_WORKOUT, d);
      if (r() < 0.45) {
        let pick = r() * WORKOUT_WEIGHT;
        let type = WORKOUT_TYPES[0].t;
        for (const x of WORKOUT_TYPES) {
          if ((pick -= x.w) < 0) {
            type = x.t;
            break;
          }
        }
        const morning = r() < 0.45;
        let points = 0;
        let durS: number;
        if (type.outdoor) {
          points = Math.round(1000 + 9000 * Math.pow(r(), type.routePow));
          durS = Math.round(points * (1.02 + r() * 0.08)); // ~1 Hz GPS with a few gaps
        } else {
          durS = (20 + Math.floor(r() * 45)) * 60 + Math.floor(r() * 60);
        }
        const t0 = this.dayStart(d);
        const start = morning
          ? this.night(d).inBedEnd + (70 + Math.floor(r() * 30)) * MIN + Math.floor(r() * 60) * 1000
          : t0 + (17 * 60 + 20 + Math.floor(r() * 80)) * MIN + Math.floor(r() * 60) * 1000;
        const v2 = r() >= 0.15;
        list.push({
          day: d,
          index: 0,
          id: uuid(r),
          version: v2 ? 2 : 1,
          type,
          start,
          end: start + durS * 1000,
          points,
          quirkRecoveryAsSession: v2 && r() < 0.05,
          emptyRoute: !type.outdoor && r() < 0.3,
        });
      }
      this.plans.set(d, list);
      if (this.plans.size > 64) this.plans.delete(this.plans.keys().next().value as number);
    }
    return list;
  }

  ctx(d: number): DayCtx {
    const t0 = this.dayStart(d);
    const t1 = this.dayStart(d + 1);
    const nightPrev = this.night(d);
    const nightNext = this.night(d + 1);
    const rc = this.rng(S_CHARGE, d);
    const chargeA = nightPrev.inBedEnd + (3 + Math.floor(rc() * 10)) * MIN;
    const chargeB = chargeA + (35 + Math.floor(rc() * 25)) * MIN;
    return {
      d,
      t0,
      t1,
      weekday: new Date(Date.UTC(this.y, this.m0, this.d0 + d)).getUTCDay(),
      wake: nightPrev.inBedEnd,
      bed: nightNext.inBedStart,
      nightPrev,
      nightNext,
      chargeA,
      chargeB,
      workouts: this.workouts(d),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Metric sections: one function per metric renders one local day, each record prefixed by ','
// ---------------------------------------------------------------------------------------------

interface DayText {
  s: string;
  n: number;
}

interface MetricSection {
  name: string;
  units: string;
  day(m: Model, c: DayCtx): DayText;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
/** Coordinates to 6 decimals (~0.1 m): short numbers are much cheaper to print than full doubles. */
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Per-5-minute activity of a day, shared by step_count, active_energy and distance. */
function activity(m: Model, c: DayCtx): { t: number[]; steps: number[]; kcal: number[] } {
  const r = m.rng(S_ACT, c.d);
  const t: number[] = [];
  const steps: number[] = [];
  const kcal: number[] = [];
  const slot = 5 * MIN;
  for (let x = c.t0; x < c.t1; x += slot) {
    const asleep = x < c.wake || x >= c.bed;
    let w: WorkoutPlan | undefined;
    for (const p of c.workouts) if (x >= p.start - slot && x < p.end) w = p;
    let s = 0;
    let k = 0;
    const u = r();
    const v = r();
    if (w) {
      s = Math.round(w.type.steps * 5 * (0.85 + u * 0.25));
      k = r3(w.type.kcalMin * 5 * (0.85 + v * 0.3));
    } else if (!asleep && u < 0.42) {
      s = Math.round(8 + 600 * Math.pow(v, 2.2));
      k = r3(s * 0.042 + v * 0.9);
    } else if (!asleep && u < 0.5) {
      k = r3(0.2 + v * 1.1); // fidgeting: energy but no steps
    }
    if (s > 0 || k > 0) {
      t.push(x);
      steps.push(s);
      kcal.push(k);
    }
  }
  return { t, steps, kcal };
}

function nightTimes(c: DayCtx, r: () => number, k: number): number[] {
  // k instants during last night's sleep, ascending.
  const a = c.nightPrev.sleepStart;
  const b = c.nightPrev.sleepEnd;
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(a + Math.floor(((b - a) * (i + 0.2 + r() * 0.6)) / k / 1000) * 1000);
  return out.filter((x) => x >= c.t0 && x < c.t1);
}

const SRC_WATCH_END = `,"source":"${WATCH_B}"}`;
const SRC_PW_END = `,"source":"${PHONE_WATCH_B}"}`;

const METRICS: MetricSection[] = [
  {
    name: 'active_energy',
    units: 'kcal',
    day(m, c) {
      const a = activity(m, c);
      let s = '';
      for (let i = 0; i < a.t.length; i++) {
        if (a.kcal[i] <= 0) continue;
        s += ',{"date":"' + m.clock.format(a.t[i]) + '","qty":' + a.kcal[i] + SRC_PW_END;
      }
      let n = 0;
      for (const k of a.kcal) if (k > 0) n++;
      return { s, n };
    },
  },
  {
    name: 'basal_energy_burned',
    units: 'kcal',
    day(m, c) {
      const r = m.rng(S_BASAL, c.d);
      let s = '';
      let n = 0;
      for (let t = c.t0; t < c.t1; t += HOUR) {
        const asleep = t < c.wake || t >= c.bed;
        s += ',{"date":"' + m.clock.format(t) + '","qty":' + r3((asleep ? 58 : 66) + r() * 6) + SRC_WATCH_END;
        n++;
      }
      return { s, n };
    },
  },
  {
    name: 'blood_oxygen_saturation',
    units: '%',
    day(m, c) {
      const r = m.rng(S_NIGHT, c.d, 1);
      let s = '';
      const ts = nightTimes(c, r, 2 + Math.floor(r() * 3));
      for (const t of ts) s += ',{"date":"' + m.clock.format(t) + '","qty":' + (94 + Math.floor(r() * 6)) + SRC_WATCH_END;
      return { s, n: ts.length };
    },
  },
  {
    name: 'blood_pressure',
    units: 'mmHg',
    day(m, c) {
      const r = m.rng(S_BP, c.d);
      if (r() >= 0.33) return { s: '', n: 0 };
      const t = c.wake + (25 + Math.floor(r() * 20)) * MIN;
      const sys = Math.round(118 + gauss(r) * 7);
      const dia = Math.round(77 + gauss(r) * 5);
      return {
        s: ',{"date":"' + m.clock.format(t) + '","systolic":' + sys + ',"diastolic":' + dia + ',"source":"' + CUFF + '"}',
        n: 1,
      };
    },
  },
  {
    name: 'body_fat_percentage',
    units: '%',
    day(m, c) {
      if (c.weekday !== 1) return { s: '', n: 0 };
      const r = m.rng(S_WEIGHT, c.d);
      const t = c.wake + (8 + Math.floor(r() * 10)) * MIN;
      r();
      const bf = r1(24.5 + Math.sin(c.d / 90) * 1.5 + gauss(r) * 0.4);
      return { s: ',{"date":"' + m.clock.format(t) + '","qty":' + bf + ',"source":"' + SCALE + '"}', n: 1 };
    },
  },
  {
    name: 'distance_walking_running',
    units: 'km',
    day(m, c) {
      const a = activity(m, c);
      let s = '';
      let n = 0;
      for (let i = 0; i < a.t.length; i++) {
        if (a.steps[i] <= 0) continue;
        s += ',{"date":"' + m.clock.format(a.t[i]) + '","qty":' + r3(a.steps[i] * 0.00076) + SRC_PW_END;
        n++;
      }
      return { s, n };
    },
  },
  {
    name: 'heart_rate',
    units: 'count/min',
    day(m, c) {
      const r = m.rng(S_HR, c.d);
      let s = '';
      let n = 0;
      let level = 62;
      for (let t = c.t0; t < c.t1; t += MIN) {
        if (t >= c.chargeA && t < c.chargeB) continue; // watch on the charger
        let target: number;
        const asleep = t < c.nightPrev.sleepEnd || t >= c.nightNext.sleepStart;
        if (asleep) target = 55;
        else target = 69 + 6 * Math.sin(((t - c.t0) / DAY) * 6.283 - 1.8);
        let samples = asleep ? 1 : 1 + ((r() * 3) | 0);
        for (const w of c.workouts) {
          if (t >= w.start && t < w.end) {
            target = w.type.hr + 8 * Math.sin((t - w.start) / 400_000);
            samples = 8 + ((r() * 6) | 0);
          } else if (t >= w.end && t < w.end + 12 * MIN) {
            target = 75 + (w.type.hr - 75) * Math.exp(-(t - w.end) / 150_000);
          }
        }
        level += (target - level) * 0.35 + gauss(r) * 1.6;
        const avg = Math.round(level);
        if (samples === 1) {
          s += ',{"date":"' + m.clock.format(t) + '","Min":' + avg + ',"Avg":' + avg + ',"Max":' + avg + SRC_WATCH_END;
        } else {
          const lo = avg - 1 - ((r() * 4) | 0);
          const hi = avg + 1 + ((r() * 4) | 0);
          s += ',{"date":"' + m.clock.format(t) + '","Min":' + lo + ',"Avg":' + r1(level) + ',"Max":' + hi + SRC_WATCH_END;
        }
        n++;
      }
      return { s, n };
    },
  },
  {
    name: 'heart_rate_variability',
    units: 'ms',
    day(m, c) {
      const r = m.rng(S_NIGHT, c.d, 2);
      const ts = nightTimes(c, r, 2 + Math.floor(r() * 3));
      let s = '';
      for (const t of ts) s += ',{"date":"' + m.clock.format(t) + '","qty":' + r3(28 + r() * 40) + SRC_WATCH_END;
      return { s, n: ts.length };
    },
  },
  {
    name: 'respiratory_rate',
    units: 'count/min',
    day(m, c) {
      const r = m.rng(S_NIGHT, c.d, 3);
      const ts = nightTimes(c, r, 3 + Math.floor(r() * 3));
      let s = '';
      for (const t of ts) s += ',{"date":"' + m.clock.format(t) + '","qty":' + r1(13 + r() * 4) + SRC_WATCH_END;
      return { s, n: ts.length };
    },
  },
  {
    name: 'resting_heart_rate',
    units: 'count/min',
    day(m, c) {
      const r = m.rng(S_RHR, c.d);
      return { s: ',{"date":"' + m.clock.format(c.t0) + '","qty":' + (54 + Math.floor(r() * 7)) + SRC_WATCH_END, n: 1 };
    },
  },
  {
    name: 'sleep_analysis',
    units: 'hr',
    day(m, c) {
      const nt = c.nightPrev;
      const f = (t: number): string => m.clock.format(t);
      const totalSleep = r3(nt.core + nt.deep + nt.rem);
      const inBed = r3((nt.inBedEnd - nt.inBedStart) / HOUR);
      return {
        s:
          ',{"date":"' + f(c.t0) + '","totalSleep":' + totalSleep + ',"core":' + nt.core + ',"deep":' + nt.deep +
          ',"rem":' + nt.rem + ',"awake":' + nt.awake + ',"inBed":' + inBed +
          ',"sleepStart":"' + f(nt.sleepStart) + '","sleepEnd":"' + f(nt.sleepEnd) +
          '","inBedStart":"' + f(nt.inBedStart) + '","inBedEnd":"' + f(nt.inBedEnd) + '"' + SRC_WATCH_END,
        n: 1,
      };
    },
  },
  {
    name: 'step_count',
    units: 'count',
    day(m, c) {
      const a = activity(m, c);
      let s = '';
      let n = 0;
      for (let i = 0; i < a.t.length; i++) {
        if (a.steps[i] <= 0) continue;
        s += ',{"date":"' + m.clock.format(a.t[i]) + '","qty":' + a.steps[i] + SRC_PW_END;
        n++;
      }
      return { s, n };
    },
  },
  {
    name: 'vo2_max',
    units: u8('ml/(kg·min)'),
    day(m, c) {
      let s = '';
      let n = 0;
      for (const w of c.workouts) {
        if (w.type.name !== 'Outdoor Run') continue;
        const r = m.rng(S_VO2, c.d);
        s += ',{"date":"' + m.clock.format(w.end + 60_000) + '","qty":' + r2(41 + Math.sin(c.d / 200) * 2 + r()) + SRC_WATCH_END;
        n++;
      }
      return { s, n };
    },
  },
  {
    name: 'weight_body_mass',
    units: 'kg',
    day(m, c) {
      if (c.weekday !== 1) return { s: '', n: 0 };
      const r = m.rng(S_WEIGHT, c.d);
      const t = c.wake + (8 + Math.floor(r() * 10)) * MIN;
      const kg = r2(63.5 + Math.sin(c.d / 120) * 2.2 + gauss(r) * 0.35);
      return { s: ',{"date":"' + m.clock.format(t) + '","qty":' + kg + ',"source":"' + SCALE + '"}', n: 1 };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Workouts: a generator of text pieces so the writer can stop inside a long route
// ---------------------------------------------------------------------------------------------

type Piece = { part: 'head' | 'route' | 'tail'; s: string; n: number };

const HOME_LAT = 34.0736;
const HOME_LON = -118.2592;

/** Renders a workout; route last, yielded in chunks of `chunk` points. Counts go into `counts`. */
function* renderWorkout(m: Model, w: WorkoutPlan, counts: Record<string, number>, chunk = 100): Generator<Piece> {
  const r = m.rng(S_WRENDER, w.day, w.index);
  const f = (t: number): string => m.clock.format(t);
  const durS = Math.round((w.end - w.start) / 1000);
  const mins = Math.max(1, Math.floor(durS / 60));
  const t = w.type;
  const kcal = r3(t.kcalMin * (durS / 60) * (0.9 + r() * 0.2));
  const distKm = t.outdoor ? r3((t.speed * durS * (0.93 + r() * 0.05)) / 1000) : 0;
  const tempC = r1(8 + r() * 22);
  const humidity = Math.round(35 + r() * 55);
  const mets = r1((t.kcalMin * 60) / 63);
  const add = (k: string, n: number): void => {
    counts[k] = (counts[k] ?? 0) + n;
  };
  add('workouts', 1);

  // Heart rate during the session (per minute) and after it (recovery, every 10 s for 2 min).
  const sessionHr: { t: number; min: number; avg: number; max: number }[] = [];
  let level = 95;
  for (let i = 0; i < mins; i++) {
    level += (t.hr + 8 * Math.sin(i / 7) - level) * 0.4 + gauss(r) * 2;
    const avg = r1(level);
    sessionHr.push({ t: w.start + i * MIN, min: Math.round(level - 3 - r() * 5), avg, max: Math.round(level + 3 + r() * 6) });
  }
  const recovery: { t: number; v: number }[] = [];
  for (let i = 0; i <= 12; i++) recovery.push({ t: w.end + i * 10_000, v: Math.round(t.hr - 2 - i * 2.4 - r() * 2) });

  let head = '';
  if (w.version === 2) {
    head += '{"id":"' + w.id + '","name":"' + t.name + '","start":"' + f(w.start) + '","end":"' + f(w.end) + '","duration":' + durS;
    head += ',"location":"' + (t.outdoor ? 'Outdoor' : 'Indoor') + '"';
    head += ',"activeEnergyBurned":{"qty":' + kcal + ',"units":"kcal"}';
    if (t.outdoor) head += ',"distance":{"qty":' + distKm + ',"units":"km"}';
    head += ',"intensity":{"qty":' + mets + ',"units":"' + KCAL_HR_KG_B + '"}';
    if (t.outdoor) {
      head += ',"avgSpeed":{"qty":' + r2(t.speed * 3.6 * (0.95 + r() * 0.05)) + ',"units":"km/hr"}';
      head += ',"maxSpeed":{"qty":' + r2(t.speed * 3.6 * (1.3 + r() * 0.3)) + ',"units":"km/hr"}';
      head += ',"elevationUp":{"qty":' + r1(5 + r() * 120) + ',"units":"m"}';
      head += ',"temperature":{"qty":' + tempC + ',"units":"degC"},"humidity":{"qty":' + humidity + ',"units":"%"}';
    }
    head += ',"metadata":{}';
    if (w.quirkRecoveryAsSession) {
      // The quirk: heartRateData holds the ~2-minute recovery series; heartRateRecovery missing.
      head += ',"heartRateData":[';
      recovery.forEach((x, i) => {
        head += (i ? ',' : '') + '{"date":"' + f(x.t) + '","Min":' + x.v + ',"Avg":' + x.v + ',"Max":' + x.v + ',"units":"count/min","source":"' + WATCH_B + '"}';
      });
      head += ']';
      add('workouts.heartRateData', recovery.length);
    } else {
      head += ',"heartRateData":[';
      sessionHr.forEach((x, i) => {
        head += (i ? ',' : '') + '{"date":"' + f(x.t) + '","Min":' + x.min + ',"Avg":' + x.avg + ',"Max":' + x.max + ',"units":"count/min","source":"' + WATCH_B + '"}';
      });
      head += '],"heartRateRecovery":[';
      recovery.forEach((x, i) => {
        head += (i ? ',' : '') + '{"date":"' + f(x.t) + '","Min":' + x.v + ',"Avg":' + x.v + ',"Max":' + x.v + ',"units":"count/min","source":"' + WATCH_B + '"}';
      });
      head += ']';
      add('workouts.heartRateData', sessionHr.length);
      add('workouts.heartRateRecovery', recovery.length);
    }
    head += ',"activeEnergy":[';
    for (let i = 0; i < mins; i++) {
      head += (i ? ',' : '') + '{"date":"' + f(w.start + i * MIN) + '","qty":' + r3(t.kcalMin * (0.85 + r() * 0.3)) + ',"units":"kcal","source":"' + WATCH_B + '"}';
    }
    head += ']';
    add('workouts.activeEnergy', mins);
    if (t.steps > 0) {
      head += ',"stepCount":[';
      for (let i = 0; i < mins; i++) {
        head += (i ? ',' : '') + '{"date":"' + f(w.start + i * MIN) + '","qty":' + Math.round(t.steps * (0.9 + r() * 0.2)) + ',"units":"count","source":"' + WATCH_B + '"}';
      }
      head += ']';
      add('workouts.stepCount', mins);
    }
  } else {
    head += '{"name":"' + t.name + '","start":"' + f(w.start) + '","end":"' + f(w.end) + '","duration":' + r1(durS + r());
    head += ',"activeEnergy":{"qty":' + kcal + ',"units":"kcal"}';
    if (t.outdoor) {
      head += ',"distance":{"qty":' + distKm + ',"units":"km"}';
      head += ',"elevation":{"ascent":' + r1(5 + r() * 120) + ',"descent":' + r1(5 + r() * 120) + ',"units":"m"}';
      head += ',"temperature":{"qty":' + tempC + ',"units":"degC"},"humidity":{"qty":' + humidity + ',"units":"%"}';
    }
    if (t.steps > 0) head += ',"stepCount":{"qty":' + Math.round(t.steps * (durS / 60)) + ',"units":"count"}';
    head += ',"intensity":{"qty":' + mets + ',"units":"' + KCAL_HR_KG_B + '"}';
    // v1 heart rate: raw samples, about every 10 s.
    head += ',"heartRateData":[';
    let k = 0;
    let lv = 100;
    for (let x = w.start; x < w.end; x += 10_000) {
      lv += (t.hr - lv) * 0.15 + gauss(r) * 1.5;
      head += (k++ ? ',' : '') + '{"date":"' + f(x) + '","qty":' + Math.round(lv) + ',"units":"count/min"}';
    }
    head += '],"heartRateRecovery":[';
    recovery.forEach((x, i) => {
      head += (i ? ',' : '') + '{"date":"' + f(x.t) + '","qty":' + x.v + ',"units":"count/min"}';
    });
    head += ']';
    add('workouts.heartRateData', k);
    add('workouts.heartRateRecovery', recovery.length);
  }

  if (!t.outdoor) {
    yield { part: 'head', s: head + (w.emptyRoute ? ',"route":[]}' : '}'), n: 0 };
    return;
  }
  yield { part: 'head', s: head + ',"route":[', n: 0 };

  // Route: a smooth random walk around the neighbourhood, one point per (durS / points) seconds.
  let lat = HOME_LAT + (r() - 0.5) * 0.04;
  let lon = HOME_LON + (r() - 0.5) * 0.05;
  let alt = 90 + r() * 60;
  let heading = r() * 360;
  const step = durS / w.points;
  const v2 = w.version === 2;
  const cosLat = Math.cos((lat * Math.PI) / 180);
  let s = '';
  let inChunk = 0;
  for (let i = 0; i < w.points; i++) {
    const tt = w.start + Math.floor(i * step) * 1000;
    heading = (heading + gauss(r) * 4 + 360) % 360;
    const speed = t.speed * (0.85 + r() * 0.3);
    const hr = (heading * Math.PI) / 180;
    lat += (speed * step * Math.cos(hr)) / 111_320;
    lon += (speed * step * Math.sin(hr)) / (111_320 * cosLat);
    alt += gauss(r) * 0.4;
    if (v2) {
      s += (i ? ',' : '') + '{"latitude":' + r6(lat) + ',"longitude":' + r6(lon) + ',"altitude":' + r2(alt) +
        ',"course":' + r2(heading) + ',"courseAccuracy":' + r2(2 + r() * 10) + ',"speed":' + r2(speed) +
        ',"speedAccuracy":' + r2(0.2 + r() * 0.6) + ',"horizontalAccuracy":' + r2(1.5 + r() * 5) +
        ',"verticalAccuracy":' + r2(1.5 + r() * 4) + ',"timestamp":"' + f(tt) + '"}';
    } else {
      s += (i ? ',' : '') + '{"lat":' + r6(lat) + ',"lon":' + r6(lon) + ',"altitude":' + r2(alt) + ',"timestamp":"' + f(tt) + '"}';
    }
    if (++inChunk === chunk) {
      add('workouts.route', inChunk);
      yield { part: 'route', s, n: inChunk };
      s = '';
      inChunk = 0;
    }
  }
  if (inChunk) {
    add('workouts.route', inChunk);
    yield { part: 'route', s, n: inChunk };
  }
  yield { part: 'tail', s: ']}', n: 0 };
}

// ---------------------------------------------------------------------------------------------
// Buffered writer honouring backpressure
// ---------------------------------------------------------------------------------------------

const CHUNK_CHARS = 1 << 20;

class ChunkWriter {
  private pending = '';
  private error: Error | null = null;
  bytes = 0;
  constructor(private readonly ws: WriteStream) {
    ws.on('error', (err) => {
      this.error ??= err;
    });
  }

  push(s: string): void {
    this.pending += s;
  }

  /** Awaits only when the buffer is full and the stream asks to wait (drain). */
  async maybeFlush(): Promise<void> {
    if (this.pending.length >= CHUNK_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending, 'latin1'); // byte string, see u8()
    this.pending = '';
    this.bytes += buf.length;
    if (!this.ws.write(buf)) await once(this.ws, 'drain');
  }

  /** Exact byte count so far, including the unflushed buffer (one char = one byte). */
  size(): number {
    return this.bytes + this.pending.length;
  }

  reached(limit: number): boolean {
    return this.bytes + this.pending.length >= limit;
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      if (this.error) return reject(this.error);
      this.ws.once('error', reject);
      this.ws.end(() => resolve());
    });
    if (this.error) throw this.error;
  }
}

// ---------------------------------------------------------------------------------------------
// Planning and the main loop
// ---------------------------------------------------------------------------------------------

export interface GenerateOptions {
  sizeBytes: number;
  out: string;
  seed?: number;
  start?: string;
  timeZone?: string;
}

export interface GenerateResult {
  bytes: number;
  counts: Record<string, number>;
  totalRecords: number;
}

/** Extra facts about a run (the CLI prints them; the benchmark may use them). */
export interface GenerateDetails extends GenerateResult {
  days: number;
  firstDay: string;
  lastMetricDay: string;
  lastWorkoutDay: string;
  bytesBySection: Record<string, number>;
}

function parseStart(start: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(start);
  if (!m) throw new Error(`--start must be YYYY-MM-DD, got ${JSON.stringify(start)}`);
  return [+m[1], +m[2] - 1, +m[3]];
}

/** Estimated output bytes of each day, to plan how many days the metrics must span. */
function planDays(model: Model, sizeBytes: number): number {
  const sampleDays: number[] = [];
  for (let d = 0; d < 730; d += 23) sampleDays.push(d); // 32 days over two years
  let metricBytes = 0;
  for (const d of sampleDays) {
    const c = model.ctx(d);
    for (const sec of METRICS) metricBytes += sec.day(model, c).s.length;
  }
  const perDay = metricBytes / sampleDays.length;

  // Workouts: the non-route part of each planned workout is rendered (cheap: the route is lazy)
  // and measured exactly; route bytes are estimated per point (per version), measured on the
  // routes of two dozen real plans rendered in both versions.
  const perPoint = [0, 0, 0];
  const scratch: Record<string, number> = {};
  const outdoor: WorkoutPlan[] = [];
  for (let d = 0; outdoor.length < 24 && d < 800; d++) for (const w of model.workouts(d)) if (w.points) outdoor.push(w);
  for (const v of [1, 2] as const) {
    let route = 0, pts = 0;
    for (const w of outdoor) {
      for (const p of renderWorkout(model, { ...w, version: v }, scratch, 1000)) {
        if (p.part === 'route') route += p.s.length;
      }
      pts += w.points;
    }
    perPoint[v] = pts ? route / pts : v === 2 ? 230 : 100;
  }
  let total = 64;
  for (const sec of METRICS) total += 40 + sec.name.length + sec.units.length;
  // The metrics span the days that fit whole; workouts then fill the rest (see the header).
  for (let d = 0; ; d++) {
    total += perDay;
    if (total > sizeBytes || d > 200_000) return Math.max(1, d);
    for (const w of model.workouts(d)) {
      const head = renderWorkout(model, w, scratch).next().value as Piece;
      total += head.s.length + perPoint[w.version] * w.points + 3;
    }
    if (total >= sizeBytes) return d + 1;
  }
}

/** Generates an export of about `sizeBytes` bytes (it stops once the output reaches the size). */
export async function generateExport(opts: GenerateOptions): Promise<GenerateResult> {
  const { bytes, counts, totalRecords } = await generateExportDetailed(opts);
  return { bytes, counts, totalRecords };
}

export async function generateExportDetailed(opts: GenerateOptions): Promise<GenerateDetails> {
  const sizeBytes = Math.max(1, Math.floor(opts.sizeBytes));
  const seed = opts.seed ?? 42;
  const timeZone = opts.timeZone ?? 'America/Los_Angeles';
  const [y, m0, d0] = parseStart(opts.start ?? '2015-01-01');
  const clock = new TzClock(timeZone);
  const model = new Model(seed, clock, y, m0, d0);
  const days = planDays(model, sizeBytes);

  const counts: Record<string, number> = {};
  const bytesBySection: Record<string, number> = {};
  const ws = createWriteStream(opts.out, { highWaterMark: 4 << 20 });
  const w = new ChunkWriter(ws);
  const dayName = (d: number): string => new Date(Date.UTC(y, m0, d0 + d)).toISOString().slice(0, 10);

  w.push('{"data":{"metrics":[');
  let lastMetricDay = -1;
  let full = false;
  for (let i = 0; i < METRICS.length; i++) {
    const sec = METRICS[i];
    const before = w.size();
    w.push((i ? ',' : '') + '{"name":"' + sec.name + '","units":"' + sec.units + '","data":[');
    let first = true;
    let n = 0;
    for (let d = 0; d < days && !full; d++) {
      const text = sec.day(model, model.ctx(d));
      if (text.n) {
        w.push(first ? text.s.slice(1) : text.s);
        first = false;
        n += text.n;
      }
      lastMetricDay = Math.max(lastMetricDay, d);
      await w.maybeFlush();
      // Safety net when the plan overshoots: never write past the requested size.
      if (w.reached(sizeBytes)) full = true;
    }
    w.push(']}');
    counts[sec.name] = n;
    bytesBySection[sec.name] = w.size() - before;
  }

  w.push('],"workouts":[');
  const wBefore = w.size();
  let firstWorkout = true;
  let lastWorkoutDay = -1;
  const maxDay = days * 4 + 1000;
  for (let d = 0; d < maxDay && !w.reached(sizeBytes); d++) {
    for (const plan of model.workouts(d)) {
      if (w.reached(sizeBytes)) break;
      if (!firstWorkout) w.push(',');
      firstWorkout = false;
      lastWorkoutDay = d;
      const gen = renderWorkout(model, plan, counts);
      for (let p = gen.next(); !p.done; p = gen.next()) {
        w.push(p.value.s);
        if (p.value.part === 'route') {
          await w.maybeFlush();
          if (w.reached(sizeBytes)) {
            // Size reached inside a route: close the route and the workout, stop here.
            w.push(']}');
            break;
          }
        }
      }
      await w.maybeFlush();
    }
  }
  w.push(']}}');
  bytesBySection['workouts'] = w.size() - wBefore;
  await w.close();

  for (const k of Object.keys(counts)) if (counts[k] === 0) delete counts[k];
  const totalRecords = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    bytes: w.bytes,
    counts,
    totalRecords,
    days,
    firstDay: dayName(0),
    lastMetricDay: dayName(Math.max(0, lastMetricDay)),
    lastWorkoutDay: lastWorkoutDay < 0 ? '' : dayName(lastWorkoutDay),
    bytesBySection,
  };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

/** `1GB`, `500MB`, `64kb`, `1.5GiB`, `2048` → bytes (binary multiples). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`bad size ${JSON.stringify(text)} (examples: 2048, 64KB, 500MB, 1GB)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(parseFloat(m[1]) * mult);
}

function usage(): never {
  process.stderr.write(
    'usage: node --import tsx examples/generate.ts --size 1GB --out /tmp/big.json [--seed 42] [--start 2015-01-01] [--user-tz America/Los_Angeles]\n',
  );
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') usage();
    if (!a.startsWith('--')) usage();
    const eq = a.indexOf('=');
    if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) usage();
      args[a.slice(2)] = argv[++i];
    }
  }
  for (const k of Object.keys(args)) if (!['size', 'out', 'seed', 'start', 'user-tz'].includes(k)) usage();
  if (!args.size || !args.out) usage();
  const seed = args.seed === undefined ? 42 : Number(args.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${args.seed}`);
  const t0 = performance.now();
  const res = await generateExportDetailed({
    sizeBytes: parseSize(args.size),
    out: args.out,
    seed,
    start: args.start,
    timeZone: args['user-tz'],
  });
  const seconds = (performance.now() - t0) / 1000;
  process.stderr.write(
    JSON.stringify({
      event: 'generate.done',
      out: args.out,
      bytes: res.bytes,
      totalRecords: res.totalRecords,
      counts: res.counts,
      seconds: Math.round(seconds * 1000) / 1000,
      mbPerSec: Math.round((res.bytes / 1024 / 1024 / seconds) * 10) / 10,
      seed,
      timeZone: args['user-tz'] ?? 'America/Los_Angeles',
      days: res.days,
      firstDay: res.firstDay,
      lastMetricDay: res.lastMetricDay,
      lastWorkoutDay: res.lastWorkoutDay,
      bytesBySection: res.bytesBySection,
    }) + '\n',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
