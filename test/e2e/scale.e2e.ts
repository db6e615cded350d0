// The watcher reconciles from its watches' copies (capabilities/reconcile/cached-api.ts) and
// watches only labelled Deployments (issue #14). What must still hold on a real API server: a
// Deployment that loses its kind label (which the label-selected watch reports as DELETED) has
// its companions pruned; an object deleted behind the module's back comes back; a watcher that
// restarts in the middle of changes converges again and deletes nothing that is still wanted; a
// namespace in step costs no write; a burst of Deployments into one namespace gets every route
// with a few writes of its VirtualService, not one per Deployment (NamespaceQueue's spacing); apps
// deleted one after another stay gone (no stale copy makes their companions again).
import { readFileSync } from "node:fs";
import {
  type Obj,
  applyYaml,
  auditMark,
  controllerRunning,
  delay,
  deleteNamespaces,
  expectModuleAlive,
  freshNamespace,
  getObject,
  kubectlOk,
  listObjects,
  mlserver,
  setClusterConfig,
  startModule,
  state,
  waitFor,
  writesBy,
  E2E_RESYNC_SECONDS,
  KIND_LABEL,
  RESYNC_ENV,
  TYPE_OF,
} from "./harness";

jest.setTimeout(300_000);

const NS = "scale-a";
const OTHER = "scale-b";
const BURST = "scale-burst";
const MANAGED = "app.kubernetes.io/managed-by=ai-workloads";
const CONVERGE = { timeoutMs: 120_000, intervalMs: 500 };
const ROUTING = { "ai-workloads.io/host": "scale.example.com", "ai-workloads.io/gateway": "istio-system/gw" };

const user = (): string => state().serviceAccount.user;
const app = (namespace: string, name: string, annotations: Record<string, string> = {}): Obj => {
  const d = mlserver(namespace, name, annotations);
  (d.spec as { replicas?: number }).replicas = 0;
  return d;
};
/** `Kind/name` of the module's objects in a namespace. */
const managedIn = async (namespace: string): Promise<string[]> => {
  const found: string[] = [];
  for (const kind of ["Service", "HorizontalPodAutoscaler", "VirtualService"])
    for (const o of await listObjects(TYPE_OF[kind], namespace, MANAGED)) found.push(`${kind}/${o.metadata.name}`);
  return found.sort();
};
/** The Services the VirtualService routes to. */
const routed = async (namespace: string): Promise<string[]> => {
  const vs = await getObject<{ spec: { http: { route: { destination: { host: string } }[] }[] } }>(
    TYPE_OF.VirtualService,
    "ai-workloads",
    namespace,
  );
  return (vs?.spec.http ?? []).flatMap(h => h.route.map(r => r.destination.host.split(".")[0])).sort();
};
/** What the module owns for these exposed apps with autoscaling on (mlserver's default). */
const wanted = (apps: string[]): string[] =>
  [
    ...apps.flatMap(a => [`HorizontalPodAutoscaler/${a}`, `Service/${a}`]),
    ...(apps.length > 0 ? ["VirtualService/ai-workloads"] : []),
  ].sort();

async function converged(namespace: string, apps: string[]): Promise<void> {
  await waitFor(
    `${namespace} to hold the objects of ${apps.join(", ") || "no app"}`,
    async () =>
      JSON.stringify(await managedIn(namespace)) === JSON.stringify(wanted(apps)) &&
      JSON.stringify(await routed(namespace)) === JSON.stringify([...new Set(apps)].sort()),
    CONVERGE,
  );
}

/** Waits until the module has made no write for `ms`. */
async function quiet(ms = 6_000): Promise<void> {
  let last = auditMark();
  let since = Date.now();
  await waitFor(
    "the module to go quiet",
    () => {
      const now = auditMark();
      if (writesBy(user(), last).some(e => e.objectRef?.resource !== "events")) since = Date.now();
      last = now;
      return Date.now() - since > ms;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

/** The module's deletions since a mark, as `resource/name`. */
const deletionsSince = (mark: number): string[] =>
  writesBy(user(), mark)
    .filter(e => e.verb === "delete")
    .map(e => `${e.objectRef?.resource}/${e.objectRef?.name}`)
    .sort();

/** Stops the watcher process only (admission keeps serving, so labelled Deployments can still be written). */
async function stopWatcher(): Promise<void> {
  const watcher = state().controllers.find(c => c.role === "watcher")!;
  const pid = Number(readFileSync(watcher.pidFile, "utf8").trim());
  process.kill(-pid, "SIGTERM");
  await waitFor("the watcher to exit", () => !controllerRunning(watcher), { timeoutMs: 20_000, intervalMs: 100 });
}

describe("reconcile from the watches' copies", () => {
  beforeAll(async () => {
    await setClusterConfig("");
    await freshNamespace(NS, ROUTING);
    await freshNamespace(OTHER, ROUTING);
    await freshNamespace(BURST, ROUTING);
  });

  afterAll(async () => {
    const watcher = state().controllers.find(c => c.role === "watcher")!;
    if (!controllerRunning(watcher)) await startModule();
    await deleteNamespaces([NS, OTHER, BURST]);
  });

  afterEach(() => expectModuleAlive());

  it("creates the companions, and a pass over a namespace in step writes nothing", async () => {
    await applyYaml([app(NS, "a"), app(NS, "b"), app(NS, "c"), app(OTHER, "x")]);
    await converged(NS, ["a", "b", "c"]);
    await converged(OTHER, ["x"]);
    await quiet();
    const mark = auditMark();
    // An unrelated annotation on the Namespace enqueues it: the pass finds everything in step.
    await kubectlOk(["annotate", "namespace", NS, `scale.example.com/touch=${Date.now()}`, "--overwrite"]);
    await delay(3_000);
    await quiet();
    expect(writesBy(user(), mark).filter(e => e.objectRef?.resource !== "events")).toEqual([]);
  });

  it("prunes the companions of a Deployment whose kind label is removed, and keeps the Deployment", async () => {
    const mark = auditMark();
    await kubectlOk(["label", "deployment", "c", "-n", NS, `${KIND_LABEL}-`]);
    await converged(NS, ["a", "b"]);
    expect(await getObject("deployment", "c", NS)).toBeDefined();
    expect(deletionsSince(mark)).toEqual(["horizontalpodautoscalers/c", "services/c"]);
  });

  it("restores an object deleted behind the module's back", async () => {
    const before = await getObject<Obj>(TYPE_OF.Service, "a", NS);
    await kubectlOk(["delete", TYPE_OF.Service, "a", "-n", NS]);
    await converged(NS, ["a", "b"]);
    const after = await getObject<Obj>(TYPE_OF.Service, "a", NS);
    expect(after?.metadata.uid).not.toBe(before?.metadata.uid);
  });

  it("a watcher restarted in the middle of changes converges again and deletes only what is no longer wanted", async () => {
    const mark = auditMark();
    await stopWatcher();
    // While it is down: a label removed, a new app, an object deleted behind its back, an edited route.
    await kubectlOk(["label", "deployment", "b", "-n", NS, `${KIND_LABEL}-`]);
    await applyYaml([app(NS, "d"), app(OTHER, "y")]);
    await kubectlOk(["delete", TYPE_OF.Service, "x", "-n", OTHER]);
    await kubectlOk(["annotate", "deployment", "a", "-n", NS, "ai-workloads.io/autoscale=off", "--overwrite"]);
    await startModule();
    // Changes while it lists again.
    await kubectlOk(["label", "deployment", "c", "-n", NS, `${KIND_LABEL}=mlserver`]);
    await applyYaml([app(NS, "e")]);
    await waitFor(
      "the new state",
      async () =>
        JSON.stringify(await managedIn(NS)) ===
          JSON.stringify(
            [
              "HorizontalPodAutoscaler/c",
              "HorizontalPodAutoscaler/d",
              "HorizontalPodAutoscaler/e",
              "Service/a",
              "Service/c",
              "Service/d",
              "Service/e",
              "VirtualService/ai-workloads",
            ].sort(),
          ) && JSON.stringify(await routed(NS)) === JSON.stringify(["a", "c", "d", "e"]),
      CONVERGE,
    );
    await converged(OTHER, ["x", "y"]);
    await quiet();
    // Deleted: b's objects (label gone) and a's HPA (autoscale off); nothing still wanted.
    expect(deletionsSince(mark)).toEqual(["horizontalpodautoscalers/a", "horizontalpodautoscalers/b", "services/b"]);
  });

  it("the restarted watcher, in step, writes nothing on a pass", async () => {
    const mark = auditMark();
    await kubectlOk(["annotate", "namespace", NS, `scale.example.com/touch=${Date.now()}`, "--overwrite"]);
    await kubectlOk(["annotate", "namespace", OTHER, `scale.example.com/touch=${Date.now()}`, "--overwrite"]);
    await delay(3_000);
    await quiet();
    expect(writesBy(user(), mark).filter(e => e.objectRef?.resource !== "events")).toEqual([]);
  });

  it("a burst of 20 Deployments into one namespace gets every route, with a few writes of its VirtualService", async () => {
    const apps = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    const mark = auditMark();
    // One kubectl apply each, as a pipeline applying app after app would: a pass can run between any two.
    for (const a of apps) await applyYaml([app(BURST, a)]);
    await converged(BURST, apps);
    await quiet();
    const vsWrites = writesBy(user(), mark).filter(e => e.objectRef?.resource === "virtualservices");
    // Back-to-back passes rewrite it for nearly every Deployment; spaced ones (0.25 s doubling to 4 s) a handful of times.
    process.stdout.write(`burst: ${vsWrites.length} VirtualService writes for ${apps.length} Deployments\n`);
    expect(vsWrites.length).toBeGreaterThan(0);
    expect(vsWrites.length).toBeLessThanOrEqual(10);
  });

  it("apps deleted while their namespace's passes run lose their companions for good: none is made again", async () => {
    const gone = Array.from({ length: 10 }, (_, i) => `burst-${2 * i + 1}`);
    const kept = Array.from({ length: 10 }, (_, i) => `burst-${2 * i}`);
    const mark = auditMark();
    // One kubectl delete each: passes run between them, reading the API server to confirm their prunes.
    for (const a of gone) await kubectlOk(["delete", "deployment", a, "-n", BURST]);
    await converged(BURST, kept);
    await quiet();
    // Two resyncs later, still nothing of theirs has been written again (a stale copy would make their Service and HPA anew).
    const later = auditMark();
    const resyncSeconds = Number(state().controllers.find(c => c.role === "watcher")!.env[RESYNC_ENV] ?? E2E_RESYNC_SECONDS);
    await delay(2 * resyncSeconds * 1000);
    await quiet();
    const madeAgain = (since: number): string[] =>
      writesBy(user(), since)
        .filter(e => e.verb !== "delete" && e.objectRef?.resource !== "events" && gone.includes(e.objectRef?.name ?? ""))
        .map(e => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`);
    expect(madeAgain(later)).toEqual([]);
    expect(madeAgain(mark)).toEqual([]);
    await converged(BURST, kept);
  });
});
