/** Where an input's "as of" instant comes from before it is read: option, file name, mtime. */
import { describe, expect, it } from 'vitest';
import { asOfBeforeReading, asOfFromName, parseAsOf } from '../../src/import/as-of.js';

describe('asOfFromName', () => {
  it('a date range: the end date, to the end of that day (UTC)', () => {
    expect(asOfFromName('/in/HealthAutoExport-2024-01-01-2024-01-31.json')).toBe(Date.UTC(2024, 0, 31, 23, 59, 59, 999));
    expect(asOfFromName('HealthAutoExport-2026-02-19.json')).toBe(Date.UTC(2026, 1, 19, 23, 59, 59, 999));
  });

  it('an export stamp (YYYYMMDDhhmmss); the last date in the name wins (the file, not its folder)', () => {
    expect(asOfFromName('/dl/HealthAutoExport_20260604141813.zip:data.json')).toBe(Date.UTC(2026, 5, 4, 14, 18, 13));
    expect(asOfFromName('/dl/HealthAutoExport_20260604141813/HealthAutoExport-2026-03-06-2026-06-03.json')).toBe(Date.UTC(2026, 5, 3, 23, 59, 59, 999));
  });

  it('no date, or not a real one: null', () => {
    for (const name of ['export.json', 'stdin', 'http:127.0.0.1', 'run-2024-13-45.json', 'id-123456789012345678.json']) expect(asOfFromName(name), name).toBeNull();
  });
});

describe('asOfBeforeReading', () => {
  it('option, then name, then mtime; nothing known: null (the time received)', () => {
    const mtime = Date.UTC(2024, 5, 1, 12);
    expect(asOfBeforeReading({ name: 'HealthAutoExport-2024-01-31.json', modifiedAt: mtime }, 5)).toEqual({ at: 5, source: 'option' });
    expect(asOfBeforeReading({ name: 'HealthAutoExport-2024-01-31.json', modifiedAt: mtime })).toEqual({ at: Date.UTC(2024, 0, 31, 23, 59, 59, 999), source: 'name' });
    expect(asOfBeforeReading({ name: 'export.json', modifiedAt: mtime })).toEqual({ at: mtime, source: 'mtime' });
    expect(asOfBeforeReading({ name: 'stdin' })).toBeNull();
  });

  it('parseAsOf takes the importer\'s date forms', () => {
    expect(parseAsOf('2024-06-30')).toBe(Date.UTC(2024, 5, 30));
    expect(parseAsOf(' 2024-06-30 6:00:00 pm +0200 ')).toBe(Date.UTC(2024, 5, 30, 16));
    expect(parseAsOf('last week')).toBeNull();
  });
});
