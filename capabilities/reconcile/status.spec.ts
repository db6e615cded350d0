// `ai-workloads status` (SPEC §14.4) as a pure function of the reconciler's observation and the
// module's Events: every companion state and every defaults state, in a cluster the reconciler
// itself built and that was then changed behind its back (test/unit/live-cluster.ts).
import { parseClusterConfig } from "../core/config";
import type { KubeObject } from "../core/types";
import { CONFIG_B, NOW, settledLiveCluster } from "../../test/unit/live-cluster";
import { FakeCluster } from "./fake-cluster";
import { observeNamespace } from "./observe";
import { type AppStatus, type NamespaceStatus, namespaceStatus } from "./status";

const configB = (() => {
  const r = parseClusterConfig(CONFIG_B);
  if (!r.ok) throw new Error("bad config");
  return r.config;
})();

async function statusIn(cluster: FakeCluster, namespace: string, configValid = true): Promise<NamespaceStatus> {
  const seen = await observeNamespace(cluster, namespace, configB, configValid);
  return namespaceStatus(seen!, await cluster.moduleEvents(), configB, { configValid });
}

const app = (s: NamespaceStatus, name: string): AppStatus => s.apps.find(a => a.name === name)!;
const states = (a: AppStatus): string[] => a.companions.map(c => `${c.kind}/${c.name} ${c.state}`);

const NAMESPACE_OBJECTS_OK = [
  "VirtualService/ai-workloads ok",
  "RequestAuthentication/ai-workloads-aad ok",
  "AuthorizationPolicy/ai-workloads-require-jwt ok",
];

describe("namespaceStatus", () => {
  let cluster: FakeCluster;
  let ai: NamespaceStatus;
  beforeAll(async () => {
    cluster = await settledLiveCluster();
    ai = await statusIn(cluster, "ai");
  });

  it("lists every managed Deployment by name, resolved or not", () => {
    expect(ai.apps.map(a => a.name)).toEqual(["api", "broken", "chat", "legacy", "model", "web"]);
  });

  it("ok: every companion live, managed and up to date, and defaults current", () => {
    const model = app(ai, "model");
    expect(states(model)).toEqual([
      "Service/model ok",
      "HorizontalPodAutoscaler/model ok",
      "AuthorizationPolicy/model-public ok",
      ...NAMESPACE_OBJECTS_OK,
    ]);
    expect(model.publicPaths).toEqual(["/docs", "/v2/health/*"]);
    expect([model.ok, model.defaults, model.kind]).toEqual([true, { state: "current" }, "mlserver"]);
    expect(model.route).toEqual({ host: "ai.example.com", path: "/apps/model" });
    expect(model.jwt).toBe("required, same namespace exempt");
    expect(model.lastEvent?.reason).toBe("CompanionsApplied");
  });

  it("missing: wanted and not there; outdated defaults name what re-applying would change", () => {
    const chat = app(ai, "chat");
    expect(states(chat)).toEqual(["Service/chat missing", ...NAMESPACE_OBJECTS_OK]);
    expect(chat.defaults).toEqual({
      state: "outdated",
      changes: ['spec.template.spec.containers[main].resources.requests.cpu: "500m" -> "1"'],
    });
    expect([chat.ok, chat.lastEvent?.reason]).toEqual([false, "DefaultsOutdated"]);
  });

  it("drifted: live and managed, but the plan applies it; never-admitted without the record", () => {
    const legacy = app(ai, "legacy");
    expect(states(legacy)).toEqual(["Service/legacy ok", "HorizontalPodAutoscaler/legacy drifted", ...NAMESPACE_OBJECTS_OK]);
    expect(legacy.defaults.state).toBe("never-admitted");
    expect(legacy.defaults.state === "never-admitted" && legacy.defaults.changes).toContain(
      'spec.template.spec.containers[main].command: added ["mlserver","start","/mnt/models"]',
    );
  });

  it("conflict: the name is held by an object the module did not create", () => {
    const web = app(ai, "web");
    expect(web.companions[0]).toEqual({
      kind: "Service",
      name: "web",
      state: "conflict",
      detail: "Service/web exists and was not created by ai-workloads",
    });
    expect([web.ok, web.lastEvent?.reason]).toEqual([false, "CompanionConflict"]);
  });

  it("failed: missing, and the newest Event naming it is the API server's refusal", () => {
    const api = app(ai, "api");
    expect(api.companions[0]).toMatchObject({ kind: "Service", name: "api", state: "failed" });
    expect(api.companions[0].detail).toMatch(/^cannot apply Service\/api: services "api" is forbidden/);
    expect(api.defaults).toEqual({ state: "current" });
  });

  it("unresolved: the Deployment keeps what it had, shown as it is, and is not ok", () => {
    const broken = app(ai, "broken");
    expect(states(broken)).toEqual(["Service/broken ok", "HorizontalPodAutoscaler/broken ok", ...NAMESPACE_OBJECTS_OK]);
    expect(broken.defaults.state).toBe("unresolved");
    expect(broken.defaults.state === "unresolved" && broken.defaults.problems[0]).toMatch(/"gone" is not a known infra profile/);
    expect(broken.route).toEqual({ host: "ai.example.com", path: "/apps/broken" });
    expect([broken.ok, broken.lastEvent?.reason]).toEqual([false, "ConfigError"]);
  });

  it("lists the prunes: the namespace is not ok while diff would delete something", () => {
    expect([ai.prunes, ai.ok]).toEqual([["Service/old"], false]);
  });

  it("an all-ok namespace is ok; a namespace without a route says so", async () => {
    const quiet = await statusIn(cluster, "quiet");
    expect(quiet.ok).toBe(true);
    expect(quiet.apps.map(a => [a.name, a.route, a.jwt, a.ok])).toEqual([["solo", null, "not required", true]]);
  });

  it("defaults are unknown while no valid config is known", async () => {
    const s = await statusIn(cluster, "quiet", false);
    expect(s.apps[0].defaults).toEqual({ state: "unknown", why: "no valid cluster config is known" });
    expect(s.ok).toBe(false);
  });

  it("failed only while the refusal is the newest word: a later CompanionsApplied naming it makes it missing again", async () => {
    const c = await settledLiveCluster();
    const applied = {
      ...(c.events.find(e => e.reason === "CompanionsApplied" && (e.involvedObject as { name: string }).name === "model") as KubeObject),
    };
    c.events.push({
      ...applied,
      involvedObject: { ...(applied.involvedObject as object), name: "api", uid: undefined },
      message: "applied Service/api",
      lastTimestamp: new Date(NOW.getTime() + 3_600_000).toISOString(),
    });
    expect(app(await statusIn(c, "ai"), "api").companions[0].state).toBe("missing");
  });

  it("an Event names Kind/name as a whole word, and one for another Deployment of the same name does not count", async () => {
    const c = await settledLiveCluster();
    const later = new Date(NOW.getTime() + 3_600_000).toISOString();
    const failed = (name: string, uid: string | undefined, message: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { namespace: "ai", name: `${name}.x` },
      involvedObject: { kind: "Deployment", name, namespace: "ai", uid },
      reason: "CompanionFailed",
      message,
      lastTimestamp: later,
    });
    c.events.push(failed("chat", undefined, "cannot apply Service/chat-ui: refused"));
    c.events.push(failed("chat", "uid-of-an-earlier-chat", "cannot apply Service/chat: refused"));
    const chat = app(await statusIn(c, "ai"), "chat");
    expect(chat.companions[0].state).toBe("missing");
    expect(chat.lastEvent?.message).toBe("cannot apply Service/chat-ui: refused");
  });

  it("namespace objects of a namespace without apps that are not ok are listed on the namespace", async () => {
    const c = new FakeCluster();
    c.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "sec", annotations: { "ai-workloads.io/require-jwt": "true" } } });
    const s = await statusIn(c, "sec");
    expect(s.companions).toEqual([{ kind: "AuthorizationPolicy", name: "ai-workloads-require-jwt", state: "missing" }]);
    expect(s.ok).toBe(false);
  });
});
