/**
 * Apple's export.xml gives workouts no id: one is derived from activity type, start and end, so
 * re-imports of the same workout meet the same row and two different workouts never share one.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appleWorkoutId } from '../../src/apple/map-workout.js';

const RUN = 'HKWorkoutActivityTypeRunning';
const start = Date.UTC(2024, 2, 12, 14);
const end = Date.UTC(2024, 2, 12, 14, 30);

describe('appleWorkoutId', () => {
  it('is the SHA-1 of type, start and end (stable across versions of this program)', () => {
    const expected = 'apple-' + createHash('sha1').update(`${RUN}|${start}|${end}`).digest('hex').slice(0, 32);
    expect(appleWorkoutId(RUN, start, end)).toBe(expected);
  });

  it('differs when any of type, start or end differs', () => {
    const ids = new Set([
      appleWorkoutId(RUN, start, end),
      appleWorkoutId('HKWorkoutActivityTypeWalking', start, end),
      appleWorkoutId(RUN, start + 1000, end),
      appleWorkoutId(RUN, start, end + 1000),
    ]);
    expect(ids.size).toBe(4);
  });
});
