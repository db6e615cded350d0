// Issue #14's benchmarks on the test control plane: convergence against writing the same objects
// directly, API reads per resync pass, and the watcher's memory against the cluster's size.
// Sizes come from the environment so that a development run can be small:
//   AI_WORKLOADS_BENCH_APPS       managed Deployments of the convergence run (default 1000; half of it is the memory slope's lower end)
//   AI_WORKLOADS_BENCH_NAMESPACES namespaces they are spread over (default 20)
//   AI_WORKLOADS_BENCH_APPS_HIGH  managed Deployments of the memory slope's upper end (default 2000)
//   AI_WORKLOADS_BENCH_UNMANAGED  unlabelled Deployments beside them (default 10000)
//   AI_WORKLOADS_BENCH_PERIOD     seconds of the watcher's relist and resync periods for the memory runs (default 60)
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import { render } from "../../capabilities/core/plan";
import type { KubeObject } from "../../capabilities/core/types";
import {
  RESYNC_ENV,
  auditMark,
  controllerRunning,
  delay,
  getObject,
  kubectlOk,
  startModule,
  state,
  waitFor,
  writesBy,
} from "../../test/e2e/harness";

const REPO = process.cwd();
// AI_WORKLOADS_BENCH_DIR lets two benchmark runs (each its own control plane) share a checkout.
const DIR = process.env.AI_WORKLOADS_BENCH_DIR ?? join(REPO, ".tmp", "bench");
const MANAGED = "app.kubernetes.io/managed-by=ai-workloads";
const ROUTING = { "ai-workloads.io/host": "bench.example.com", "ai-workloads.io/gateway": "istio-system/gw" };
// The direct apply's namespaces get a host of their own: the one after the module's run would
// otherwise ask for the module's apps' paths on their host, which admission denies (SPEC §12.6).
const DIRECT_ROUTING = { ...ROUTING, "ai-workloads.io/host": "direct.bench.example.com" };
const envInt = (name: string, fallback: number): number => {
  const n = Number.parseInt(process.env[name] ?? "", 10);
  return Number.isInteger(n) && n > 0 ? n : fallback;
};

export const SIZES = {
  apps: envInt("AI_WORKLOADS_BENCH_APPS", 1000),
  namespaces: envInt("AI_WORKLOADS_BENCH_NAMESPACES", 20),
  appsHigh: envInt("AI_WORKLOADS_BENCH_APPS_HIGH", 2000),
  unmanaged: envInt("AI_WORKLOADS_BENCH_UNMANAGED", 10000),
  periodSeconds: envInt("AI_WORKLOADS_BENCH_PERIOD", 60),
};

const namespaceObject = (name: string, annotations: Record<string, string> = ROUTING): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, annotations },
});

/** A managed mlserver Deployment with replicas 0 (no Pods on a control plane without nodes). */
function managedDeployment(namespace: string, name: string): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace,
      labels: { "ai-workloads.io/kind": "mlserver" },
      annotations: { "ai-workloads.io/autoscale": "1-3" },
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "mlserver", image: "docker.io/seldonio/mlserver:1.6.1" }] },
      },
    },
  };
}

/** `count` managed Deployments, numbered from `from`, spread over the namespaces `<prefix>-<i>`. */
function managedSet(prefix: string, namespaces: number, from: number, count: number): KubeObject[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return managedDeployment(`${prefix}-${i % namespaces}`, `model-${i}`);
  });
}

function writeYaml(name: string, objects: readonly KubeObject[]): string {
  mkdirSync(DIR, { recursive: true });
  const file = join(DIR, name);
  writeFileSync(file, objects.map(o => `---\n${stringify(o)}`).join(""));
  return file;
}

const apply = (file: string): Promise<string> =>
  kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", file], { timeoutMs: 60 * 60_000 });

/** Per namespace: how many of the module's Services and HPAs there are, and how many routes its VirtualService has. */
async function companionCounts(): Promise<Map<string, { services: number; hpas: number; routes: number }>> {
  const counts = new Map<string, { services: number; hpas: number; routes: number }>();
  const entry = (ns: string) => counts.get(ns) ?? counts.set(ns, { services: 0, hpas: 0, routes: 0 }).get(ns)!;
  const column = async (type: string): Promise<string[]> =>
    (
      await kubectlOk(["get", type, "-A", "-l", MANAGED, "-o", "custom-columns=NS:.metadata.namespace", "--no-headers"], {
        timeoutMs: 120_000,
      })
    )
      .split("\n")
      .filter(l => l.trim() !== "");
  for (const ns of await column("services")) entry(ns.trim()).services++;
  for (const ns of await column("horizontalpodautoscalers.autoscaling")) entry(ns.trim()).hpas++;
  const vs = JSON.parse(await kubectlOk(["get", "virtualservices.networking.istio.io", "-A", "-l", MANAGED, "-o", "json"])) as {
    items: { metadata: { namespace: string }; spec: { http?: unknown[] } }[];
  };
  for (const v of vs.items) entry(v.metadata.namespace).routes += v.spec.http?.length ?? 0;
  return counts;
}

/** Until every Deployment of `set` has its Service, HPA and route (`exactly`: and no more are left, within 10 minutes). */
async function waitForCompanions(set: readonly KubeObject[], { exactly = false } = {}): Promise<void> {
  const want = new Map<string, number>();
  for (const d of set) want.set(d.metadata!.namespace!, (want.get(d.metadata!.namespace!) ?? 0) + 1);
  await waitFor(
    "every companion",
    async () => {
      const have = await companionCounts();
      return [...want].every(([ns, n]) => {
        const c = have.get(ns);
        if (c === undefined) return false;
        return exactly ? c.services === n && c.hpas === n && c.routes === n : c.services >= n && c.hpas >= n && c.routes >= n;
      });
    },
    { timeoutMs: exactly ? 10 * 60_000 : 60 * 60_000, intervalMs: 1000 },
  );
}

const watcher = () => state().controllers.find(c => c.role === "watcher")!;
const pidOf = (role: string): number => Number(readFileSync(state().controllers.find(c => c.role === role)!.pidFile, "utf8").trim());

async function stopWatcher(): Promise<void> {
  const w = watcher();
  if (!controllerRunning(w)) return;
  process.kill(-pidOf("watcher"), "SIGTERM");
  await waitFor("the watcher to exit", () => !controllerRunning(w), { timeoutMs: 30_000, intervalMs: 100 });
}

/** Restarts the watcher with these environment variables added (a fresh process: its peak RSS starts over). */
async function restartWatcher(env: Record<string, string>): Promise<void> {
  await stopWatcher();
  Object.assign(watcher().env, env);
  await startModule({ timeoutMs: 300_000 });
}

const memoryMiB = (pid: number): { peak: number; now: number } => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { peak: kb("VmHWM") / 1024, now: kb("VmRSS") / 1024 };
};

/** Waits until the module has made no companion write for 3 s. */
export async function settle(): Promise<void> {
  const user = state().serviceAccount.user;
  let last = auditMark();
  let quietSince = Date.now();
  await waitFor(
    "the module to go quiet",
    () => {
      const now = auditMark();
      if (writesBy(user, last).some(e => e.objectRef?.resource !== "events")) quietSince = Date.now();
      last = now;
      return Date.now() - quietSince > 3000;
    },
    { timeoutMs: 60 * 60_000, intervalMs: 500 },
  );
}

/** CPU seconds (user + system) over a stretch of the run: per process of the control plane and the module, and the machine's. */
export interface CpuSplit {
  processes: Record<string, number>;
  machine: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux
const CONTROL_PLANE = ["kube-apiserver", "etcd", "kube-controller-manager", "istio-validation"];

function cpuTicksNow(): { processes: Record<string, number>; machine: number } {
  const processes: Record<string, number> = {};
  const pids: [string, number][] = [
    ...CONTROL_PLANE.map((name): [string, number] => [name, Number(readFileSync(join(state().cpRun, `${name}.pid`), "utf8").trim())]),
    ["admission", pidOf("admission")],
  ];
  if (controllerRunning(watcher())) pids.push(["watcher", pidOf("watcher")]);
  for (const [name, pid] of pids) {
    // Fields 14 and 15 of /proc/<pid>/stat, counted after the command's closing parenthesis.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    processes[name] = Number(fields[11]) + Number(fields[12]);
  }
  // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].split(/\s+/).slice(1, 9).map(Number);
  const machine = cpu.reduce((a, b) => a + b, 0) - cpu[3] - cpu[4];
  return { processes, machine };
}

/** CPU used by each process and by the whole machine while `work` runs. */
async function cpuOf(work: () => Promise<void>): Promise<CpuSplit> {
  const before = cpuTicksNow();
  await work();
  const after = cpuTicksNow();
  const processes: Record<string, number> = {};
  for (const name of Object.keys(after.processes))
    if (before.processes[name] !== undefined) processes[name] = (after.processes[name] - before.processes[name]) / CLOCK_TICKS;
  return { processes, machine: (after.machine - before.machine) / CLOCK_TICKS };
}

export interface ConvergeBench {
  apps: number;
  namespaces: number;
  moduleSeconds: number;
  /** Of moduleSeconds, until `kubectl apply` of the Deployments returned (admission included). */
  storedSeconds: number;
  /** The mean of the direct applies before and after the module's run. */
  directSeconds: number;
  directRuns: { seconds: number; cpu: CpuSplit }[];
  companions: number;
  moduleCpu: CpuSplit;
  /** The watcher's writes until convergence, by resource (audit log). */
  moduleWrites: Record<string, number>;
}

/**
 * The time from `kubectl apply --server-side` of N managed Deployments until every companion
 * exists, against the same apply of `ai-workloads render`'s output for the same input (the
 * Deployments with their defaults and every companion) into namespaces of their own. The direct
 * apply runs before and after the module's run and the ratio takes their mean: this machine's
 * speed drifts within minutes by more than the goal's margin, and a drift then weighs on both
 * sides alike. The watcher is stopped for each direct apply, so that it pays nothing of the
 * module's work, and those namespaces are deleted after it.
 */
export async function benchConverge(): Promise<ConvergeBench> {
  const { apps, namespaces } = SIZES;
  const ns = (prefix: string, routing = ROUTING) =>
    Array.from({ length: namespaces }, (_, i) => namespaceObject(`${prefix}-${i}`, routing));

  const directNs = ns("bench-direct", DIRECT_ROUTING);
  const directInput = managedSet("bench-direct", namespaces, 0, apps);
  const rendered = render([...directNs, ...directInput], { defaultNamespace: "default" }).objects.filter(o => o.kind !== "Namespace");
  const directNsFile = writeYaml("direct-namespaces.yaml", directNs);
  const directFile = writeYaml("direct.yaml", rendered);
  const direct = async (): Promise<{ seconds: number; cpu: CpuSplit }> => {
    await apply(directNsFile);
    await stopWatcher();
    const start = Date.now();
    const cpu = await cpuOf(async () => {
      await apply(directFile);
      await waitForCompanions(directInput);
    });
    const seconds = (Date.now() - start) / 1000;
    await kubectlOk(["delete", "namespace", ...directNs.map(n => n.metadata!.name!), "--wait=true"], { timeoutMs: 60 * 60_000 });
    await startModule({ timeoutMs: 300_000 });
    return { seconds, cpu };
  };

  const before = await direct();
  const moduleNs = ns("bench");
  const input = managedSet("bench", namespaces, 0, apps);
  await apply(writeYaml("namespaces.yaml", moduleNs));
  await settle();
  const file = writeYaml("deployments.yaml", input);
  const mark = auditMark();
  const start = Date.now();
  let storedSeconds = 0;
  const moduleCpu = await cpuOf(async () => {
    await apply(file);
    storedSeconds = (Date.now() - start) / 1000;
    await waitForCompanions(input);
  });
  const moduleSeconds = (Date.now() - start) / 1000;
  const moduleWrites: Record<string, number> = {};
  for (const e of writesBy(state().serviceAccount.user, mark)) {
    const resource = e.objectRef?.resource ?? "?";
    moduleWrites[resource] = (moduleWrites[resource] ?? 0) + 1;
  }
  await settle();
  const after = await direct();
  return {
    apps,
    namespaces,
    moduleSeconds,
    storedSeconds,
    directSeconds: (before.seconds + after.seconds) / 2,
    directRuns: [before, after],
    companions: rendered.length - apps,
    moduleCpu,
    moduleWrites,
  };
}

export interface WritesBench {
  changeCompanionWrites: number;
  changeEventWrites: number;
  resyncCompanionWrites: number;
  resyncEventWrites: number;
}

/** Companion writes for one annotation change (autoscale off removes one HPA) and for a pass over an unchanged namespace. */
export async function benchWrites(): Promise<WritesBench> {
  const user = state().serviceAccount.user;
  const app = `model-${7 % SIZES.apps}`;
  const namespace = `bench-${(7 % SIZES.apps) % SIZES.namespaces}`;
  await settle();
  let mark = auditMark();
  await kubectlOk(["annotate", "deployment", app, "-n", namespace, "ai-workloads.io/autoscale=off", "--overwrite"]);
  await waitFor("the HPA to go", async () => !(await getObject("horizontalpodautoscaler", app, namespace)), {
    timeoutMs: 120_000,
    intervalMs: 200,
  });
  await settle();
  const change = writesBy(user, mark);
  mark = auditMark();
  await kubectlOk(["annotate", "namespace", namespace, `bench.example.com/touch=${Date.now()}`, "--overwrite"]);
  await delay(5000);
  await settle();
  const resync = writesBy(user, mark);
  // Back as it was, so that the managed set is whole again for what follows.
  await kubectlOk(["annotate", "deployment", app, "-n", namespace, "ai-workloads.io/autoscale=1-3", "--overwrite"]);
  await waitFor("the HPA to return", async () => (await getObject("horizontalpodautoscaler", app, namespace)) !== undefined, {
    timeoutMs: 120_000,
    intervalMs: 200,
  });
  await settle();
  const isEvent = (e: { objectRef?: { resource?: string } }): boolean => e.objectRef?.resource === "events";
  return {
    changeCompanionWrites: change.filter(e => !isEvent(e)).length,
    changeEventWrites: change.filter(isEvent).length,
    resyncCompanionWrites: resync.filter(e => !isEvent(e)).length,
    resyncEventWrites: resync.filter(isEvent).length,
  };
}

/** The watcher's /metrics, one counter. */
function watcherCounter(name: string): number {
  const p = spawnSync("curl", ["-fsS", "--cacert", state().tls.ca, `https://127.0.0.1:${watcher().port}/metrics`], { encoding: "utf8" });
  if (p.status !== 0) throw new Error(`watcher /metrics: ${p.stderr}`);
  const line = p.stdout.split("\n").find(l => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

/** GET and LIST requests the API server has served for the kinds a pass reads (its /metrics). */
async function apiReads(): Promise<number> {
  const resources = new Set([
    "namespaces",
    "deployments",
    "services",
    "horizontalpodautoscalers",
    "virtualservices",
    "requestauthentications",
    "authorizationpolicies",
    "configmaps",
  ]);
  const text = await kubectlOk(["get", "--raw", "/metrics"], { timeoutMs: 120_000 });
  let total = 0;
  for (const line of text.split("\n")) {
    const m = /^apiserver_request_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map(l => [l[1], l[2]]));
    if ((labels.verb === "GET" || labels.verb === "LIST") && resources.has(labels.resource) && !labels.subresource) total += Number(m[2]);
  }
  return total;
}

export interface ReadsBench {
  reads: number;
  passes: number;
  writes: number;
  seconds: number;
}

/**
 * API reads of resync passes over namespaces in step, per namespace pass: the watcher's own
 * passes counter against the API server's request counters (the audit log of the test control
 * plane records writes only), over at least two resync periods with nothing else changing.
 */
export async function benchResyncReads(): Promise<ReadsBench> {
  const passesMetric = "pepr_ai_workloads_reconcile_passes_total";
  const period = Number(watcher().env[RESYNC_ENV] ?? "600");
  await settle();
  const user = state().serviceAccount.user;
  const mark = auditMark();
  const reads0 = await apiReads();
  const passes0 = watcherCounter(passesMetric);
  const start = Date.now();
  await delay((2 * period + 2) * 1000);
  const passes1 = watcherCounter(passesMetric);
  const reads1 = await apiReads();
  return {
    reads: reads1 - reads0,
    passes: passes1 - passes0,
    writes: writesBy(user, mark).filter(e => e.objectRef?.resource !== "events").length,
    seconds: (Date.now() - start) / 1000,
  };
}

/** Where the settled RSS is: V8's heap (its size, and what live and dead objects use of it) and the rest. */
export interface HeapSplit {
  heapMiB: number;
  heapUsedMiB: number;
  /** Buffers and other memory V8 accounts outside its heap. */
  externalMiB: number;
  /** V8's heap limit: what Node picked for the Pod's memory limit (test/e2e/node-heap.ts). */
  limitMiB: number;
}

export interface WatcherMemory {
  peakMiB: number;
  settledMiB: number;
  heap?: HeapSplit;
}

/** ConfigMaps of 900 KiB each beside the unlabelled Deployments in one memory measurement. */
const BULK_CONFIG_MAPS = 60;

export interface MemoryBench {
  periodSeconds: number;
  /** Peak RSS (MiB) of a fresh watcher over a relist and resync period. */
  managed: { apps: number } & WatcherMemory;
  withUnmanaged: { unmanaged: number } & WatcherMemory;
  /** As withUnmanaged, with large ConfigMaps the module has no use for in the same namespace (SPEC §13.1's watch sees them). */
  withConfigMaps: { configMaps: number; dataMiB: number } & WatcherMemory;
  /** The slope's ends (issue #14: 500 and 2,000 apps), the unlabelled Deployments beside both. */
  low: { apps: number } & WatcherMemory;
  high: { apps: number } & WatcherMemory;
  admissionPeakMiB: number;
}

const REPORTS = join(DIR, "reports");
// Node writes a diagnostic report on SIGUSR2: V8's own account of its heap, read without touching the module.
const REPORT_OPTIONS = `--report-on-signal --report-signal=SIGUSR2 --report-compact --report-directory=${REPORTS}`;

/** The process's V8 heap as its diagnostic report gives it; undefined when no report comes. */
async function heapSplit(pid: number): Promise<HeapSplit | undefined> {
  mkdirSync(REPORTS, { recursive: true });
  const before = new Set(readdirSync(REPORTS));
  const newReport = (): string | undefined => readdirSync(REPORTS).find(f => !before.has(f) && f.endsWith(".json"));
  process.kill(pid, "SIGUSR2");
  try {
    // Read once the file is whole: it parses.
    const heap = await waitFor(
      "the watcher's diagnostic report",
      () => {
        const file = newReport();
        if (file === undefined) throw new Error("no report yet");
        return (JSON.parse(readFileSync(join(REPORTS, file), "utf8")) as { javascriptHeap: Record<string, number> }).javascriptHeap;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const mib = (bytes: number): number => bytes / 2 ** 20;
    return {
      heapMiB: mib(heap.totalMemory),
      heapUsedMiB: mib(heap.usedMemory),
      externalMiB: mib(heap.externalMemory),
      limitMiB: mib(heap.memoryLimit),
    };
  } catch {
    return undefined;
  } finally {
    // The report lists the process's environment: kept no longer than it is read.
    const file = newReport();
    if (file) rmSync(join(REPORTS, file), { force: true });
  }
}

/** A fresh watcher with short relist and resync periods, its memory after one of each and a margin. */
async function watcherPeak(heapOptions: string): Promise<WatcherMemory> {
  const period = SIZES.periodSeconds;
  await restartWatcher({
    PEPR_RELIST_INTERVAL_SECONDS: String(period),
    [RESYNC_ENV]: String(period),
    NODE_OPTIONS: `${heapOptions} ${REPORT_OPTIONS}`.trim(),
  });
  await delay((period + 15) * 1000);
  await settle();
  const m = memoryMiB(pidOf("watcher"));
  return { peakMiB: m.peak, settledMiB: m.now, heap: await heapSplit(pidOf("watcher")) };
}

/**
 * The watcher's memory with the convergence run's managed set; with `unmanaged` unlabelled
 * Deployments beside it (replicas 0: the controller-manager makes no Pods); and with the managed
 * set grown to `appsHigh`. Each from a fresh process, over at least one relist and resync period.
 */
export async function benchWatcherMemory(): Promise<MemoryBench> {
  const { apps, appsHigh, unmanaged, namespaces, periodSeconds } = SIZES;
  const resync = watcher().env[RESYNC_ENV];
  // The heap Node picks under the watcher Pod's memory limit, as the harness starts it.
  const heapOptions = watcher().env.NODE_OPTIONS ?? "";
  const managed = { apps, ...(await watcherPeak(heapOptions)) };

  const ns = "bench-unmanaged";
  await apply(writeYaml("unmanaged-namespace.yaml", [namespaceObject(ns, {})]));
  const chunk = 2000;
  for (let from = 0; from < unmanaged; from += chunk) {
    const set = Array.from({ length: Math.min(chunk, unmanaged - from) }, (_, k) => {
      const d = managedDeployment(ns, `plain-${from + k}`);
      delete d.metadata!.labels;
      delete d.metadata!.annotations;
      return d;
    });
    await apply(writeYaml("unmanaged.yaml", set));
  }
  const withUnmanaged = { unmanaged, ...(await watcherPeak(heapOptions)) };

  // Large ConfigMaps of no AI workload (dashboards, bundles): the settings ConfigMap watch is
  // cluster-wide and sees them all. Taken away again before the next measurement.
  const bulkBytes = 900 * 1024;
  // One string for all of them: the bench process need not hold 60 copies.
  const dashboard = "x".repeat(bulkBytes);
  const bulk = Array.from({ length: BULK_CONFIG_MAPS }, (_, k) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `bulk-${k}`, namespace: ns },
    data: { "dashboard.json": dashboard },
  }));
  // Server-side: a client-side apply would copy each into an annotation, over its size limit.
  for (let from = 0; from < bulk.length; from += 10) await apply(writeYaml("bulk-configmaps.yaml", bulk.slice(from, from + 10)));
  const withConfigMaps = { configMaps: bulk.length, dataMiB: (bulk.length * bulkBytes) / 2 ** 20, ...(await watcherPeak(heapOptions)) };
  await kubectlOk(["delete", "configmap", "-n", ns, ...bulk.map(c => c.metadata.name)], { timeoutMs: 10 * 60_000 });

  // The low end: the second half of the managed set deleted (the watcher prunes their companions), then brought back.
  const lowApps = Math.floor(apps / 2);
  const upperHalf = managedSet("bench", namespaces, lowApps, apps - lowApps);
  for (let i = 0; i < namespaces; i++) {
    const names = upperHalf.filter(d => d.metadata!.namespace === `bench-${i}`).map(d => d.metadata!.name!);
    if (names.length > 0) await kubectlOk(["delete", "deployment", "-n", `bench-${i}`, ...names], { timeoutMs: 10 * 60_000 });
  }
  await waitForCompanions(managedSet("bench", namespaces, 0, lowApps), { exactly: true });
  await settle();
  const low = { apps: lowApps, ...(await watcherPeak(heapOptions)) };

  const more = managedSet("bench", namespaces, lowApps, Math.max(apps, appsHigh) - lowApps);
  await apply(writeYaml("deployments-high.yaml", more));
  await waitForCompanions(managedSet("bench", namespaces, 0, Math.max(apps, appsHigh)));
  const high = { apps: Math.max(apps, appsHigh), ...(await watcherPeak(heapOptions)) };
  // Back to the run's own resync period.
  await restartWatcher({ PEPR_RELIST_INTERVAL_SECONDS: "600", [RESYNC_ENV]: resync ?? "600", NODE_OPTIONS: heapOptions });
  return { periodSeconds, managed, withUnmanaged, withConfigMaps, low, high, admissionPeakMiB: memoryMiB(pidOf("admission")).peak };
}
