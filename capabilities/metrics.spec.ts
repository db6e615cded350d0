// capabilities/metrics.ts on a stand-in for Pepr's metricsCollector: what is registered, and how
// the reconciler's values become Pepr's counter increments and gauge deltas.
jest.mock("pepr", () => ({ metricsCollector: mockCollector() }));

import { METRICS, countAdmission, peprMetricsSink, registerMetrics } from "./metrics";

function mockCollector() {
  const values = new Map<string, number>();
  const registered: string[] = [];
  const add = (name: string, by: number): void => {
    if (!registered.includes(name)) throw new Error(`${name} is not registered`);
    values.set(name, (values.get(name) ?? 0) + by);
  };
  return {
    values,
    registered,
    addCounter: (name: string) => void registered.push(name),
    addGauge: (name: string) => void registered.push(name),
    incCounter: (name: string) => add(name, 1),
    incGauge: (name: string, _labels?: Record<string, string>, value = 1) => add(name, value),
  };
}

type Mock = ReturnType<typeof mockCollector>;

describe("metrics", () => {
  let collector: Mock;
  beforeEach(() => {
    collector = mockCollector();
    registerMetrics(collector);
  });
  const value = (m: { name: string }): number => collector.values.get(m.name) ?? 0;

  it("registers each metric under a name Pepr prefixes with pepr_, counters ending in _total", () => {
    expect(collector.registered).toEqual(Object.values(METRICS).map(m => m.name));
    for (const m of Object.values(METRICS)) {
      expect(m.name).toMatch(/^ai_workloads_[a-z_]+$/);
      expect(m.name.endsWith("_total")).toBe(m.type === "counter");
    }
  });

  it("adds counts to counters one by one", () => {
    const sink = peprMetricsSink(collector);
    sink.count("writes", 3);
    sink.count("writes", 0);
    sink.count("driftRepairs", 1);
    expect([value(METRICS.writes), value(METRICS.driftRepairs), value(METRICS.passes)]).toEqual([3, 1, 0]);
  });

  it("keeps each scope's last gauge value and moves the gauge by the difference", () => {
    const sink = peprMetricsSink(collector);
    sink.gauge("managedWorkloads", "a", 2);
    sink.gauge("managedWorkloads", "b", 3);
    expect(value(METRICS.managedWorkloads)).toBe(5);
    sink.gauge("managedWorkloads", "a", 2);
    expect(value(METRICS.managedWorkloads)).toBe(5);
    sink.gauge("managedWorkloads", "a", 1);
    sink.gauge("managedWorkloads", "b", 0);
    expect(value(METRICS.managedWorkloads)).toBe(1);
    sink.gauge("queueDepth", "", 4);
    sink.gauge("queueDepth", "", 0);
    expect([value(METRICS.queueDepth), value(METRICS.managedWorkloads)]).toEqual([0, 1]);
  });

  it("counts an admission answer as a denial and/or as one with warnings", () => {
    countAdmission({ allowed: true }, collector);
    countAdmission({ allowed: true, warnings: [] }, collector);
    countAdmission({ allowed: true, warnings: ["a", "b"] }, collector);
    countAdmission({ allowed: false }, collector);
    const denied = { allowed: false, warnings: ["c"] };
    expect(countAdmission(denied, collector)).toBe(denied);
    expect([value(METRICS.admissionDenials), value(METRICS.admissionWarnings)]).toEqual([2, 2]);
  });

  it("never throws: a metric must not fail a pass or an admission", () => {
    const broken = { ...collector, incCounter: () => raise(), incGauge: () => raise() };
    expect(() => peprMetricsSink(broken).count("passes", 1)).not.toThrow();
    expect(() => peprMetricsSink(broken).gauge("conflicts", "a", 1)).not.toThrow();
    expect(countAdmission({ allowed: false }, broken)).toEqual({ allowed: false });
  });
});

function raise(): never {
  throw new Error("registry gone");
}
