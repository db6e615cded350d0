// One namespace reconciled at a time; events for a namespace already waiting coalesce into
// one run. A namespace whose runs keep writing (another controller fighting over an object)
// is slowed down exponentially, so the module's writes stay bounded.

export interface RunResult {
  writes: number;
}

export interface QueueOptions {
  /** First delay after a run that wrote; doubles per consecutive writing run. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Writing runs allowed back to back before delays start (a change legitimately takes a few). */
  freeRuns: number;
}

const DEFAULTS: QueueOptions = { baseDelayMs: 1_000, maxDelayMs: 60_000, freeRuns: 3 };

export class NamespaceQueue {
  private readonly pending = new Set<string>();
  private readonly delayed = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly streak = new Map<string, number>();
  private running = false;
  private waiters: (() => void)[] = [];
  private readonly options: QueueOptions;

  constructor(
    private readonly worker: (namespace: string) => Promise<RunResult>,
    private readonly onError: (namespace: string, error: unknown) => void,
    options: Partial<QueueOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  enqueue(namespace: string): void {
    if (this.delayed.has(namespace)) return; // a delayed run is already coming
    this.pending.add(namespace);
    void this.drain();
  }

  /** Resolves when nothing is pending, running or delayed. */
  idle(): Promise<void> {
    if (!this.running && this.pending.size === 0 && this.delayed.size === 0) return Promise.resolve();
    return new Promise(resolve => this.waiters.push(resolve));
  }

  stop(): void {
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
    this.pending.clear();
  }

  private later(namespace: string, ms: number): void {
    this.delayed.set(
      namespace,
      setTimeout(() => {
        this.delayed.delete(namespace);
        this.enqueue(namespace);
      }, ms),
    );
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.first(); next !== undefined; next = this.first()) {
        this.pending.delete(next);
        try {
          const { writes } = await this.worker(next);
          const streak = writes > 0 ? (this.streak.get(next) ?? 0) + 1 : 0;
          this.streak.set(next, streak);
          if (streak > this.options.freeRuns) {
            const delay = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (streak - this.options.freeRuns - 1));
            this.pending.delete(next);
            this.later(next, delay);
          }
        } catch (e) {
          this.onError(next, e);
          const streak = (this.streak.get(next) ?? 0) + 1;
          this.streak.set(next, streak);
          this.later(next, Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(streak, 10)));
        }
      }
    } finally {
      this.running = false;
      if (this.delayed.size === 0) this.waiters.splice(0).forEach(w => w());
    }
  }

  private first(): string | undefined {
    return this.pending.values().next().value;
  }
}
