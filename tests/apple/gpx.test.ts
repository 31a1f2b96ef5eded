import { describe, expect, it } from 'vitest';
import { readGpx } from '../../src/apple/gpx.js';
import { InstantSeq } from '../../src/records/instant-seq.js';
import type { RoutePointRecord } from '../../src/records/model.js';
import type { ReaderReject } from '../../src/records/reader.js';

const GPX =
  '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Apple Health Export" xmlns="http://www.topografix.com/GPX/1/1">\n' +
  '<metadata><time>2024-03-12T14:00:00Z</time><desc>Caf&#233; &amp; back</desc></metadata>\n<trk><name>Route 2024-03-12 7:00am</name><trkseg>\n' +
  '<trkpt lon="-122.300000" lat="47.600000"><ele>10.2</ele><time>2024-03-12T14:00:05Z</time>' +
  '<extensions><speed>2.9</speed><course>181.2</course><hAcc>3.1</hAcc><vAcc>2.4</vAcc></extensions></trkpt>\n' +
  '<trkpt lon="-122.300100" lat="47.600100"><ele> 11.0 </ele><time><![CDATA[2024-03-12T14:00:05Z]]></time></trkpt>\n' +
  '<trkpt lon="-122.3002" lat="147.6"><time>2024-03-12T14:00:06Z</time></trkpt>\n' +
  '<trkpt lon="-122.3003" lat="47.6003"><ele>1&#x30;.5</ele><time>2024-03-12T14:00:07Z</time></trkpt>\n' +
  '</trkseg></trk></gpx>\n';

async function read(text: string, chunk: number) {
  const buf = Buffer.from(text);
  async function* gen() {
    for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
  }
  const points: RoutePointRecord[] = [];
  const rejects: ReaderReject[] = [];
  const res = { points: 0 };
  for await (const b of readGpx(gen(), 'w1', 'workout-routes/r.gpx', res, new InstantSeq(), Date.now() + 86_400_000, 2)) {
    points.push(...(b.records as RoutePointRecord[]));
    rejects.push(...b.rejects);
  }
  return { points, rejects, counted: res.points };
}

describe('readGpx', () => {
  it('reads points, text with entities and CDATA, the same whatever the chunking', async () => {
    const whole = await read(GPX, 1 << 20);
    expect(whole.points.map((p) => [p.latitude, p.longitude, p.altitude, p.speed, p.course, p.horizontalAccuracy, p.verticalAccuracy])).toEqual([
      [47.6, -122.3, 10.2, 2.9, 181.2, 3.1, 2.4],
      [47.6001, -122.3001, 11, null, null, null, null],
      [47.6003, -122.3003, 10.5, null, null, null, null],
    ]);
    // Two points in one second: both kept, ranked.
    expect(whole.points.map((p) => [new Date(p.time).toISOString(), p.seq])).toEqual([
      ['2024-03-12T14:00:05.000Z', 0],
      ['2024-03-12T14:00:05.000Z', 1],
      ['2024-03-12T14:00:07.000Z', 0],
    ]);
    expect(whole.counted).toBe(3);
    expect(whole.rejects).toEqual([
      expect.objectContaining({ path: 'workout-routes/r.gpx:trkpt[2]', reason: expect.stringMatching(/lat "147.6" is outside/), byteOffset: Buffer.byteLength(GPX.slice(0, GPX.indexOf('<trkpt lon="-122.3002"'))), raw: '<trkpt lon="-122.3002" lat="147.6">' }),
    ]);
    for (const chunk of [1, 3, 7, 64]) expect(await read(GPX, chunk)).toEqual(whole);
  });

  it('a file that breaks keeps the points before and says where it broke', async () => {
    const cut = GPX.slice(0, GPX.indexOf('<trkpt lon="-122.3002"')) + '<trkpt lon="1" lat="2"><time>2024-03-12T14:00:09Z</tim></trkpt>';
    const r = await read(cut, 5);
    expect(r.points).toHaveLength(2);
    expect(r.rejects).toHaveLength(1);
    expect(r.rejects[0].reason).toMatch(/^route file workout-routes\/r\.gpx: not well-formed XML at byte \d+ .*unexpected close tag <\/tim>, expected <\/time>; the points before were kept$/);
    const truncated = await read(GPX.slice(0, GPX.indexOf('</trkseg>')), 9);
    expect(truncated.points).toHaveLength(3);
    expect(truncated.rejects.at(-1)?.reason).toMatch(/ends early/);
  });
});
