import { NamespaceQueue } from "./queue";

describe("NamespaceQueue", () => {
  it("runs up to `concurrency` namespaces side by side, never one namespace twice at a time", async () => {
    const running = new Set<string>();
    let most = 0;
    const runs: string[] = [];
    const gates = new Map<string, () => void>();
    const q = new NamespaceQueue(
      async ns => {
        expect(running.has(ns)).toBe(false);
        running.add(ns);
        most = Math.max(most, running.size);
        runs.push(ns);
        await new Promise<void>(r => gates.set(ns, r));
        running.delete(ns);
        return { reverts: 0 };
      },
      () => undefined,
      { concurrency: 2 },
    );
    q.enqueue("a");
    q.enqueue("b");
    q.enqueue("c");
    await Promise.resolve();
    expect([...running]).toEqual(["a", "b"]);
    // "a" changes again while it runs: one more run of "a" once this one is done, after "c" that waited first.
    q.enqueue("a");
    q.enqueue("a");
    gates.get("a")!();
    await new Promise(r => setImmediate(r));
    expect([...running].sort()).toEqual(["b", "c"]);
    gates.get("b")!();
    await new Promise(r => setImmediate(r));
    expect([...running].sort()).toEqual(["a", "c"]);
    gates.get("a")!();
    gates.get("c")!();
    await q.idle();
    expect(runs).toEqual(["a", "b", "c", "a"]);
    expect(most).toBe(2);
  });

  it("coalesces events for a namespace that is already waiting into one run", async () => {
    const runs: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>(r => (release = r));
    const q = new NamespaceQueue(
      async ns => {
        runs.push(ns);
        if (ns === "a") await gate;
        return { reverts: 0 };
      },
      () => undefined,
    );
    q.enqueue("a");
    q.enqueue("b");
    q.enqueue("b");
    q.enqueue("b");
    release();
    await q.idle();
    expect(runs).toEqual(["a", "b"]);
  });

  it("slows a namespace whose every run writes, so a fight with another writer stays bounded", async () => {
    jest.useFakeTimers();
    try {
      let runs = 0;
      const q = new NamespaceQueue(
        async () => {
          runs++;
          return { reverts: 1 };
        },
        () => undefined,
        { baseDelayMs: 1000, maxDelayMs: 8000, freeRuns: 2 },
      );
      // Another writer changes the object every 100 ms for 60 s: each change enqueues the namespace.
      for (let t = 0; t < 60_000; t += 100) {
        q.enqueue("fight");
        await jest.advanceTimersByTimeAsync(100);
      }
      // 2 free runs, then delays of 1, 2, 4, 8, 8, ... seconds: about 60/8 + 5 runs, not 600.
      expect(runs).toBeLessThan(20);
      q.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it("keeps slowing down when the echo of its own write (a run with no write) comes between the fights", async () => {
    jest.useFakeTimers();
    try {
      let runs = 0;
      let writing = 0;
      const q = new NamespaceQueue(
        async () => {
          runs++;
          // Every other run is the watch echo of the module's own write: nothing to do.
          const reverts = runs % 2 === 1 ? 1 : 0;
          writing += reverts;
          if (reverts) setTimeout(() => q.enqueue("fight"), 10);
          return { reverts };
        },
        () => undefined,
        { baseDelayMs: 1000, maxDelayMs: 8000, freeRuns: 2 },
      );
      for (let t = 0; t < 60_000; t += 100) {
        q.enqueue("fight");
        await jest.advanceTimersByTimeAsync(100);
      }
      expect(writing).toBeLessThan(20);
      q.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it("never slows runs that make new changes, however many", async () => {
    let runs = 0;
    const q = new NamespaceQueue(
      async () => {
        runs++;
        return { reverts: 0 };
      },
      () => undefined,
      { baseDelayMs: 60_000, freeRuns: 0 },
    );
    for (let i = 0; i < 50; i++) {
      q.enqueue("busy");
      await q.idle();
    }
    expect(runs).toBe(50);
  });

  it("retries a failing namespace later and reports the error", async () => {
    jest.useFakeTimers();
    try {
      const errors: string[] = [];
      let calls = 0;
      const q = new NamespaceQueue(
        async () => {
          calls++;
          if (calls === 1) throw new Error("apiserver down");
          return { reverts: 0 };
        },
        (ns, e) => errors.push(`${ns}: ${(e as Error).message}`),
        { baseDelayMs: 1000 },
      );
      q.enqueue("a");
      await jest.advanceTimersByTimeAsync(5000);
      expect([calls, errors]).toEqual([2, ["a: apiserver down"]]);
    } finally {
      jest.useRealTimers();
    }
  });

  it("retries a run that finished with refused writes later, and not at once for the echo of its other writes", async () => {
    jest.useFakeTimers();
    try {
      const at: number[] = [];
      const start = Date.now();
      const q = new NamespaceQueue(
        async () => {
          at.push(Date.now() - start);
          const failing = at.length < 3;
          // The failing run's other writes come back as watch events while it runs.
          if (failing) q.enqueue("a");
          return { reverts: 0, failures: failing ? 1 : 0 };
        },
        () => undefined,
        { baseDelayMs: 1000, maxDelayMs: 60_000 },
      );
      q.enqueue("a");
      await jest.advanceTimersByTimeAsync(0);
      expect(at).toEqual([0]);
      await jest.advanceTimersByTimeAsync(20_000);
      // 2 s, then 4 s more: the delay grows with each failing run; the third run succeeds.
      expect(at).toEqual([0, 2000, 6000]);
      q.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it("spaces a burst's runs of a namespace out, twice as far each time up to a limit, runs the last once the burst is over, and serves a quiet spell's first event at once", async () => {
    jest.useFakeTimers();
    try {
      const starts: number[] = [];
      const t0 = Date.now();
      const q = new NamespaceQueue(
        async () => {
          starts.push(Date.now() - t0);
          return { reverts: 0 };
        },
        () => undefined,
        { spacingMs: 250, maxSpacingMs: 2000, settleMs: 1000 },
      );
      // A Deployment of the namespace arrives every 100 ms for 8 s: each run takes all that came since the last.
      for (let t = 0; t < 8000; t += 100) {
        q.enqueue("burst");
        await jest.advanceTimersByTimeAsync(100);
      }
      await jest.advanceTimersByTimeAsync(2000);
      await q.idle();
      // The last run takes the events after 7750 ms once the burst has been over for 1 s, not at 9750.
      expect(starts).toEqual([0, 250, 750, 1750, 3750, 5750, 7750, 8900]);
      // A quiet spell of more than twice the limit: the next event is served at once, and the one after 250 ms later.
      await jest.advanceTimersByTimeAsync(5000);
      q.enqueue("burst");
      await jest.advanceTimersByTimeAsync(10);
      q.enqueue("burst");
      await jest.advanceTimersByTimeAsync(300);
      expect(starts.slice(8)).toEqual([15000, 15250]);
    } finally {
      jest.useRealTimers();
    }
  });
});
