// The admission benchmark, which needs the test control plane and the module served for real
// (hack/e2e/run.mjs up): the module's controller against the floor modules. The reconcile and
// memory benchmarks are in scale.ts.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { APPLIED_DEFAULTS_ANNOTATION } from "../../capabilities/core/constants";
import { render } from "../../capabilities/core/plan";
import { LISTEN_SHIM, applyYaml, controllerEnv, state, waitFor } from "../../test/e2e/harness";
import { seedObjects } from "./workloads";

const REPO = process.cwd();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** A realistic labelled Deployment (3–8 KB): the seed's runtime-openai as kubectl would send it. */
export function admissionBody(operation: "CREATE", uid: string): { body: string; objectBytes: number } {
  const d = structuredClone(seedObjects().find(o => o.kind === "Deployment" && o.metadata?.name === "runtime-openai")!);
  const container = (d.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0];
  container.env = Array.from({ length: 12 }, (_, i) => ({ name: `MLSERVER_MODEL_SETTING_${i}`, value: `value-${i}-${"x".repeat(40)}` }));
  container.resources = { limits: { memory: "4Gi" } };
  d.metadata!.labels = {
    ...d.metadata!.labels,
    "app.kubernetes.io/part-of": "assistant",
    "team.example.com/owner": "ml-platform",
    "team.example.com/cost-center": "cc-4711",
  };
  // kubectl apply records what it sent: a realistic share of a stored Deployment's size.
  d.metadata!.annotations = { ...d.metadata!.annotations, "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(d) };
  const object = JSON.stringify(d);
  const review = {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "apps", version: "v1", kind: "Deployment" },
      resource: { group: "apps", version: "v1", resource: "deployments" },
      requestKind: { group: "apps", version: "v1", kind: "Deployment" },
      requestResource: { group: "apps", version: "v1", resource: "deployments" },
      name: d.metadata!.name,
      namespace: "ai",
      operation,
      userInfo: { username: "bench", groups: ["system:authenticated"] },
      object: d,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
  return { body: JSON.stringify(review), objectBytes: Buffer.byteLength(object) };
}

/** Starts an admission controller process from a module file on a free port (as the harness does). */
async function startAdmission(moduleFile: string, port: number, logFile: string): Promise<() => void> {
  const s = state();
  const admission = s.controllers.find(c => c.role === "admission")!;
  // The module's own admission controller's env, log level included: only the bindings differ.
  const env = { ...controllerEnv(s, { ...admission, port }), AI_WORKLOADS_BENCH_MUTATION: process.env.AI_WORKLOADS_BENCH_MUTATION ?? "" };
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, ["--require", LISTEN_SHIM, moduleFile], {
    cwd: join(moduleFile, ".."),
    env,
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  const stop = (): void => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // gone
    }
  };
  await waitFor(`controller on ${port}`, () => healthz(port), { timeoutMs: 60_000, intervalMs: 200 });
  return stop;
}

async function healthz(port: number): Promise<boolean> {
  const p = spawnSync("curl", ["-fsS", "--cacert", state().tls.ca, `https://127.0.0.1:${port}/healthz`], { encoding: "utf8" });
  return p.status === 0;
}

function load(urls: string[], bodyFile: string, concurrency: number, seconds: number): LoadResult {
  const p = spawnSync(
    process.execPath,
    [join(REPO, "hack", "bench", "load.mjs"), urls.join(","), bodyFile, state().tls.ca, String(concurrency), String(seconds)],
    { encoding: "utf8" },
  );
  if (p.status !== 0) throw new Error(`load generator failed: ${p.stderr}`);
  return JSON.parse(p.stdout) as LoadResult;
}

const peakRssMiB = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
};

/** The module's mutation of the benchmark's Deployment, made by the core: what floor-patch returns. */
export function mutationJson(): string {
  const review = JSON.parse(admissionBody("CREATE", "spec").body);
  const ns = seedObjects().find(o => o.kind === "Namespace")!;
  const { objects } = render([ns, review.request.object], { defaultNamespace: "ai" });
  const mutated = objects.find(o => o.kind === "Deployment")!;
  const record = mutated.metadata?.annotations?.[APPLIED_DEFAULTS_ANNOTATION];
  if (record === undefined) throw new Error("the benchmark's Deployment got no applied-defaults record");
  return JSON.stringify({ spec: mutated.spec, annotations: { [APPLIED_DEFAULTS_ANNOTATION]: record } });
}

export interface AdmissionBench {
  module: LoadResult;
  floor: LoadResult;
  floorPatch: LoadResult;
  objectBytes: number;
  rounds: number;
  concurrency: number;
  /** Processes per variant, and each process's requests/s over the rounds (module, floor, floor-patch). */
  processes: number;
  perProcessRps: { module: number[]; floor: number[]; floorPatch: number[] };
  floorPeakRssMiB: number;
}

/** Processes per variant: two processes of one build settle at steady rates up to 20 % apart. */
const PROCESSES = 3;

type Variant = "module" | "floor" | "floorPatch";
/** One admission controller process of a variant, and what each of its loads measured. */
interface Served {
  port: number;
  results: LoadResult[];
}

/**
 * The module's admission controller against the floor modules with identical bodies; each
 * request is a mutate and then a validate of the same Deployment. Each variant is served by
 * PROCESSES fresh processes started alike (the module's own bundle, as the harness serves it),
 * each warmed up alone, then loaded in turn, round after round, so that neither one process's
 * luck (the JIT, the heap layout) nor a slow minute of the machine decides a ratio.
 */
export async function benchAdmission(floorModuleFile: string, floorPatchModuleFile: string, workDir: string): Promise<AdmissionBench> {
  const s = state();
  const ns = seedObjects().find(o => o.kind === "Namespace")!;
  await applyYaml([ns]);
  const { body, objectBytes } = admissionBody("CREATE", "00000000-0000-0000-0000-000000000001");
  const bodyFile = join(workDir, "admission-review.json");
  writeFileSync(bodyFile, body);
  const files: Record<Variant, string> = { module: s.moduleFile, floor: floorModuleFile, floorPatch: floorPatchModuleFile };
  const variants = Object.keys(files) as Variant[];
  const served: Record<Variant, Served[]> = { module: [], floor: [], floorPatch: [] };
  // Every process in the order started: warm-up and rounds go through it, so variants alternate.
  const all: Served[] = [];
  const stops: (() => void)[] = [];
  const urls = (port: number): string[] => [
    `https://127.0.0.1:${port}/mutate/${s.apiPath}`,
    `https://127.0.0.1:${port}/validate/${s.apiPath}`,
  ];
  const concurrency = 8;
  const rounds = 3;
  const seconds = 5;
  try {
    for (let p = 0; p < PROCESSES; p++)
      for (const variant of variants) {
        const port = await freePort();
        stops.push(await startAdmission(files[variant], port, join(workDir, `${variant}-${p}.log`)));
        const server: Served = { port, results: [] };
        served[variant].push(server);
        all.push(server);
      }
    // A fresh process is slower for its first ten thousand requests or so (the JIT, the heap's growth).
    for (const server of all) load(urls(server.port), bodyFile, concurrency, 10);
    for (let r = 0; r < rounds; r++) for (const server of all) server.results.push(load(urls(server.port), bodyFile, concurrency, seconds));
    const floorPid = Number(spawnSync("pgrep", ["-f", floorModuleFile], { encoding: "utf8" }).stdout.trim().split("\n")[0]);
    const floorPeakRssMiB = floorPid ? peakRssMiB(floorPid) : NaN;
    const total = (v: Variant): LoadResult => combine(served[v].flatMap(x => x.results));
    const perProcess = (v: Variant): number[] => served[v].map(x => combine(x.results).rps);
    return {
      module: total("module"),
      floor: total("floor"),
      floorPatch: total("floorPatch"),
      objectBytes,
      rounds,
      concurrency,
      processes: PROCESSES,
      perProcessRps: { module: perProcess("module"), floor: perProcess("floor"), floorPatch: perProcess("floorPatch") },
      floorPeakRssMiB,
    };
  } finally {
    stops.forEach(stop => stop());
  }
}

function combine(results: LoadResult[]): LoadResult {
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const seconds = results.reduce((n, r) => n + r.seconds, 0);
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50Ms: median(results.map(r => r.p50Ms)),
    p99Ms: median(results.map(r => r.p99Ms)),
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise(resolve => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
