// A bound on the requests the watcher has in flight: its passes write side by side, and this
// keeps the API server from getting more at once than it is worth waiting for.
export class Slots {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`Slots: size must be a positive integer, got ${size}`);
  }

  /** Runs `task` once a slot is free; the slot is given back however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.inUse >= this.size) await new Promise<void>(resolve => this.waiting.push(resolve));
    else this.inUse++;
    try {
      return await task();
    } finally {
      // The slot goes straight to the next waiter, so that the count never dips below what is running.
      const next = this.waiting.shift();
      if (next) next();
      else this.inUse--;
    }
  }

  /** Each of `items` through `task`, at most `size` at once; results in the order of `items`. */
  all<I, T>(items: readonly I[], task: (item: I) => Promise<T>): Promise<T[]> {
    return Promise.all(items.map(item => this.run(() => task(item))));
  }
}
