import { describe, expect, it } from "@jest/globals";
import type { NamespaceSettings } from "../config";
import type { V1Deployment } from "../types";
import type { WorkloadSettings } from "../workload";
import { assignRoutes, compareCreation, compareRoutes, generateRoute, generateVirtualService, routePath } from "./virtual-service";
import { namespaceSettings, workloadSettings } from "../testing";

const namespace = (over: Partial<NamespaceSettings> = {}): NamespaceSettings => namespaceSettings({ tenantId: undefined, ...over });

const app = (name: string, over: Partial<Omit<WorkloadSettings, "ns" | "app">> = {}): WorkloadSettings =>
  workloadSettings("mlserver", { app: name, autoscale: "off", profile: {}, ...over }, { tenantId: undefined });

const routeNames = (apps: WorkloadSettings[]): string[] => (generateVirtualService(namespace(), apps)?.spec.http ?? []).map(r => r.name);

describe("generateRoute", () => {
  it("matches <path>/ as prefix and <path> exactly, rewrites to /, and routes to the app's Service port", () => {
    expect(generateRoute(app("runtime-openai"))).toEqual({
      name: "runtime-openai",
      match: [{ uri: { prefix: "/apps/runtime-openai/" } }, { uri: { exact: "/apps/runtime-openai" } }],
      rewrite: { uri: "/" },
      route: [{ destination: { host: "runtime-openai.ai.svc.cluster.local", port: { number: 8000 } } }],
    });
  });

  it("routes the path / with a single prefix match on /", () => {
    expect(generateRoute(app("home", { path: "/" })).match).toEqual([{ uri: { prefix: "/" } }]);
  });

  it("uses the app's namespace and port in the destination", () => {
    expect(generateRoute(app("login", { namespace: "team", port: 4180 })).route).toEqual([
      { destination: { host: "login.team.svc.cluster.local", port: { number: 4180 } } },
    ]);
  });
});

describe("generateVirtualService", () => {
  it("gives one VirtualService ai-workloads per namespace with the host, the gateway and a route per exposed app", () => {
    const apps = [app("runtime-openai"), app("librechat", { kind: "oauth2-proxy", port: 4180 })];
    expect(generateVirtualService(namespace(), apps)).toEqual({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "ai-workloads", namespace: "ai", labels: { "app.kubernetes.io/managed-by": "ai-workloads" } },
      spec: {
        hosts: ["ai.example.com"],
        gateways: ["istio-system/ai-workloads-gateway"],
        http: [
          {
            name: "runtime-openai",
            match: [{ uri: { prefix: "/apps/runtime-openai/" } }, { uri: { exact: "/apps/runtime-openai" } }],
            rewrite: { uri: "/" },
            route: [{ destination: { host: "runtime-openai.ai.svc.cluster.local", port: { number: 8000 } } }],
          },
          {
            name: "librechat",
            match: [{ uri: { prefix: "/apps/librechat/" } }, { uri: { exact: "/apps/librechat" } }],
            rewrite: { uri: "/" },
            // oauth2-proxy learns the external path (before the rewrite) to return the user there after login.
            headers: { request: { set: { "X-Auth-Request-Redirect": "%REQ(:PATH)%" } } },
            route: [{ destination: { host: "librechat.ai.svc.cluster.local", port: { number: 4180 } } }],
          },
        ],
      },
    });
  });

  it("has no ownerReferences and no app label: it belongs to the namespace", () => {
    const vs = generateVirtualService(namespace(), [app("a")]);
    expect(vs?.metadata).not.toHaveProperty("ownerReferences");
    expect(vs?.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "ai-workloads" });
  });

  it("gives nothing without a host", () => {
    expect(generateVirtualService(namespace({ host: undefined }), [app("a")])).toBeUndefined();
  });

  it("gives nothing without a gateway", () => {
    expect(generateVirtualService(namespace({ gateway: undefined }), [app("a")])).toBeUndefined();
  });

  it("gives nothing without apps", () => {
    expect(generateVirtualService(namespace(), [])).toBeUndefined();
  });

  it("gives nothing when no app is exposed", () => {
    expect(generateVirtualService(namespace(), [app("a", { expose: false })])).toBeUndefined();
  });

  it("leaves unexposed apps out of the routes", () => {
    expect(routeNames([app("runtime-openai"), app("librechat-backend", { expose: false }), app("librechat")])).toEqual([
      "runtime-openai",
      "librechat",
    ]);
  });

  it("orders routes longest path first so a nested path wins over its parent", () => {
    expect(routeNames([app("short", { path: "/x" }), app("nested", { path: "/x/chat/v2" }), app("middle", { path: "/x/chat" })])).toEqual([
      "nested",
      "middle",
      "short",
    ]);
  });

  it("orders routes of equal path length by name", () => {
    expect(routeNames([app("bbb"), app("ccc"), app("aaa")])).toEqual(["aaa", "bbb", "ccc"]);
  });

  it("puts the root path / last", () => {
    expect(routeNames([app("home", { path: "/" }), app("a", { path: "/a" })])).toEqual(["a", "home"]);
  });

  it("does not reorder the apps it is given", () => {
    const apps = [app("b", { path: "/b" }), app("long", { path: "/long/path" })];
    generateVirtualService(namespace(), apps);
    expect(apps.map(a => a.app)).toEqual(["b", "long"]);
  });

  it("gives the same routes whatever the input order", () => {
    const apps = [app("a", { path: "/a" }), app("bb", { path: "/bb" }), app("c", { path: "/c" })];
    expect(routeNames([...apps].reverse())).toEqual(routeNames(apps));
  });
});

describe("routePath", () => {
  it("reads back the path a generated route serves", () => {
    for (const path of ["/", "/a", "/apps/chat/v2"]) expect(routePath(generateRoute(app("x", { path })))).toBe(path);
  });

  it("reads a live route with only a prefix, or no match, without failing", () => {
    expect(routePath({ name: "p", match: [{ uri: { prefix: "/p/" } }] } as never)).toBe("/p");
    expect(routePath({ name: "n" } as never)).toBe("");
  });

  it("orders routes as the generator does: longest path first, then name", () => {
    const routes = [app("b", { path: "/x" }), app("a", { path: "/y" }), app("c", { path: "/long" })].map(generateRoute);
    expect(routes.sort(compareRoutes).map(r => r.name)).toEqual(["c", "a", "b"]);
  });
});

const stored = (name: string, creationTimestamp?: string): V1Deployment => ({
  metadata: { name, namespace: "ai", ...(creationTimestamp ? { creationTimestamp: creationTimestamp as unknown as Date } : {}) },
});

describe("compareCreation", () => {
  it("puts the older creationTimestamp first, whether a string or a Date", () => {
    const older = stored("z", "2026-01-01T00:00:00Z");
    const newer = { metadata: { name: "a", creationTimestamp: new Date("2026-02-01T00:00:00Z") } };
    expect([newer, older].sort(compareCreation).map(d => d.metadata?.name)).toEqual(["z", "a"]);
  });

  it("counts a Deployment without one as the newest, and orders by name on a tie", () => {
    expect([stored("a"), stored("b", "2026-01-01T00:00:00Z")].sort(compareCreation).map(d => d.metadata?.name)).toEqual(["b", "a"]);
    expect([stored("b"), stored("a")].sort(compareCreation).map(d => d.metadata?.name)).toEqual(["a", "b"]);
  });
});

describe("assignRoutes", () => {
  const planned = (name: string, path: string, created?: string, over: Partial<WorkloadSettings> = {}) => ({
    settings: app(name, { path, ...over }),
    deployment: stored(name, created),
  });

  it("routes every exposed app when paths differ", () => {
    const { routed, conflicts } = assignRoutes([planned("a", "/a"), planned("b", "/b")]);
    expect([routed.map(s => s.app), conflicts]).toEqual([["a", "b"], []]);
  });

  it("gives a shared path to the app created first and names the other, with the one that keeps it", () => {
    const { routed, conflicts } = assignRoutes([
      planned("a", "/same", "2026-03-01T00:00:00Z"),
      planned("b", "/same", "2026-01-01T00:00:00Z"),
      planned("c", "/same", "2026-02-01T00:00:00Z"),
    ]);
    expect(routed.map(s => s.app)).toEqual(["b"]);
    expect(conflicts.map(c => [c.deployment.metadata?.name, c.path, c.keptBy])).toEqual([
      ["c", "/same", "b"],
      ["a", "/same", "b"],
    ]);
  });

  it("lets an unexposed app share a path: it has no route", () => {
    const { routed, conflicts } = assignRoutes([planned("a", "/same", undefined, { expose: false }), planned("b", "/same")]);
    expect([routed.map(s => s.app), conflicts]).toEqual([["a", "b"], []]);
  });
});
