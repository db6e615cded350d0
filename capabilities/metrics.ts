// The module's metrics (SPEC §14.3), through Pepr's metricsCollector: every controller serves
// them on its HTTPS port (:3000) at /metrics, next to Pepr's own, and Pepr prefixes each name
// with `pepr_`. The reconciler runs in the watcher, admission in the admission controllers: each
// process moves only its own metrics, and shows the others at 0. Recording never throws: a
// metric must not fail a reconcile pass or an admission.
import { metricsCollector } from "pepr";
import type { MetricsSink, ReconcileCounter, ReconcileGauge } from "./reconcile/reconciler";

type Metric = { name: string; type: "counter" | "gauge"; help: string };

/** Every metric of the module; the README's "Metrics" section explains each (the names there carry the `pepr_` prefix). */
export const METRICS = {
  passes: {
    name: "ai_workloads_reconcile_passes_total",
    type: "counter",
    help: "Reconcile passes over a namespace, finished or failed",
  },
  failures: {
    name: "ai_workloads_reconcile_failures_total",
    type: "counter",
    help: "Reconcile passes that failed: the pass threw, or the API server refused one of its writes; each is retried with backoff",
  },
  writes: {
    name: "ai_workloads_companion_writes_total",
    type: "counter",
    help: "Companion writes that went through: server-side applies and deletes (Events not counted)",
  },
  driftRepairs: {
    name: "ai_workloads_drift_repairs_total",
    type: "counter",
    help: "Applies of exactly what was applied before to that object: someone edited or deleted a generated object and it was put back",
  },
  conflicts: {
    name: "ai_workloads_companion_conflicts",
    type: "gauge",
    help: "Wanted companions left alone because an object of that name exists that ai-workloads did not create (CompanionConflict)",
  },
  queueDepth: {
    name: "ai_workloads_queue_depth",
    type: "gauge",
    help: "Namespaces waiting for a reconcile pass: queued, or waiting out a backoff delay",
  },
  managedWorkloads: {
    name: "ai_workloads_managed_workloads",
    type: "gauge",
    help: "Labelled Deployments that resolved in the last pass over their namespace",
  },
  configErrors: {
    name: "ai_workloads_config_errors",
    type: "gauge",
    help: "Config problems reported as ConfigError: no valid cluster config (1), Namespaces with malformed annotations, Deployments that do not resolve",
  },
  admissionDenials: {
    name: "ai_workloads_admission_denials_total",
    type: "counter",
    help: "Admission requests (Deployments, Namespaces, the config ConfigMap) the module denied",
  },
  admissionWarnings: {
    name: "ai_workloads_admission_warnings_total",
    type: "counter",
    help: "Admission requests answered with at least one warning, denied or not",
  },
} as const satisfies Record<string, Metric>;

/** What Pepr's collector offers; a stand-in in unit tests. */
type Collector = Pick<typeof metricsCollector, "addCounter" | "addGauge" | "incCounter" | "incGauge">;

const safely = (record: () => void): void => {
  try {
    record();
  } catch {
    // A metric is a report, not state.
  }
};

/** Registers every metric once (Pepr ignores a second registration of a name), so each shows 0 from the start. */
export function registerMetrics(collector: Collector = metricsCollector): void {
  safely(() => {
    for (const m of Object.values(METRICS) as Metric[]) {
      if (m.type === "counter") collector.addCounter(m.name, m.help);
      else collector.addGauge(m.name, m.help, []);
    }
  });
}

/**
 * The reconciler's metrics on Pepr's collector. Pepr's gauges can only be moved by a delta, so
 * the last value per scope (a namespace, or "" for the cluster) is kept here and the difference added.
 */
export function peprMetricsSink(collector: Collector = metricsCollector): MetricsSink {
  const last = new Map<ReconcileGauge, Map<string, number>>();
  return {
    count(counter: ReconcileCounter, by: number): void {
      // Pepr's counters only go up by one.
      safely(() => {
        for (let i = 0; i < by; i++) collector.incCounter(METRICS[counter].name);
      });
    },
    gauge(gauge: ReconcileGauge, scope: string, value: number): void {
      safely(() => {
        const values = last.get(gauge) ?? new Map<string, number>();
        last.set(gauge, values);
        const delta = value - (values.get(scope) ?? 0);
        if (value === 0) values.delete(scope);
        else values.set(scope, value);
        if (delta !== 0) collector.incGauge(METRICS[gauge].name, {}, delta);
      });
    },
  };
}

/** Counts one Validate answer (a denial, and/or one with warnings) and returns it. */
export function countAdmission<T extends { allowed: boolean; warnings?: string[] }>(answer: T, collector: Collector = metricsCollector): T {
  safely(() => {
    if (!answer.allowed) collector.incCounter(METRICS.admissionDenials.name);
    if ((answer.warnings?.length ?? 0) > 0) collector.incCounter(METRICS.admissionWarnings.name);
  });
  return answer;
}

registerMetrics();
