import { describe, expect, it } from "@jest/globals";
import { DEFAULT_CLUSTER_CONFIG } from "./config";
import { formatProblem } from "./problems";
import { type Wanted, isUpToDate, objectLabel, planSync, wantedCompanions } from "./sync";
import { TEST_TENANT } from "./testing";
import type { HttpRoute, KubeObject, V1Deployment } from "./types";

const NAMESPACE = {
  "ai-workloads.io/host": "ai.example.com",
  "ai-workloads.io/gateway": "istio-system/gw",
  "ai-workloads.io/aad-tenant-id": TEST_TENANT,
  "ai-workloads.io/request-auth": "true",
  "ai-workloads.io/require-jwt": "true",
};

function deployment(name: string, annotations: Record<string, string> = {}, created?: string): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: "ai",
      uid: `uid-${name}`,
      labels: { "ai-workloads.io/kind": "mlserver" },
      annotations: { "ai-workloads.io/autoscale": "off", ...annotations },
      ...(created ? { creationTimestamp: created as unknown as Date } : {}),
    },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "img" }] } },
    },
  };
}

const wanted = (deployments: V1Deployment[], annotations: Record<string, string> = NAMESPACE): Wanted =>
  wantedCompanions("ai", annotations, DEFAULT_CLUSTER_CONFIG, deployments);

/** The objects as the reconciler stored them: what was wanted, plus a uid. */
const stored = (w: Wanted): KubeObject[] =>
  w.companions.map(c => ({ ...structuredClone(c), metadata: { ...c.metadata, uid: "x" } }) as KubeObject);

const routes = (objects: readonly unknown[]): string[] =>
  ((objects as KubeObject[]).find(o => o.kind === "VirtualService")?.spec as { http: HttpRoute[] } | undefined)?.http.map(r => r.name) ??
  [];

const labels = (objects: readonly unknown[]): string[] => (objects as KubeObject[]).map(objectLabel);

const gone = { "ai-workloads.io/infra-profile": "gone" };

describe("isUpToDate", () => {
  const service = {
    kind: "Service",
    metadata: {
      name: "m",
      labels: { a: "1" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "m", uid: "u1", controller: true }],
    },
    spec: { ports: [{ name: "http", port: 8000, targetPort: "http", protocol: "TCP" }] },
  };
  const live = (): typeof service & Record<string, unknown> => structuredClone(service);

  it("ignores fields, labels and annotations others add", () => {
    const l = live();
    Object.assign(l.metadata, { labels: { a: "1", team: "x" }, annotations: { note: "y" }, resourceVersion: "5" });
    Object.assign(l.spec, { clusterIP: "10.0.0.1" });
    expect(isUpToDate(service, l)).toBe(true);
  });

  it("ignores a Service port another manager adds, before or after the module's", () => {
    const l = live();
    l.spec.ports.unshift({ name: "metrics", port: 9090, targetPort: "metrics", protocol: "TCP" });
    expect(isUpToDate(service, l)).toBe(true);
    l.spec.ports.push({ name: "udp", port: 8000, protocol: "UDP" } as never);
    expect(isUpToDate(service, l)).toBe(true);
  });

  it("keys Service ports by port and protocol, TCP when the protocol is left out", () => {
    const l = live();
    delete (l.spec.ports[0] as { protocol?: string }).protocol;
    expect(isUpToDate(service, l)).toBe(false); // the module's protocol field is missing
    expect(isUpToDate({ ...service, spec: { ports: [{ port: 8000, name: "http" }] } }, l)).toBe(true);
  });

  it("sees a changed or missing module port as drift", () => {
    const renumbered = live();
    renumbered.spec.ports[0].port = 9999;
    expect(isUpToDate(service, renumbered)).toBe(false);
    const retargeted = live();
    retargeted.spec.ports[0].targetPort = "grpc";
    expect(isUpToDate(service, retargeted)).toBe(false);
  });

  it("keys ownerReferences by uid: another owner beside the module's costs nothing, a missing one is drift", () => {
    const l = live();
    l.metadata.ownerReferences.unshift({ apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "u0", controller: false });
    expect(isUpToDate(service, l)).toBe(true);
    l.metadata.ownerReferences = l.metadata.ownerReferences.slice(0, 1);
    expect(isUpToDate(service, l)).toBe(false);
  });

  it("keeps other lists atomic: an added item, a reordering or a removal is drift", () => {
    const vs = { kind: "VirtualService", spec: { hosts: ["a"], http: [{ name: "x" }, { name: "y" }] } };
    expect(isUpToDate(vs, structuredClone(vs))).toBe(true);
    expect(isUpToDate(vs, { ...vs, spec: { ...vs.spec, http: [{ name: "x" }, { name: "y" }, { name: "z" }] } })).toBe(false);
    expect(isUpToDate(vs, { ...vs, spec: { ...vs.spec, http: [{ name: "y" }, { name: "x" }] } })).toBe(false);
    expect(isUpToDate(vs, { ...vs, spec: { ...vs.spec, hosts: ["a", "b"] } })).toBe(false);
    const hpa = { kind: "HorizontalPodAutoscaler", spec: { metrics: [{ type: "Resource" }] } };
    expect(isUpToDate(hpa, { spec: { metrics: [{ type: "Resource" }, { type: "Pods" }] } })).toBe(false);
    // A list named ports elsewhere than a Service's spec is atomic too.
    expect(isUpToDate({ kind: "X", spec: { ports: [{ port: 1 }] } }, { spec: { ports: [{ port: 1 }, { port: 2 }] } })).toBe(false);
  });
});

describe("wantedCompanions route conflicts", () => {
  it("gives a shared path to the Deployment created first, and names the other as a route conflict", () => {
    const w = wanted([
      deployment("a", { "ai-workloads.io/path-prefix": "/apps/shared" }, "2026-01-02T00:00:00Z"),
      deployment("b", { "ai-workloads.io/path-prefix": "/apps/shared" }, "2026-01-01T00:00:00Z"),
    ]);
    expect(routes(w.companions)).toEqual(["b"]);
    expect(w.routeConflicts.map(c => [c.deployment.metadata?.name, c.keptBy, c.path])).toEqual([["a", "b", "/apps/shared"]]);
    expect(formatProblem(w.routeConflicts[0].problem)).toBe(
      'ai/a: metadata.annotations[ai-workloads.io/path-prefix]: route path "/apps/shared" is also the path of Deployment "b", created first, which keeps the route; this one gets none; set ai-workloads.io/path-prefix to another path, or ai-workloads.io/expose: "false"',
    );
    // Its other objects are unaffected.
    expect(labels(w.companions)).toContain("Service/a");
  });

  it("breaks a creation tie, or the lack of timestamps (offline), by name", () => {
    const same = "2026-01-01T00:00:00Z";
    const clash = { "ai-workloads.io/path-prefix": "/apps/x" };
    expect(routes(wanted([deployment("b", clash, same), deployment("a", clash, same)]).companions)).toEqual(["a"]);
    expect(routes(wanted([deployment("b", clash), deployment("a", clash)]).companions)).toEqual(["a"]);
  });

  it("reports no conflict for an app that is not exposed, or when no VirtualService is generated", () => {
    const clash = { "ai-workloads.io/path-prefix": "/apps/x" };
    expect(wanted([deployment("a", clash), deployment("b", { ...clash, "ai-workloads.io/expose": "false" })]).routeConflicts).toEqual([]);
    const { "ai-workloads.io/host": _host, ...noHost } = NAMESPACE;
    expect(wanted([deployment("a", clash), deployment("b", clash)], noHost).routeConflicts).toEqual([]);
  });
});

describe("planSync", () => {
  it("writes nothing when what is stored is what is wanted", () => {
    const w = wanted([deployment("a"), deployment("b")]);
    expect(planSync(w, stored(w), [])).toEqual({ apply: [], prune: [], conflicts: [], keptForConfig: [], guarded: [], routeConflicts: [] });
  });

  describe("a Deployment that does not resolve (SPEC §12.3)", () => {
    it("keeps its per-app objects and its route, which stays in route order when the VirtualService changes", () => {
      const before = wanted([deployment("a"), deployment("bb"), deployment("c")]);
      const after = wanted([
        deployment("a", { "ai-workloads.io/path-prefix": "/apps/longer-path" }),
        deployment("bb", gone),
        deployment("c"),
      ]);
      const plan = planSync(after, stored(before), []);
      expect(plan.prune).toEqual([]);
      expect(labels(plan.apply)).toEqual(["VirtualService/ai-workloads"]);
      expect(routes(plan.apply)).toEqual(["a", "bb", "c"]);
      const kept = (plan.apply[0].spec as { http: HttpRoute[] }).http[1];
      expect(kept).toEqual((stored(before)[3].spec as { http: HttpRoute[] }).http.find(r => r.name === "bb"));
    });

    it("writes nothing when only its resolution changed", () => {
      const before = wanted([deployment("a"), deployment("b")]);
      const plan = planSync(wanted([deployment("a"), deployment("b", gone)]), stored(before), []);
      expect([plan.apply, plan.prune]).toEqual([[], []]);
    });

    it("keeps the VirtualService as it is, and the shared namespace objects, when nothing else would be wanted", () => {
      const before = wanted([deployment("a"), deployment("b")]);
      // The Namespace no longer asks for JWT objects, and neither Deployment resolves.
      const after = wanted([deployment("a", gone), deployment("b", gone)], { "ai-workloads.io/request-auth": "false" });
      expect(after.companions).toEqual([]);
      expect(planSync(after, stored(before), [])).toMatchObject({ apply: [], prune: [] });
    });

    it("keeps the shared namespace objects while one app resolves, and lets them go once it resolves again", () => {
      const before = wanted([deployment("a"), deployment("b")]);
      const noJwt = { ...NAMESPACE, "ai-workloads.io/request-auth": "false", "ai-workloads.io/require-jwt": "false" };
      expect(planSync(wanted([deployment("a"), deployment("b", gone)], noJwt), stored(before), []).prune).toEqual([]);
      expect(labels(planSync(wanted([deployment("a"), deployment("b")], noJwt), stored(before), []).prune)).toEqual([
        "RequestAuthentication/ai-workloads-aad",
        "AuthorizationPolicy/ai-workloads-require-jwt",
      ]);
    });

    it("prunes the VirtualService when no route in it belongs to such an app", () => {
      const before = wanted([deployment("a"), deployment("b", { "ai-workloads.io/expose": "false" })]);
      const after = wanted([deployment("b", { ...gone, "ai-workloads.io/expose": "false" })], {});
      expect(labels(planSync(after, stored(before), []).prune)).toEqual(["Service/a", "VirtualService/ai-workloads"]);
    });

    it("lets the app created first keep a path that a newer app took while the older did not resolve", () => {
      const before = wanted([deployment("old", {}, "2026-01-01T00:00:00Z")]);
      const newer = deployment("new", { "ai-workloads.io/path-prefix": "/apps/old" }, "2026-02-01T00:00:00Z");
      const plan = planSync(wanted([deployment("old", gone, "2026-01-01T00:00:00Z"), newer]), stored(before), []);
      // The live VirtualService already routes the path to the older app: nothing to write there.
      expect(labels(plan.apply)).toEqual(["Service/new"]);
      expect(plan.routeConflicts.map(c => [c.deployment.metadata?.name, c.keptBy])).toEqual([["new", "old"]]);
    });

    it("gives up its route to an app created before it", () => {
      const before = wanted([deployment("young", {}, "2026-03-01T00:00:00Z")]);
      const older = deployment("older", { "ai-workloads.io/path-prefix": "/apps/young" }, "2026-01-01T00:00:00Z");
      const plan = planSync(wanted([deployment("young", gone, "2026-03-01T00:00:00Z"), older]), stored(before), []);
      expect(routes(plan.apply)).toEqual(["older"]);
      expect(plan.routeConflicts.map(c => [c.deployment.metadata?.name, c.keptBy])).toEqual([["young", "older"]]);
    });
  });

  describe("a Namespace with malformed annotations (SPEC §12.4)", () => {
    it("keeps its security and routing objects exactly as they are, and still keeps Services in step", () => {
      const before = wanted([deployment("a"), deployment("b", { "ai-workloads.io/public-paths": "/docs" })]);
      const live = stored(before).filter(o => objectLabel(o) !== "RequestAuthentication/ai-workloads-aad");
      const after = wanted([deployment("a"), deployment("c")], { ...NAMESPACE, "ai-workloads.io/require-jwt": "True" });
      expect(after.namespaceProblems.length).toBe(1);
      const plan = planSync(after, live, []);
      expect(labels(plan.apply)).toEqual(["Service/c"]);
      expect(labels(plan.prune)).toEqual(["Service/b"]);
    });

    it("reports no route conflict while its VirtualService is kept as it is", () => {
      const clash = { "ai-workloads.io/path-prefix": "/apps/x" };
      const after = wanted([deployment("a", clash), deployment("b", clash)], { ...NAMESPACE, "ai-workloads.io/require-jwt": "True" });
      expect(after.routeConflicts.length).toBe(1);
      expect(planSync(after, [], []).routeConflicts).toEqual([]);
    });
  });

  describe("while no valid config is known (SPEC §12.4)", () => {
    const invalid = { configValid: false };

    it("deletes no RequestAuthentication, AuthorizationPolicy or VirtualService, and names what it keeps", () => {
      const before = wanted([deployment("a", { "ai-workloads.io/public-paths": "/docs" })]);
      const plan = planSync(wanted([], {}), stored(before), [], invalid);
      expect(labels(plan.prune)).toEqual(["Service/a"]);
      expect(plan.keptForConfig).toEqual([
        "VirtualService/ai-workloads",
        "RequestAuthentication/ai-workloads-aad",
        "AuthorizationPolicy/a-public",
        "AuthorizationPolicy/ai-workloads-require-jwt",
      ]);
    });

    it("removes no route, and still adds and updates", () => {
      const before = wanted([deployment("a"), deployment("bb")]);
      const after = wanted([
        deployment("a", { "ai-workloads.io/expose": "false" }),
        deployment("bb", { "ai-workloads.io/port": "9000" }),
        deployment("cccc"),
      ]);
      const plan = planSync(after, stored(before), [], invalid);
      expect(routes(plan.apply)).toEqual(["cccc", "bb", "a"]);
      expect(plan.keptForConfig).toEqual(["route a of VirtualService/ai-workloads"]);
      const http = (plan.apply.find(o => o.kind === "VirtualService")!.spec as { http: HttpRoute[] }).http;
      expect(http[1].route[0].destination.port.number).toBe(9000);
    });

    it("drops a kept route whose match a wanted route now has", () => {
      const before = wanted([deployment("a")]);
      const plan = planSync(wanted([deployment("b", { "ai-workloads.io/path-prefix": "/apps/a" })]), stored(before), [], invalid);
      expect(routes(plan.apply)).toEqual(["b"]);
      expect(plan.keptForConfig).toEqual([]);
    });

    it("prunes as usual with a valid config", () => {
      const before = wanted([deployment("a")]);
      expect(labels(planSync(wanted([], {}), stored(before), []).prune)).toEqual(labels(before.companions));
    });
  });
});
