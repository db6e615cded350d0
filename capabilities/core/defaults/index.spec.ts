import { describe, expect, it } from "@jest/globals";
import type { V1Container, V1PodTemplateSpec } from "@kubernetes/client-node";
import type { InfraProfile } from "../config";
import type { WorkloadKind } from "../constants";
import type { V1Deployment } from "../types";
import type { WorkloadSettings } from "../workload";
import { applyDefaults } from "./index";
import { workloadSettings } from "../testing";

const GPU_SMALL: InfraProfile = {
  resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { memory: "16Gi", "nvidia.com/gpu": "1" } },
  nodeSelector: { workload: "gpu" },
  tolerations: [{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
};

const PORTS: Record<WorkloadKind, number> = { mlserver: 8000, librechat: 3000, "oauth2-proxy": 4180 };

const settings = (kind: WorkloadKind, over: Partial<Omit<WorkloadSettings, "ns" | "kind">> = {}): WorkloadSettings =>
  workloadSettings(
    kind,
    {
      app: "app",
      ...(kind === "oauth2-proxy" ? { upstream: "http://web.ai.svc.cluster.local:3000", oauth2Secret: "app-oauth2" } : {}),
      ...(kind === "librechat" ? { openaiBackend: "http://runtime.ai.svc.cluster.local:8000/v1" } : {}),
      ...over,
    },
    { gateway: "istio-system/gw" },
  );

function deployment(
  kind: WorkloadKind,
  containers: V1Container[] = [{ name: "main", image: "img" }],
  templateMeta?: V1PodTemplateSpec["metadata"],
): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "app",
      namespace: "ai",
      labels: { "ai-workloads.io/kind": kind },
      annotations: { "ai-workloads.io/port": String(PORTS[kind]) },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "app" } },
      template: { ...(templateMeta === undefined ? {} : { metadata: templateMeta }), spec: { containers } },
    },
  };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object") {
    Object.values(o as object).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}

const KINDS: WorkloadKind[] = ["mlserver", "librechat", "oauth2-proxy"];

describe("applyDefaults", () => {
  it.each(KINDS)("labels the %s pod template app.kubernetes.io/component: <kind>, keeping its labels", kind => {
    const out = applyDefaults(deployment(kind, undefined, { labels: { app: "app" } }), settings(kind));
    expect(out.spec?.template.metadata?.labels).toEqual({ app: "app", "app.kubernetes.io/component": kind });
  });

  it("keeps the user's app.kubernetes.io/component label", () => {
    const out = applyDefaults(
      deployment("mlserver", undefined, { labels: { "app.kubernetes.io/component": "model-server" } }),
      settings("mlserver"),
    );
    expect(out.spec?.template.metadata?.labels).toEqual({ "app.kubernetes.io/component": "model-server" });
  });

  it("creates the pod template metadata when it is absent", () => {
    const out = applyDefaults(deployment("librechat"), settings("librechat"));
    expect(out.spec?.template.metadata).toEqual({
      labels: { "app.kubernetes.io/component": "librechat" },
      annotations: { "ai-workloads.io/infra-profile": "default" },
    });
  });

  it("annotates the pod template ai-workloads.io/infra-profile: <profile>, keeping its annotations", () => {
    const out = applyDefaults(
      deployment("mlserver", undefined, { annotations: { "prometheus.io/scrape": "true" } }),
      settings("mlserver", { profileName: "gpu-small", profile: GPU_SMALL }),
    );
    expect(out.spec?.template.metadata?.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "ai-workloads.io/infra-profile": "gpu-small",
    });
  });

  it("applies the infra profile to the primary container and the pod", () => {
    const out = applyDefaults(deployment("mlserver"), settings("mlserver", { profileName: "gpu-small", profile: GPU_SMALL }));
    const pod = out.spec!.template.spec!;
    expect(pod.containers[0].resources).toEqual({
      requests: { cpu: "2", memory: "8Gi" },
      limits: { memory: "16Gi", "nvidia.com/gpu": "1" },
    });
    expect(pod.nodeSelector).toEqual({ workload: "gpu" });
    expect(pod.tolerations).toEqual([{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }]);
  });

  it("fills the container named by containerIndex and leaves the others alone", () => {
    const containers = [
      { name: "sidecar", image: "envoy" },
      { name: "server", image: "mlserver" },
    ];
    const out = applyDefaults(deployment("mlserver", containers), settings("mlserver", { containerIndex: 1 }));
    const [sidecar, server] = out.spec!.template.spec!.containers;
    expect(sidecar).toEqual({ name: "sidecar", image: "envoy" });
    expect(server.command).toEqual(["mlserver", "start", "/mnt/models"]);
    expect(server.resources).toEqual({ requests: { cpu: "100m", memory: "256Mi" } });
  });

  it("leaves the Deployment's own metadata and replicas unchanged", () => {
    const input = deployment("librechat");
    const out = applyDefaults(input, settings("librechat"));
    expect(out.metadata).toEqual(input.metadata);
    expect(out.spec?.replicas).toBe(2);
    expect(out.spec?.selector).toEqual({ matchLabels: { app: "app" } });
  });

  it.each(KINDS)("does not mutate the %s input and returns a new object", kind => {
    const input = deployment(
      kind,
      [{ name: "main", image: "img", env: [{ name: "A", value: "1" }], ports: [{ containerPort: PORTS[kind] }] }],
      { labels: { app: "app" } },
    );
    const copy = structuredClone(input);
    deepFreeze(input);
    const out = applyDefaults(input, settings(kind));
    expect(input).toEqual(copy);
    expect(out).not.toBe(input);
  });

  it.each(KINDS)("applying the %s defaults twice equals applying them once", kind => {
    const s = settings(kind, { profileName: "gpu-small", profile: GPU_SMALL });
    const once = applyDefaults(deployment(kind, undefined, { labels: { app: "app" } }), s);
    expect(applyDefaults(once, s)).toEqual(once);
  });

  it.each(KINDS)("gives byte-identical %s output for the same input", kind => {
    const a = applyDefaults(deployment(kind), settings(kind));
    const b = applyDefaults(deployment(kind), settings(kind));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it("output does not share nested objects with the profile it was given", () => {
    const profile = structuredClone(GPU_SMALL);
    const out = applyDefaults(deployment("mlserver"), settings("mlserver", { profileName: "gpu-small", profile }));
    out.spec!.template.spec!.containers[0].resources!.requests!.cpu = "999";
    expect(profile.resources?.requests?.cpu).toBe("2");
  });
});
