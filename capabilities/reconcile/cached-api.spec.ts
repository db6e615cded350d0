// The reconciler over the watches' copies: an unchanged pass reads nothing, a lagging watch
// never makes it delete what is still wanted or no longer the module's.
import { seedExample } from "../../test/unit/examples";
import { KIND_LABEL, MANAGED_BY_LABEL } from "../core/constants";
import { render } from "../core/plan";
import type { KubeObject } from "../core/types";
import { COMPANION_KINDS, type ClusterApi } from "./cluster-api";
import { type Mirrors, cachedClusterApi } from "./cached-api";
import { FakeCluster } from "./fake-cluster";
import { Mirror } from "./mirror";
import { Reconciler } from "./reconciler";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const NOW = new Date("2026-11-27T12:00:00Z");
const READS = ["namespaceAnnotations", "managedDeployments", "listManaged", "get", "namespacesOfInterest", "anyManaged"];

/** The seed example stored as admission stores it, its companions made by a pass on the API server. */
async function convergedCluster(): Promise<FakeCluster> {
  const cluster = new FakeCluster();
  render(seedExample(), { defaultNamespace: "default" })
    .objects.filter(o => o.kind === "Namespace" || o.kind === "Deployment")
    .forEach(o => cluster.put(o));
  await new Reconciler(cluster, quiet, () => NOW).reconcileNamespace("ai");
  return cluster;
}

/** The API server, recording each read. */
function recorded(cluster: FakeCluster): { api: ClusterApi; reads: string[] } {
  const reads: string[] = [];
  const api = new Proxy(cluster, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (READS.includes(String(prop))) reads.push(String(prop));
        return value.apply(target, args);
      };
    },
  });
  return { api, reads };
}

/** An object as the API server serves it: with a status and managedFields, which the copies drop. */
function served(o: KubeObject): KubeObject {
  const copy = structuredClone(o) as KubeObject & { status?: unknown };
  copy.metadata = { ...copy.metadata, managedFields: [{ manager: "ai-workloads", operation: "Apply", fieldsType: "FieldsV1" }] };
  copy.status = { observedGeneration: 1, conditions: [{ type: "Available", status: "True", message: "from a controller" }] };
  return copy;
}

/** What the watches would hold of the cluster right now, every first list in. */
function watchesOf(cluster: FakeCluster, serve: (o: KubeObject) => KubeObject = structuredClone): Mirrors {
  const mirrors: Mirrors = {
    namespaces: new Mirror("v1", "Namespace"),
    deployments: new Mirror("apps/v1", "Deployment"),
    companions: new Map(COMPANION_KINDS.map(k => [k.kind as string, new Mirror(k.apiVersion, k.kind)])),
  };
  for (const o of cluster.objects.values()) watched(mirrors, o)?.apply(serve(o), "ADDED");
  for (const m of [mirrors.namespaces, mirrors.deployments, ...mirrors.companions.values()]) m.synced = true;
  return mirrors;
}

/** The watch that holds an object, as the label selectors choose. */
function watched(mirrors: Mirrors, o: KubeObject): Mirror | undefined {
  if (o.kind === "Namespace") return mirrors.namespaces;
  if (o.kind === "Deployment") return o.metadata?.labels?.[KIND_LABEL] !== undefined ? mirrors.deployments : undefined;
  return o.metadata?.labels?.[MANAGED_BY_LABEL] === "ai-workloads" ? mirrors.companions.get(o.kind ?? "") : undefined;
}

const managedIn = (cluster: FakeCluster): string[] =>
  [...cluster.objects.values()]
    .filter(o => o.metadata?.labels?.[MANAGED_BY_LABEL] === "ai-workloads")
    .map(o => `${o.kind}/${o.metadata?.name}`)
    .sort();

describe("the reconciler over the watches' copies", () => {
  it("reads nothing from the API server and writes nothing on an unchanged pass", async () => {
    const cluster = await convergedCluster();
    const { api, reads } = recorded(cluster);
    const r = new Reconciler(cachedClusterApi(api, watchesOf(cluster)), quiet, () => NOW);
    // The first pass of a watcher reads the mlserver settings ConfigMap once.
    await r.reconcileNamespace("ai");
    reads.length = 0;
    const writes = cluster.writes;
    const outcome = await r.reconcileNamespace("ai");
    expect(outcome.writes).toBe(0);
    expect(cluster.writes).toBe(writes);
    expect(reads).toEqual([]);
  });

  it("plans from copies without status and managedFields as from the objects served: in step, drift repaired, status ignored", async () => {
    const cluster = await convergedCluster();
    const mirrors = watchesOf(cluster, served);
    const held = [mirrors.namespaces, mirrors.deployments, ...mirrors.companions.values()].flatMap(m => m.all());
    expect(held.length).toBeGreaterThan(3);
    for (const o of held) {
      expect(o).not.toHaveProperty("status");
      expect(o.metadata).not.toHaveProperty("managedFields");
    }
    const { api, reads } = recorded(cluster);
    const r = new Reconciler(cachedClusterApi(api, mirrors), quiet, () => NOW);
    expect((await r.reconcileNamespace("ai")).writes).toBe(0);
    reads.length = 0;

    // A status of its own (the HPA controller's) is no drift.
    mirrors.companions
      .get("HorizontalPodAutoscaler")!
      .apply(served(cluster.find("HorizontalPodAutoscaler", "ai", "runtime-openai")!), "MODIFIED");
    expect((await r.reconcileNamespace("ai")).writes).toBe(0);
    expect(reads).toEqual([]);

    // A user's edit of a field the module sets is.
    const service = cluster.find("Service", "ai", "runtime-openai")!;
    (service.spec as { ports: { port: number }[] }).ports[0].port = 9999;
    mirrors.companions.get("Service")!.apply(served(service), "MODIFIED");
    const repaired = await r.reconcileNamespace("ai");
    expect(repaired.failed).toEqual([]);
    expect(repaired.applied).toEqual(["Service/runtime-openai"]);
  });

  it("finds the namespaces of a resync in the watches' copies, with one list of Namespaces for all of them", async () => {
    const cluster = await convergedCluster();
    const mirrors = watchesOf(cluster);
    const listed: string[] = [];
    const other = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "missed", annotations: { "ai-workloads.io/host": "x.example.com" } },
    };
    const listNamespaces = async (): Promise<KubeObject[]> => {
      listed.push("namespaces");
      return [...[...cluster.objects.values()].filter(o => o.kind === "Namespace"), other];
    };
    const { api, reads } = recorded(cluster);
    expect(await cachedClusterApi(api, mirrors, listNamespaces).namespacesOfInterest()).toEqual(["ai", "missed"]);
    expect(reads).toEqual([]);
    expect(listed).toEqual(["namespaces"]);
  });

  it("reads the API server while a watch has no first list yet", async () => {
    const cluster = await convergedCluster();
    const mirrors = watchesOf(cluster);
    mirrors.deployments.synced = false;
    mirrors.companions.get("Service")!.synced = false;
    const { api, reads } = recorded(cluster);
    const r = new Reconciler(cachedClusterApi(api, mirrors), quiet, () => NOW);
    await r.reconcileNamespace("ai");
    reads.length = 0;
    const outcome = await r.reconcileNamespace("ai");
    expect(outcome.writes).toBe(0);
    expect(reads.sort()).toEqual(["listManaged", "managedDeployments"]);
    expect(await cachedClusterApi(api, mirrors).namespacesOfInterest()).toEqual(["ai"]);
    expect(reads).toContain("namespacesOfInterest");
  });

  it("prunes the companions of a Deployment that lost its kind label (the watch's DELETED)", async () => {
    const cluster = await convergedCluster();
    const mirrors = watchesOf(cluster);
    const d = cluster.find("Deployment", "ai", "runtime-openai")!;
    mirrors.deployments.apply(structuredClone(d), "DELETED");
    delete d.metadata!.labels![KIND_LABEL];
    const outcome = await new Reconciler(cachedClusterApi(cluster, mirrors), quiet, () => NOW).reconcileNamespace("ai");
    expect(outcome.failed).toEqual([]);
    expect(outcome.pruned).toEqual(expect.arrayContaining(["Service/runtime-openai"]));
    expect(managedIn(cluster)).not.toContain("Service/runtime-openai");
  });

  it("deletes nothing while the watch has not delivered a Deployment the API server holds, and converges once it has", async () => {
    const cluster = await convergedCluster();
    const before = managedIn(cluster);
    const mirrors = watchesOf(cluster);
    // A relist that raced a change, or an event not processed yet: the watch's copy lacks the app.
    mirrors.deployments.apply(structuredClone(cluster.find("Deployment", "ai", "runtime-openai")!), "DELETED");
    const r = new Reconciler(cachedClusterApi(cluster, mirrors), quiet, () => NOW);
    const vs = JSON.stringify(cluster.find("VirtualService", "ai", "ai-workloads"));
    const lagging = await r.reconcileNamespace("ai");
    expect(lagging.writes).toBe(0);
    expect(lagging.failed).toEqual(expect.arrayContaining(["Service/runtime-openai", "VirtualService/ai-workloads"]));
    expect(managedIn(cluster)).toEqual(before);
    expect(JSON.stringify(cluster.find("VirtualService", "ai", "ai-workloads"))).toBe(vs);

    // The confirmation put what the API server holds into the watch's copy.
    const caughtUp = await r.reconcileNamespace("ai");
    expect(caughtUp.failed).toEqual([]);
    expect(caughtUp.writes).toBe(0);
    expect(managedIn(cluster)).toEqual(before);
  });

  it("updates on a Deployment changed since the pass read it (that change brings its own pass)", async () => {
    const cluster = await convergedCluster();
    const service = cluster.find("Service", "ai", "runtime-openai")!;
    (service.spec as { ports: { port: number }[] }).ports[0].port = 9999;
    const mirrors = watchesOf(cluster);
    const d = cluster.find("Deployment", "ai", "runtime-openai")!;
    d.metadata!.generation = (d.metadata!.generation ?? 1) + 1;
    const outcome = await new Reconciler(cachedClusterApi(cluster, mirrors), quiet, () => NOW).reconcileNamespace("ai");
    expect(outcome.failed).toEqual([]);
    expect(outcome.applied).toEqual(["Service/runtime-openai"]);
  });

  it("deletes nothing while the watch has an old version of the Namespace's annotations", async () => {
    const cluster = await convergedCluster();
    const mirrors = watchesOf(cluster);
    // The watch still shows the host removed; the API server has it back.
    const ns = structuredClone(cluster.find("Namespace", undefined as unknown as string, "ai")!);
    delete ns.metadata!.annotations!["ai-workloads.io/host"];
    mirrors.namespaces.apply(ns, "MODIFIED");
    const outcome = await new Reconciler(cachedClusterApi(cluster, mirrors), quiet, () => NOW).reconcileNamespace("ai");
    expect(outcome.pruned).toEqual([]);
    expect(managedIn(cluster)).toContain("VirtualService/ai-workloads");
  });

  it("leaves an object someone took over (no longer labelled as the module's) after the watch saw it", async () => {
    const cluster = await convergedCluster();
    const stray = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "gone-app", namespace: "ai", labels: { [MANAGED_BY_LABEL]: "ai-workloads" } },
      spec: { ports: [{ port: 80 }] },
    };
    cluster.put(stray);
    const mirrors = watchesOf(cluster);
    const api = cachedClusterApi(cluster, mirrors);
    cluster.find("Service", "ai", "gone-app")!.metadata!.labels = { team: "theirs" };
    const outcome = await new Reconciler(api, quiet, () => NOW).reconcileNamespace("ai");
    expect(outcome.pruned).toEqual([]);
    expect(outcome.failed).toEqual(["Service/gone-app"]);
    expect(cluster.find("Service", "ai", "gone-app")).toBeDefined();

    // Still the module's: deleted.
    cluster.find("Service", "ai", "gone-app")!.metadata!.labels = { [MANAGED_BY_LABEL]: "ai-workloads" };
    const again = await new Reconciler(api, quiet, () => NOW).reconcileNamespace("ai");
    expect(again.pruned).toEqual(["Service/gone-app"]);
    expect(cluster.find("Service", "ai", "gone-app")).toBeUndefined();
  });

  it("reads a companion the watch has not seen yet instead of writing it again", async () => {
    const cluster = await convergedCluster();
    const mirrors = watchesOf(cluster);
    const { api, reads } = recorded(cluster);
    const r = new Reconciler(cachedClusterApi(api, mirrors), quiet, () => NOW);
    await r.reconcileNamespace("ai");
    reads.length = 0;
    mirrors.companions.get("Service")!.apply(structuredClone(cluster.find("Service", "ai", "runtime-openai")!), "DELETED");
    const outcome = await r.reconcileNamespace("ai");
    expect(outcome.writes).toBe(0);
    expect(reads).toEqual(["get"]);
  });

  it("restores a companion deleted behind the module's back", async () => {
    const cluster = await convergedCluster();
    const mirrors = watchesOf(cluster);
    const service = cluster.find("Service", "ai", "runtime-openai")!;
    cluster.remove("Service", "ai", "runtime-openai");
    mirrors.companions.get("Service")!.apply(structuredClone(service), "DELETED");
    const outcome = await new Reconciler(cachedClusterApi(cluster, mirrors), quiet, () => NOW).reconcileNamespace("ai");
    expect(outcome.applied).toEqual(["Service/runtime-openai"]);
    expect(cluster.find("Service", "ai", "runtime-openai")).toBeDefined();
  });

  it("treats a terminating Namespace as gone, and asks the API server for one the watch does not hold", async () => {
    const cluster = await convergedCluster();
    const mirrors = watchesOf(cluster);
    const { api, reads } = recorded(cluster);
    const cached = cachedClusterApi(api, mirrors);
    expect(await cached.namespaceAnnotations("elsewhere")).toBeUndefined();
    expect(reads).toEqual(["namespaceAnnotations"]);
    const ns = structuredClone(cluster.find("Namespace", undefined as unknown as string, "ai")!);
    ns.metadata!.deletionTimestamp = NOW as never;
    mirrors.namespaces.apply(ns, "MODIFIED");
    expect(await cached.namespaceAnnotations("ai")).toBeUndefined();
    expect(cached.configNamespace).toBe("pepr-system");
  });
});
