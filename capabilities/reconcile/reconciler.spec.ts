// The reconciler against an in-memory API server: what it writes, what it leaves alone,
// and that an unchanged namespace costs no write (SPEC §7).
import { parseAllDocuments } from "yaml";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { render } from "../core/plan";
import type { KubeObject } from "../core/types";
import { FakeCluster } from "./fake-cluster";
import { Reconciler } from "./reconciler";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const NOW = new Date("2026-11-27T12:00:00Z");

const seedDir = "examples/mlserver-openai-librechat";
const seedInput = (): KubeObject[] =>
  readdirSync(seedDir)
    .filter(f => f.endsWith(".yaml"))
    .sort()
    .flatMap(f => parseAllDocuments(readFileSync(join(seedDir, f), "utf8")).map(d => d.toJS() as KubeObject));

/** A cluster holding the seed example as admission stored it (defaults filled in). */
function seededCluster(): { cluster: FakeCluster; companions: KubeObject[] } {
  const cluster = new FakeCluster();
  const { objects } = render(seedInput(), { defaultNamespace: "default" });
  const stored = objects.filter(o => o.kind === "Namespace" || o.kind === "Deployment").map(o => cluster.put(o));
  const uid = new Map(stored.map(o => [o.metadata!.name, o.metadata!.uid]));
  const companions = objects
    .filter(o => o.kind !== "Namespace" && o.kind !== "Deployment")
    .map(o => {
      const app = o.metadata?.labels?.["ai-workloads.io/app"];
      if (!app) return o;
      const ownerReferences = [
        { apiVersion: "apps/v1", kind: "Deployment", name: app, uid: uid.get(app) ?? "", controller: true, blockOwnerDeletion: true },
      ];
      return { ...o, metadata: { ...o.metadata, ownerReferences } };
    });
  return { cluster, companions };
}

const managedIn = (cluster: FakeCluster, ns: string): string[] =>
  [...cluster.objects.values()]
    .filter(o => o.metadata?.namespace === ns && o.metadata?.labels?.["app.kubernetes.io/managed-by"] === "ai-workloads")
    .map(o => `${o.kind}/${o.metadata?.name}`)
    .sort();

const strip = (o: KubeObject | undefined): KubeObject | undefined => {
  if (!o) return o;
  const { uid: _uid, ...metadata } = o.metadata ?? {};
  return { ...o, metadata };
};

describe("Reconciler", () => {
  it("creates exactly the companions the offline render prints, with ownerReferences to their Deployments", async () => {
    const { cluster, companions } = seededCluster();
    const r = new Reconciler(cluster, quiet, () => NOW);
    const outcome = await r.reconcileNamespace("ai");
    expect(outcome.writes).toBe(companions.length);
    expect(managedIn(cluster, "ai")).toEqual(companions.map(o => `${o.kind}/${o.metadata?.name}`).sort());
    for (const c of companions) expect(strip(cluster.find(c.kind!, "ai", c.metadata!.name!))).toEqual(c);
  });

  it("makes no write and no Event when nothing changed", async () => {
    const { cluster } = seededCluster();
    const r = new Reconciler(cluster, quiet, () => NOW);
    await r.reconcileNamespace("ai");
    const [writes, events] = [cluster.writes, cluster.events.length];
    const again = await r.reconcileNamespace("ai");
    expect([again.writes, cluster.writes - writes, cluster.events.length - events]).toEqual([0, 0, 0]);
  });

  it("reports applied objects on their Deployment and namespace objects on the Namespace", async () => {
    const { cluster } = seededCluster();
    await new Reconciler(cluster, quiet, () => NOW).reconcileNamespace("ai");
    const on = (kind: string, name: string) =>
      cluster.events.filter(
        e => (e.involvedObject as { kind: string; name: string }).kind === kind && (e.involvedObject as { name: string }).name === name,
      );
    expect(on("Deployment", "runtime-openai").map(e => [e.reason, e.message])).toEqual([
      [
        "CompanionsApplied",
        "applied Service/runtime-openai, applied HorizontalPodAutoscaler/runtime-openai, applied AuthorizationPolicy/runtime-openai-public",
      ],
    ]);
    expect(on("Namespace", "ai").map(e => [e.reason, e.message, e.metadata?.namespace])).toEqual([
      [
        "CompanionsApplied",
        "applied VirtualService/ai-workloads, applied RequestAuthentication/ai-workloads-aad, applied AuthorizationPolicy/ai-workloads-require-jwt",
        "default",
      ],
    ]);
  });

  it("restores a deleted companion and reverts an edited one, writing only those", async () => {
    const { cluster } = seededCluster();
    const r = new Reconciler(cluster, quiet, () => NOW);
    await r.reconcileNamespace("ai");
    const original = structuredClone(cluster.find("Service", "ai", "runtime-openai"));
    cluster.remove("VirtualService", "ai", "ai-workloads");
    const svc = cluster.find("Service", "ai", "runtime-openai")!;
    (svc.spec as { ports: { port: number }[] }).ports[0].port = 9999;
    const outcome = await r.reconcileNamespace("ai");
    expect(outcome.applied.sort()).toEqual(["Service/runtime-openai", "VirtualService/ai-workloads"]);
    // Both re-applied exactly what the module had applied before: reverts, which slow a fight down.
    expect(outcome.reverts).toBe(2);
    expect(cluster.find("Service", "ai", "runtime-openai")).toEqual(original);
  });

  it("ignores fields others add to a companion", async () => {
    const { cluster } = seededCluster();
    const r = new Reconciler(cluster, quiet, () => NOW);
    await r.reconcileNamespace("ai");
    const svc = cluster.find("Service", "ai", "runtime-openai")!;
    (svc.spec as Record<string, unknown>).clusterIP = "10.96.0.10";
    svc.metadata!.labels = { ...svc.metadata!.labels, team: "x" };
    expect((await r.reconcileNamespace("ai")).writes).toBe(0);
  });

  it("leaves an existing object it did not create alone and reports it once on the Deployment", async () => {
    const { cluster } = seededCluster();
    const theirs = cluster.put({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "librechat", namespace: "ai", labels: { owner: "team" } },
      spec: { ports: [{ port: 1 }] },
    });
    const r = new Reconciler(cluster, quiet, () => NOW);
    const outcome = await r.reconcileNamespace("ai");
    expect(outcome.conflicts).toEqual(["Service/librechat"]);
    expect(cluster.find("Service", "ai", "librechat")).toEqual(theirs);
    await r.reconcileNamespace("ai");
    const conflicts = cluster.events.filter(e => e.reason === "CompanionConflict");
    expect(conflicts.map(e => [(e.involvedObject as { name: string }).name, e.type])).toEqual([["librechat", "Warning"]]);
    expect(conflicts[0].message).toMatch(/^Service\/librechat exists and was not created by ai-workloads; it is left alone/);
  });

  it("deletes the companions of a Deployment whose label was removed, and the namespace objects with the last one", async () => {
    const { cluster } = seededCluster();
    const r = new Reconciler(cluster, quiet, () => NOW);
    await r.reconcileNamespace("ai");
    for (const name of ["runtime-openai", "librechat-backend", "librechat"]) {
      const d = cluster.find("Deployment", "ai", name)!;
      delete d.metadata!.labels!["ai-workloads.io/kind"];
    }
    // The Namespace still asks for request-auth and require-jwt itself, so those stay.
    await r.reconcileNamespace("ai");
    expect(managedIn(cluster, "ai")).toEqual(["AuthorizationPolicy/ai-workloads-require-jwt", "RequestAuthentication/ai-workloads-aad"]);
    const ns = cluster.find("Namespace", undefined as unknown as string, "ai")!;
    ns.metadata!.annotations = {};
    await r.reconcileNamespace("ai");
    expect(managedIn(cluster, "ai")).toEqual([]);
  });

  it("does not re-apply the objects of a Deployment being deleted (foreground deletion), and reports nothing on it", async () => {
    const { cluster } = seededCluster();
    const r = new Reconciler(cluster, quiet, () => NOW);
    await r.reconcileNamespace("ai");
    // The garbage collector has deleted the Service; the Deployment waits for the rest with a deletionTimestamp.
    cluster.find("Deployment", "ai", "runtime-openai")!.metadata!.deletionTimestamp = NOW as never;
    cluster.remove("Service", "ai", "runtime-openai");
    const events = cluster.events.length;
    const outcome = await r.reconcileNamespace("ai");
    expect(outcome.applied.filter(a => a.endsWith("/runtime-openai") || a.endsWith("/runtime-openai-public"))).toEqual([]);
    expect(managedIn(cluster, "ai")).not.toContain("Service/runtime-openai");
    expect(managedIn(cluster, "ai")).not.toContain("HorizontalPodAutoscaler/runtime-openai");
    expect(cluster.events.slice(events).filter(e => (e.involvedObject as { name: string }).name === "runtime-openai")).toEqual([]);
  });

  it("follows annotation changes: autoscale off removes the HPA, expose false removes the route", async () => {
    const { cluster } = seededCluster();
    const r = new Reconciler(cluster, quiet, () => NOW);
    await r.reconcileNamespace("ai");
    const d = cluster.find("Deployment", "ai", "runtime-openai")!;
    d.metadata!.annotations = { ...d.metadata!.annotations, "ai-workloads.io/autoscale": "off", "ai-workloads.io/expose": "false" };
    const outcome = await r.reconcileNamespace("ai");
    expect([outcome.applied, outcome.pruned]).toEqual([["VirtualService/ai-workloads"], ["HorizontalPodAutoscaler/runtime-openai"]]);
    // A new wanted state is not a revert: it is never slowed down.
    expect(outcome.reverts).toBe(0);
    const routes = (cluster.find("VirtualService", "ai", "ai-workloads")!.spec as { http: { name: string }[] }).http.map(h => h.name);
    expect(routes).toEqual(["librechat"]);
  });

  it("keeps the objects of a Deployment that no longer resolves, and reports a ConfigError on it", async () => {
    const { cluster } = seededCluster();
    const r = new Reconciler(cluster, quiet, () => NOW);
    await r.reconcileNamespace("ai");
    const d = cluster.find("Deployment", "ai", "runtime-openai")!;
    d.metadata!.annotations = { ...d.metadata!.annotations, "ai-workloads.io/infra-profile": "gone" };
    const outcome = await r.reconcileNamespace("ai");
    expect(outcome.pruned).toEqual([]);
    expect(managedIn(cluster, "ai")).toContain("HorizontalPodAutoscaler/runtime-openai");
    const errors = cluster.events.filter(e => e.reason === "ConfigError");
    expect(errors.map(e => (e.involvedObject as { name: string }).name)).toEqual(["runtime-openai"]);
    expect(errors[0].message).toContain(
      'ai/runtime-openai: metadata.annotations[ai-workloads.io/infra-profile]: "gone" is not a known infra profile',
    );
  });

  it("keeps the last valid cluster config when the ConfigMap turns invalid, and reports it on the ConfigMap", async () => {
    const cluster = new FakeCluster();
    const cm = cluster.put({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ai-workloads-config", namespace: "pepr-system" },
      data: { "config.yaml": "istio: { host: a.example.com, gateway: gw/gw }\n" },
    });
    const r = new Reconciler(cluster, quiet, () => NOW);
    expect(await r.loadConfig()).toBe(true);
    (cm.data as Record<string, string>)["config.yaml"] = "istio: { host: [\n";
    expect(await r.loadConfig()).toBe(false);
    cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "t" } });
    cluster.put({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "m", namespace: "t", labels: { "ai-workloads.io/kind": "mlserver" } },
      spec: {
        selector: { matchLabels: { app: "m" } },
        template: { metadata: { labels: { app: "m" } }, spec: { containers: [{ name: "c", image: "i" }] } },
      },
    });
    await r.reconcileNamespace("t");
    expect(managedIn(cluster, "t")).toContain("VirtualService/ai-workloads");
    expect(cluster.events.filter(e => e.reason === "ConfigError").map(e => (e.involvedObject as { kind: string }).kind)).toEqual([
      "ConfigMap",
    ]);
  });

  it("skips the Istio companions when Istio's CRDs are not installed, and keeps the rest true", async () => {
    const { cluster } = seededCluster();
    cluster.installedKinds = new Set(["Service", "HorizontalPodAutoscaler"]);
    await new Reconciler(cluster, quiet, () => NOW).reconcileNamespace("ai");
    expect(managedIn(cluster, "ai")).toEqual([
      "HorizontalPodAutoscaler/runtime-openai",
      "Service/librechat",
      "Service/librechat-backend",
      "Service/runtime-openai",
    ]);
  });

  it("does nothing for a namespace that no longer exists", async () => {
    const cluster = new FakeCluster();
    expect(await new Reconciler(cluster, quiet, () => NOW).reconcileNamespace("gone")).toEqual({
      namespace: "gone",
      applied: [],
      pruned: [],
      conflicts: [],
      writes: 0,
      reverts: 0,
    });
  });
});
