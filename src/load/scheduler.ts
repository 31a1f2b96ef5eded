/**
 * Runs batch writes: batches of one table strictly in order (a later export's value must win
 * over an earlier one in the same file), different tables in parallel up to `concurrency`.
 * The reader awaits `waitForRoom` so parsed batches never pile up in memory.
 */
export class BatchScheduler {
  private running = 0;
  private pending = 0;
  private readonly slots: (() => void)[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private readonly tails = new Map<string, Promise<void>>();
  private error: unknown = null;

  constructor(
    private readonly concurrency: number,
    private readonly maxPending: number,
  ) {}

  get failed(): unknown {
    return this.error;
  }

  submit(lane: string, job: () => Promise<void>): void {
    this.pending++;
    const prev = this.tails.get(lane) ?? Promise.resolve();
    const next = prev.then(async () => {
      if (this.error) return;
      await this.acquire();
      try {
        await job();
      } catch (err) {
        this.error ??= err;
      } finally {
        this.release();
      }
    });
    const tail = next.finally(() => {
      this.pending--;
      this.roomWaiters.splice(0).forEach((w) => w());
    });
    this.tails.set(lane, tail);
  }

  async waitForRoom(): Promise<void> {
    while (this.pending >= this.maxPending && !this.error) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /** Waits for every submitted job; rethrows the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.tails.values());
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
