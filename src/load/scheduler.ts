/**
 * Runs batch writes, up to `concurrency` at once, while the reader goes on parsing.
 *
 * Two batches of one table run at the same time only when their time spans do not overlap:
 * every table's key contains its time column, so such batches cannot hold the same key, and
 * the order they commit in cannot matter. A batch whose span overlaps an earlier batch of the
 * same table waits for it (a later export's value must win over an earlier one in the same
 * file). Exports list each metric in time order, so consecutive batches of the big tables
 * (heart rate, routes) are disjoint and COPY in parallel, keeping PostgreSQL busy on more than
 * one core; batches of different tables never wait for each other.
 *
 * The reader awaits `waitForRoom` so parsed batches never pile up in memory: at most
 * `maxPending` batches, and no more once they hold `maxPendingBytes` of rows (one batch always
 * may go, however large).
 */

/** A batch's time span, epoch ms, both ends included. */
export interface Span {
  min: number;
  max: number;
}

interface Entry {
  span: Span;
  done: Promise<void>;
}

export class BatchScheduler {
  private running = 0;
  private pending = 0;
  private pendingBytes = 0;
  private readonly slots: (() => void)[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  /** Per lane, the batches submitted and not finished yet, in submission order. */
  private readonly inFlight = new Map<string, Entry[]>();
  private readonly all = new Set<Promise<void>>();
  private error: unknown = null;

  constructor(
    private readonly concurrency: number,
    private readonly maxPending: number,
    private readonly maxPendingBytes = Infinity,
  ) {}

  get failed(): unknown {
    return this.error;
  }

  submit(lane: string, span: Span, job: () => Promise<void>, bytes = 0): void {
    this.pending++;
    this.pendingBytes += bytes;
    const entries = this.inFlight.get(lane) ?? [];
    this.inFlight.set(lane, entries);
    const before = entries.filter((e) => e.span.min <= span.max && span.min <= e.span.max).map((e) => e.done);
    const done = Promise.all(before).then(async () => {
      if (this.error) return;
      await this.acquire();
      try {
        if (!this.error) await job();
      } catch (err) {
        this.error ??= err;
      } finally {
        this.release();
      }
    });
    const entry: Entry = { span, done };
    entries.push(entry);
    const tail = done.finally(() => {
      entries.splice(entries.indexOf(entry), 1);
      this.all.delete(tail);
      this.pending--;
      this.pendingBytes -= bytes;
      this.roomWaiters.splice(0).forEach((w) => w());
    });
    this.all.add(tail);
  }

  async waitForRoom(): Promise<void> {
    while ((this.pending >= this.maxPending || (this.pending > 0 && this.pendingBytes >= this.maxPendingBytes)) && !this.error) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /** Waits for every submitted job; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.all.size) await Promise.all([...this.all]);
    if (this.error) throw this.error;
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.slots.push(resolve));
  }

  private release(): void {
    const next = this.slots.shift();
    if (next) next();
    else this.running--;
  }
}
