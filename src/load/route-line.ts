/**
 * A workout's route as the PostGIS value of `workouts.route` (geometry(LineStringZ, 4326)), built
 * from the route points the import is about to store, in the binary form COPY passes to
 * geometry's receive function (EWKB: little-endian, Z and SRID flags). It is the same line that
 * `ST_MakeLine(geom ORDER BY recorded_at, seq)` over the stored points gives (load/route-lines.ts):
 * `geom` is (longitude, latitude, coalesce(altitude, 0)) with altitude a float4 column.
 *
 * Why in node: building the lines with an UPDATE after the last batch left PostgreSQL re-reading
 * every point and rewriting every routed workout while nothing else ran (2.9 s at the end of a
 * 47 s import of the 1 GB bench export).
 */

import { LITTLE_ENDIAN } from '../db/copy-binary.js';

const EWKB_LINESTRING_Z_SRID = (0x2 | 0x80000000 | 0x20000000) >>> 0;
const SRID_WGS84 = 4326;
const HEADER = 13;
const POINT = 24;

export interface RoutePoint {
  time: number;
  seq: number;
  latitude: number;
  longitude: number;
  altitude: number | null;
}

export class RouteLineBuilder {
  /** time, seq, x, y, z of each point, in the order added. */
  private v = new Float64Array(5 * 64);
  private n = 0;
  private sorted = true;

  get points(): number {
    return this.n;
  }

  add(p: RoutePoint): void {
    let v = this.v;
    const at = this.n * 5;
    if (at === v.length) {
      const grown = new Float64Array(v.length * 2);
      grown.set(v);
      this.v = v = grown;
    }
    if (this.n > 0 && (p.time < v[at - 5] || (p.time === v[at - 5] && p.seq < v[at - 4]))) this.sorted = false;
    v[at] = p.time;
    v[at + 1] = p.seq;
    v[at + 2] = p.longitude;
    v[at + 3] = p.latitude;
    v[at + 4] = p.altitude === null ? 0 : Math.fround(p.altitude);
    this.n++;
  }

  /** The EWKB line, or null below two points (the SQL build makes no line of one point either). */
  build(): Buffer | null {
    const n = this.n;
    if (n < 2) return null;
    const v = this.v;
    let order: number[] | null = null;
    if (!this.sorted) {
      order = Array.from({ length: n }, (_, i) => i);
      order.sort((a, b) => v[a * 5] - v[b * 5] || v[a * 5 + 1] - v[b * 5 + 1]);
    }
    const xyz = new Float64Array(3 * n);
    for (let k = 0; k < n; k++) {
      const i = order === null ? k : order[k];
      xyz[3 * k] = v[5 * i + 2];
      xyz[3 * k + 1] = v[5 * i + 3];
      xyz[3 * k + 2] = v[5 * i + 4];
    }
    const out = Buffer.allocUnsafe(HEADER + n * POINT);
    out[0] = 1;
    out.writeUInt32LE(EWKB_LINESTRING_Z_SRID, 1);
    out.writeUInt32LE(SRID_WGS84, 5);
    out.writeUInt32LE(n, 9);
    if (LITTLE_ENDIAN) Buffer.from(xyz.buffer, 0, xyz.byteLength).copy(out, HEADER);
    else for (let k = 0; k < 3 * n; k++) out.writeDoubleLE(xyz[k], HEADER + 8 * k);
    return out;
  }
}
