import { describe, expect, it } from 'vitest';
import { RouteLineBuilder, type RoutePoint } from '../../src/load/route-line.js';

/** The points of an EWKB LineStringZ, with its header checked. */
function readLine(b: Buffer): [number, number, number][] {
  expect(b[0]).toBe(1); // little-endian
  expect(b.readUInt32LE(1)).toBe(0xa0000002); // LineString | Z | SRID
  expect(b.readUInt32LE(5)).toBe(4326);
  const n = b.readUInt32LE(9);
  expect(b.length).toBe(13 + 24 * n);
  return Array.from({ length: n }, (_, i) => [b.readDoubleLE(13 + 24 * i), b.readDoubleLE(21 + 24 * i), b.readDoubleLE(29 + 24 * i)]);
}

const point = (time: number, seq: number, k: number, altitude: number | null = k / 10): RoutePoint => ({
  time,
  seq,
  longitude: -122 - k / 1000,
  latitude: 47 + k / 1000,
  altitude,
});

describe('RouteLineBuilder', () => {
  it('makes no line of fewer than two points', () => {
    const b = new RouteLineBuilder();
    expect(b.build()).toBeNull();
    b.add(point(1000, 0, 1));
    expect(b.build()).toBeNull();
  });

  it('keeps a long route in time order as added, altitudes as float4, none as 0', () => {
    const b = new RouteLineBuilder();
    const pts = Array.from({ length: 1000 }, (_, k) => point(1000 * k, 0, k, k === 5 ? null : k / 10));
    for (const p of pts) b.add(p);
    expect(b.points).toBe(1000);
    expect(readLine(b.build()!)).toEqual(pts.map((p) => [p.longitude, p.latitude, p.altitude === null ? 0 : Math.fround(p.altitude)]));
  });

  it('orders points by time, then by their rank within the same instant', () => {
    const b = new RouteLineBuilder();
    const added = [point(3000, 0, 3), point(1000, 1, 2), point(1000, 0, 1), point(2000, 0, 4), ...Array.from({ length: 100 }, (_, k) => point(4000 + k, 0, 10 + k))];
    for (const p of added) b.add(p);
    const line = readLine(b.build()!);
    expect(line.slice(0, 4).map(([x]) => x)).toEqual([point(0, 0, 1).longitude, point(0, 0, 2).longitude, point(0, 0, 4).longitude, point(0, 0, 3).longitude]);
    expect(line).toHaveLength(104);
    expect(line[103][0]).toBe(point(0, 0, 109).longitude);
  });
});
