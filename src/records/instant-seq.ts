/**
 * Tells apart the points of one workout route that share an instant. Apple's export (GPX
 * `<trkpt>`, `<Location>`) and HAE routes carry one-second timestamps, and two points in the same
 * second are common and distinct: keyed on the time alone, one of them was lost. Each point gets
 * `seq`, its rank among the route's points at that instant in export order (0 for the first), so
 * the key (workout, time, seq) holds them all and the same export gives the same keys again.
 */
export class InstantSeq {
  private readonly seen = new Map<number, number>();

  /** The rank of this point among the points seen so far at `time`: 0, then 1, 2, ... */
  next(time: number): number {
    const n = this.seen.get(time) ?? 0;
    this.seen.set(time, n + 1);
    return n;
  }
}
