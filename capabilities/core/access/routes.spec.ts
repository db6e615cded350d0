import type { KubeObject } from "../types";
import { pathSetOf } from "./match";
import { describeRoute, gatewayReach, resolveHost, routesOf } from "./routes";

const labels = { app: "api" };
const service: KubeObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "api", namespace: "team" },
  spec: { selector: { app: "api" } },
};

const vs = (name: string, http: unknown[], extra: Record<string, unknown> = {}, namespace = "team"): KubeObject => ({
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: { name, namespace },
  spec: { hosts: ["ai.example.com"], gateways: ["istio-system/gw"], http, ...extra },
});

const to = (host: string) => [{ destination: { host, port: { number: 8000 } } }];
/** The module's own route shape (SPEC §5). */
const moduleRoute = (name: string, path: string, host = "api.team.svc.cluster.local") => ({
  name,
  match: [{ uri: { prefix: `${path}/` } }, { uri: { exact: path } }],
  rewrite: { uri: "/" },
  route: to(host),
});

const reach = (objects: KubeObject[], path: string) => gatewayReach([service, ...objects], "team", labels, pathSetOf(path));

describe("gateway routing to a workload", () => {
  it("the module's route reaches every sidecar path through its prefix rewrite", () => {
    const objects = [vs("v", [moduleRoute("api", "/apps/api")])];
    expect(reach(objects, "/")).toBe(true);
    expect(reach(objects, "/docs")).toBe(true);
    expect(reach(objects, "/*")).toBe(true);
  });

  it("no VirtualService, a mesh-only one, or one to another Service: not routed", () => {
    expect(reach([], "/")).toBe(false);
    expect(reach([vs("v", [moduleRoute("api", "/apps/api")], { gateways: ["mesh"] })], "/")).toBe(false);
    expect(reach([vs("v", [moduleRoute("web", "/apps/web", "web.team.svc.cluster.local")])], "/")).toBe(false);
  });

  it("resolves short destination hosts in the VirtualService's namespace only", () => {
    expect(resolveHost("api", "team")).toBe("api.team.svc.cluster.local");
    expect(resolveHost("api.team", "other")).toBe("api.team");
    expect(reach([vs("v", [{ route: to("api") }])], "/x")).toBe(true);
    expect(reach([vs("v", [{ route: to("api") }], {}, "other")], "/x")).toBe(false);
  });

  it("an earlier route with a longer path takes those requests", () => {
    // /apps/api/admin/... goes to another app, so the sidecar path /admin of api is unreachable.
    const objects = [vs("v", [moduleRoute("admin", "/apps/api/admin", "admin.team.svc.cluster.local"), moduleRoute("api", "/apps/api")])];
    expect(reach(objects, "/admin")).toBe(false);
    expect(reach(objects, "/docs")).toBe(true);
    expect(reach(objects, "/")).toBe(true);
    // Part of /* is taken, part is not.
    expect(reach(objects, "/*")).toEqual({ unknown: "VirtualService team/v: spec.http[0].match[0]" });
  });

  it("without rewrite the sidecar sees the gateway path", () => {
    const objects = [vs("v", [{ match: [{ uri: { prefix: "/api/" } }], route: to("api") }])];
    expect(reach(objects, "/api/x")).toBe(true);
    expect(reach(objects, "/x")).toBe(false);
  });

  it("an exact match rewritten reaches only that one path", () => {
    const objects = [vs("v", [{ match: [{ uri: { exact: "/health" } }], rewrite: { uri: "/healthz" }, route: to("api") }])];
    expect(reach(objects, "/healthz")).toBe(true);
    expect(reach(objects, "/")).toBe(false);
    expect(reach(objects, "/*")).toEqual({ unknown: "VirtualService team/v: spec.http[0].match[0]" });
  });

  it("header matches, regexes and aborts are not modelled", () => {
    expect(reach([vs("v", [{ match: [{ headers: { x: { exact: "1" } } }], route: to("api") }])], "/")).toEqual({
      unknown: "VirtualService team/v: spec.http[0].match[0].headers",
    });
    expect(reach([vs("v", [{ match: [{ uri: { regex: "/a.*" } }], route: to("api") }])], "/")).toEqual({
      unknown: "VirtualService team/v: spec.http[0].match[0].uri",
    });
    expect(reach([vs("v", [{ fault: { abort: { httpStatus: 503 } }, route: to("api") }])], "/")).toEqual({
      unknown: "VirtualService team/v: spec.http[0].fault.abort",
    });
  });

  it("another VirtualService on the same gateway and host may take the requests first (order across them is not defined)", () => {
    const objects = [
      vs("a", [{ match: [{ uri: { prefix: "/apps/" } }], route: to("web.team.svc.cluster.local") }]),
      vs("v", [moduleRoute("api", "/apps/api")]),
    ];
    expect(reach(objects, "/")).toEqual({ unknown: "VirtualService team/a: spec.http[0]" });
    // On another host it does not compete.
    const other = [
      vs("a", [{ match: [{ uri: { prefix: "/apps/" } }], route: to("web.team.svc.cluster.local") }], { hosts: ["other.example.com"] }),
      vs("v", [moduleRoute("api", "/apps/api")]),
    ];
    expect(reach(other, "/")).toBe(true);
  });

  it("describes the module's route by its path, others by their matches", () => {
    expect(describeRoute(routesOf(vs("v", [moduleRoute("api", "/apps/api")]))[0])).toBe("/apps/api");
    expect(
      describeRoute(
        routesOf(
          vs("v", [{ match: [{ uri: { prefix: "/api/" } }, { uri: { exact: "/api" } }], rewrite: { uri: "/v1/" }, route: to("api") }]),
        )[0],
      ),
    ).toBe("/api/*, /api (rewrite /v1/)");
  });
});
