/**
 * Tells apart the points of one workout route that share an instant. Apple's export (GPX
 * `<trkpt>`, `<Location>`) and HAE routes carry one-second timestamps, and two points in the same
 * second are common and distinct: keyed on the time alone, one of them was lost. Each point gets
 * `seq`, its rank among the route's points at that instant in export order (0 for the first), so
 * the key (workout, time, seq) holds them all and the same export gives the same keys again.
 */
export class InstantSeq {
  private last = -Infinity;
  private run = 0;
  /** Every instant so far, while they come in order (a packed array of doubles: no allocation each). */
  private readonly times: number[] = [];
  /** Points per instant, built only once a point comes out of order (a Map set per point costs). */
  private seen: Map<number, number> | null = null;

  /** The rank of this point among the points seen so far at `time`: 0, then 1, 2, ... */
  next(time: number): number {
    if (this.seen === null) {
      // Routes come in time order: a repeat can only be of the instant just before.
      if (time > this.last) {
        this.last = time;
        this.run = 0;
        this.times.push(time);
        return 0;
      }
      if (time === this.last) {
        this.times.push(time);
        return ++this.run;
      }
      const seen = (this.seen = new Map<number, number>());
      for (const t of this.times) seen.set(t, (seen.get(t) ?? 0) + 1);
      this.times.length = 0;
    }
    const n = this.seen.get(time) ?? 0;
    this.seen.set(time, n + 1);
    return n;
  }
}
