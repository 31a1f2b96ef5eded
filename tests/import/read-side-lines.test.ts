import { describe, expect, it } from 'vitest';
import { ReadSide, type BatchSink } from '../../src/import/read-side.js';
import type { TableBatch } from '../../src/load/batch.js';
import type { RoutePointRecord, WorkoutRecord } from '../../src/records/model.js';
import type { ReaderBatch, RecordReader } from '../../src/records/reader.js';

const T0 = Date.UTC(2024, 2, 12, 14);

const workout = (id: string, routePoints: number): WorkoutRecord => ({
  kind: 'workout', workoutId: id, idDerived: true, exportVersion: 2, name: 'Walk', time: T0, endTime: T0 + 600_000,
  durationS: 600, location: null, activeEnergy: null, distance: null, summary: {}, metadata: null,
  heartRateLooksLikeRecovery: false, routePoints,
});

const point = (id: string, k: number): RoutePointRecord => ({
  kind: 'route_point', workoutId: id, time: T0 + k * 1000, seq: 0, latitude: 47 + k / 1000, longitude: -122, altitude: k,
  course: null, courseAccuracy: null, speed: null, speedAccuracy: null, horizontalAccuracy: null, verticalAccuracy: null,
});

/** Reads `batches` through a ReadSide whose sink keeps the table batches it is handed. */
async function readThrough(batches: ReaderBatch[], routeLines: boolean) {
  const written: TableBatch[] = [];
  const sink: BatchSink = {
    exportDate: async () => {},
    workoutsToSkip: async () => [],
    batch: async (b) => {
      written.push(b);
    },
    rejects: async () => {},
    unchangedOlder: () => {},
    progress: () => {},
    stopped: () => null,
  };
  const reader: RecordReader = {
    batches: (async function* () {
      yield* batches;
    })(),
    stats: { metrics: new Map(), unknownKeys: [] },
  };
  const end = await new ReadSide({ batchRows: 2, routeLines }, sink).readAll(reader);
  return { end, written };
}

const checked = (records: ReaderBatch['records']): ReaderBatch => ({ records, rejects: [], checked: true });

describe('route lines while reading', () => {
  it('a workout read before its points (HAE) carries their line', async () => {
    const w = workout('H-1', 2);
    const { end } = await readThrough([checked([w, point('H-1', 0), point('H-1', 1)])], true);
    expect(w.routeLine?.readUInt32LE(9)).toBe(2);
    expect(end.routed).toEqual([]);
  });

  it('points read apart from their workout (Apple: GPX first) are left to the stored points', async () => {
    const w = workout('A-1', 2);
    const { end, written } = await readThrough([checked([point('A-1', 0), point('A-1', 1)]), checked([w])], true);
    expect(w.routeLine).toBeNull();
    expect(end.routed).toEqual(['A-1']);
    expect(written.filter((b) => b.spec.table === 'workout_routes').reduce((n, b) => n + b.read, 0)).toBe(2);
  });

  it('points whose workout never comes are left to the stored points', async () => {
    const { end } = await readThrough([checked([point('X-1', 0), point('X-1', 1)])], true);
    expect(end.routed).toEqual(['X-1']);
  });

  it('without PostGIS no line is built and the workouts batch has no route column', async () => {
    const w = workout('A-1', 2);
    const { end, written } = await readThrough([checked([point('A-1', 0), point('A-1', 1)]), checked([w])], false);
    expect(w.routeLine).toBeUndefined();
    expect(end.routed).toEqual(['A-1']);
    expect(written.find((b) => b.spec.table === 'workouts')!.spec.columns).not.toContain('route');
  });
});
