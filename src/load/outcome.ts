/** The four ends a record can come to; `read` is always their sum. */
export interface Counts {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export const emptyCounts = (): Counts => ({ read: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 });

export function addCounts(into: Counts, c: Partial<Counts>): Counts {
  into.read += c.read ?? 0;
  into.inserted += c.inserted ?? 0;
  into.updated += c.updated ?? 0;
  into.unchanged += c.unchanged ?? 0;
  into.rejected += c.rejected ?? 0;
  return into;
}

export function reconciles(c: Counts): boolean {
  return c.read === c.inserted + c.updated + c.unchanged + c.rejected;
}
