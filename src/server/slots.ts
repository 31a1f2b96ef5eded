/** A counting semaphore with a bounded queue: how many uploads import at once, and how many wait. */
export class Slots {
  private free: number;
  private readonly queue: (() => void)[] = [];
  constructor(
    n: number,
    private readonly maxQueue: number,
  ) {
    this.free = n;
  }

  /** Resolves with a release function (safe to call twice), or null when the queue is full. */
  async acquire(): Promise<(() => void) | null> {
    if (this.free > 0) this.free--;
    else {
      if (this.queue.length >= this.maxQueue) return null;
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    };
  }
}
