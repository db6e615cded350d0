// Admission reuses a resolution only while its inputs are the very same objects: a Namespace or
// config that changed (a new object from the mirror or the config cache) is resolved again.
import { DEFAULT_CLUSTER_CONFIG, resolveNamespace } from "./core/config";
import { cachedResolveNamespace, cachedSiblingSettings } from "./admission-memo";
import type { V1Deployment } from "./core/types";

const model = (port: string): V1Deployment => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "model",
    namespace: "ai",
    labels: { "ai-workloads.io/kind": "mlserver" },
    annotations: { "ai-workloads.io/port": port },
  },
  spec: {
    selector: { matchLabels: { app: "model" } },
    template: { metadata: { labels: { app: "model" } }, spec: { containers: [{ name: "m" }] } },
  },
});

describe("cachedResolveNamespace", () => {
  it("gives the same resolution for the same annotations object and config", () => {
    const annotations = { "ai-workloads.io/host": "one.example.com" };
    const first = cachedResolveNamespace("ai", annotations, DEFAULT_CLUSTER_CONFIG);
    expect(first).toEqual(resolveNamespace("ai", annotations, DEFAULT_CLUSTER_CONFIG));
    expect(cachedResolveNamespace("ai", annotations, DEFAULT_CLUSTER_CONFIG)).toBe(first);
  });

  it("resolves again when the Namespace changed (a new annotations object)", () => {
    cachedResolveNamespace("ai", { "ai-workloads.io/host": "one.example.com" }, DEFAULT_CLUSTER_CONFIG);
    expect(cachedResolveNamespace("ai", { "ai-workloads.io/host": "two.example.com" }, DEFAULT_CLUSTER_CONFIG).settings.host).toBe(
      "two.example.com",
    );
  });

  it("resolves again when the config changed", () => {
    const annotations = {};
    cachedResolveNamespace("ai", annotations, DEFAULT_CLUSTER_CONFIG);
    const config = { ...DEFAULT_CLUSTER_CONFIG, istio: { ...DEFAULT_CLUSTER_CONFIG.istio, host: "cluster.example.com" } };
    expect(cachedResolveNamespace("ai", annotations, config).settings.host).toBe("cluster.example.com");
  });

  it("keeps namespaces apart when they share an annotations object", () => {
    const none = {};
    expect(cachedResolveNamespace("team-a", none, DEFAULT_CLUSTER_CONFIG).settings.name).toBe("team-a");
    expect(cachedResolveNamespace("team-b", none, DEFAULT_CLUSTER_CONFIG).settings.name).toBe("team-b");
  });
});

describe("cachedSiblingSettings", () => {
  const ns = resolveNamespace("ai", {}, DEFAULT_CLUSTER_CONFIG).settings;

  it("resolves a stored Deployment once and reuses it while nothing changed", () => {
    const d = model("8000");
    const first = cachedSiblingSettings(d, ns, DEFAULT_CLUSTER_CONFIG);
    expect(first?.port).toBe(8000);
    expect(cachedSiblingSettings(d, ns, DEFAULT_CLUSTER_CONFIG)).toBe(first);
  });

  it("resolves a new version of the Deployment (a new object) again", () => {
    cachedSiblingSettings(model("8000"), ns, DEFAULT_CLUSTER_CONFIG);
    expect(cachedSiblingSettings(model("9000"), ns, DEFAULT_CLUSTER_CONFIG)?.port).toBe(9000);
  });

  it("resolves again under other namespace settings", () => {
    const d = model("8000");
    cachedSiblingSettings(d, ns, DEFAULT_CLUSTER_CONFIG);
    const other = { ...ns, basePath: "/models" };
    expect(cachedSiblingSettings(d, other, DEFAULT_CLUSTER_CONFIG)?.path).toBe("/models/model");
  });
});
