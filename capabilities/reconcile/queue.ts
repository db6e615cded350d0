// Up to `concurrency` namespaces reconciled at once, never one namespace twice at a time (a
// pass reads and writes its namespace as a whole); events for a namespace already waiting, or
// running, coalesce into one run after it. A namespace whose runs keep reverting the same objects (another controller
// fighting over one) is slowed down exponentially, so the module's writes stay bounded; runs
// that follow real changes are never slowed. A run that reverts nothing does not end the
// streak (it is usually the echo of the module's own write); only `quietMs` without one does.
// A run that throws, or finishes with writes the API server refused, is retried with the same
// growing delay. In a burst (a thousand Deployments applied at once) a namespace's runs are
// spaced out: each run rewrites the namespace's VirtualService with every route, so back-to-back
// runs that each add one route would write it once per Deployment. The first run after a quiet
// spell starts at once, the next no sooner than `spacingMs` after it, and each further one of the
// burst twice as long after the one before, up to `maxSpacingMs`; events in between wait for it
// together. A waiting run also starts once its namespace has had no event for `settleMs` (the
// burst is over: its last changes are not held back for the whole spacing). A run wanted after
// more than twice `maxSpacingMs` starts a new burst.

export interface RunResult {
  /** Writes that undid someone else's change to an object the module had set. */
  reverts: number;
  /** Writes the API server refused; the run did the rest, and is retried for these. */
  failures?: number;
}

export interface QueueOptions {
  /** First delay after a reverting run past the free ones; doubles per further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Reverting runs allowed before delays start (a one-off drift repair is never delayed). */
  freeRuns: number;
  /** A reverting run this long after the last one starts a new streak. */
  quietMs: number;
  /** Namespaces run at once: their writes go to the API server side by side. */
  concurrency: number;
  /** Least time from the start of a burst's first run to the start of its second (0: no spacing). */
  spacingMs: number;
  maxSpacingMs: number;
  /** A run waiting for its spacing starts after this long without an event for its namespace. */
  settleMs: number;
}

const DEFAULTS: QueueOptions = {
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  freeRuns: 3,
  quietMs: 120_000,
  concurrency: 1,
  spacingMs: 0,
  maxSpacingMs: 0,
  settleMs: Infinity,
};

export class NamespaceQueue {
  private readonly pending = new Set<string>();
  private readonly delayed = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly streak = new Map<string, { runs: number; lastWrite: number }>();
  /** Namespaces whose run is under way. */
  private readonly active = new Set<string>();
  /** When each namespace's last run started, and how many runs of its burst came before it. */
  private readonly started = new Map<string, { at: number; streak: number }>();
  /** Runs waiting for their spacing: the latest start, and the timer of the earlier one a quiet spell gives. */
  private readonly spaced = new Map<string, { deadline: number; timer: ReturnType<typeof setTimeout> }>();
  /** Namespaces whose spacing is over: their next run starts without waiting again. */
  private readonly released = new Set<string>();
  private waiters: (() => void)[] = [];
  private readonly options: QueueOptions;
  private depth = 0;

  constructor(
    private readonly worker: (namespace: string) => Promise<RunResult>,
    private readonly onError: (namespace: string, error: unknown) => void,
    options: Partial<QueueOptions> = {},
    /** Told the number of namespaces waiting (pending or delayed) whenever it changes: the queue-depth metric. */
    private readonly onDepth: (waiting: number) => void = () => undefined,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  enqueue(namespace: string): void {
    if (this.delayed.has(namespace)) return; // a delayed run is already coming
    const spaced = this.spaced.get(namespace);
    if (spaced !== undefined) return this.space(namespace, spaced.deadline); // the burst goes on: its quiet spell starts again
    this.pending.add(namespace);
    this.depthChanged();
    this.pump();
  }

  /** Resolves when nothing is pending, running or delayed. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise(resolve => this.waiters.push(resolve));
  }

  stop(): void {
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
    for (const { timer } of this.spaced.values()) clearTimeout(timer);
    this.spaced.clear();
    this.released.clear();
    this.pending.clear();
    this.depthChanged();
  }

  private depthChanged(): void {
    const depth = this.pending.size + this.delayed.size + this.spaced.size;
    if (depth === this.depth) return;
    this.depth = depth;
    this.onDepth(depth);
  }

  private later(namespace: string, ms: number): void {
    this.delayed.set(
      namespace,
      setTimeout(() => {
        this.delayed.delete(namespace);
        this.enqueue(namespace);
      }, ms),
    );
    this.depthChanged();
  }

  /** The namespace's run starts at `deadline`, or after `settleMs` without an event if that comes first. */
  private space(namespace: string, deadline: number): void {
    const previous = this.spaced.get(namespace);
    if (previous !== undefined) clearTimeout(previous.timer);
    const at = Math.min(deadline, Date.now() + this.options.settleMs);
    const timer = setTimeout(
      () => {
        this.spaced.delete(namespace);
        this.released.add(namespace);
        this.enqueue(namespace);
      },
      Math.max(0, at - Date.now()),
    );
    this.spaced.set(namespace, { deadline, timer });
    this.depthChanged();
  }

  private isIdle(): boolean {
    return this.active.size === 0 && this.pending.size === 0 && this.delayed.size === 0 && this.spaced.size === 0;
  }

  /** Starts waiting namespaces while there is room; each finished run makes room again. */
  private pump(): void {
    while (this.active.size < this.options.concurrency) {
      const next = this.nextReady();
      if (next === undefined) return;
      this.pending.delete(next);
      const now = Date.now();
      const last = this.started.get(next);
      const { spacingMs, maxSpacingMs } = this.options;
      const inBurst = spacingMs > 0 && last !== undefined && now - last.at < 2 * maxSpacingMs;
      const streak = inBurst ? last.streak + 1 : 0;
      if (inBurst && !this.released.has(next)) {
        const deadline = last.at + Math.min(maxSpacingMs, spacingMs * 2 ** last.streak);
        if (deadline > now) {
          this.space(next, deadline);
          continue;
        }
      }
      this.released.delete(next);
      this.started.set(next, { at: now, streak });
      this.active.add(next);
      this.depthChanged();
      void this.run(next).finally(() => {
        this.active.delete(next);
        this.pump();
        if (this.isIdle()) this.waiters.splice(0).forEach(w => w());
      });
    }
  }

  private async run(next: string): Promise<void> {
    let failed = false;
    try {
      const { reverts, failures = 0 } = await this.worker(next);
      failed = failures > 0;
      if (reverts > 0 && !failed) {
        const runs = this.count(next);
        if (runs > this.options.freeRuns) {
          this.pending.delete(next);
          this.later(next, this.delayFor(runs - this.options.freeRuns - 1));
        }
      }
    } catch (e) {
      this.onError(next, e);
      failed = true;
    }
    if (failed) {
      // An event that came during the run is served by the retry.
      this.pending.delete(next);
      this.later(next, this.delayFor(Math.min(this.count(next), 10)));
    }
  }

  /** Counts a reverting (or failing) run into the namespace's streak; returns the streak's length. */
  private count(namespace: string): number {
    const now = Date.now();
    const previous = this.streak.get(namespace);
    const runs = previous && now - previous.lastWrite < this.options.quietMs ? previous.runs + 1 : 1;
    this.streak.set(namespace, { runs, lastWrite: now });
    return runs;
  }

  private delayFor(step: number): number {
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** step);
  }

  /** The first waiting namespace that is not running now. */
  private nextReady(): string | undefined {
    for (const namespace of this.pending) if (!this.active.has(namespace)) return namespace;
    return undefined;
  }
}
