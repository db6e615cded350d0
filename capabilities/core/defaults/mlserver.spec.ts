import { describe, expect, it } from "@jest/globals";
import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import type { V1Deployment } from "../types";
import type { WorkloadSettings } from "../workload";
import { applyDefaults } from "./index";
import { applyMlserverDefaults } from "./mlserver";
import { workloadSettings } from "../testing";

const settings = ({ ns, kind: _kind, ...over }: Partial<WorkloadSettings> = {}): WorkloadSettings =>
  workloadSettings("mlserver", { profile: {}, ...over }, { host: undefined, gateway: undefined, tenantId: undefined, ...ns });

const container = (over: Partial<V1Container> = {}): V1Container => ({ name: "main", image: "seldonio/mlserver:1.6.1", ...over });

/** Runs the mlserver defaults on a fresh pod holding `c`; returns the pod. */
function run(c: V1Container, over: Partial<WorkloadSettings> = {}, podOver: Partial<V1PodSpec> = {}): V1PodSpec {
  const pod: V1PodSpec = { ...podOver, containers: [c] };
  applyMlserverDefaults(pod, pod.containers[0], settings(over));
  return pod;
}

function deployment(c: V1Container, podOver: Partial<V1PodSpec> = {}): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "model", namespace: "ai", labels: { "ai-workloads.io/kind": "mlserver" } },
    spec: {
      selector: { matchLabels: { app: "model" } },
      template: { metadata: { labels: { app: "model" } }, spec: { ...podOver, containers: [c] } },
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

const LIVE = { httpGet: { path: "/v2/health/live", port: "http" }, initialDelaySeconds: 10, periodSeconds: 15, timeoutSeconds: 2 };
const READY = { httpGet: { path: "/v2/health/ready", port: "http" }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2 };
// The startup probe waits for a model (`ready`): `live` answers within seconds of the start.
const STARTUP = { httpGet: { path: "/v2/health/ready", port: "http" }, periodSeconds: 10, failureThreshold: 60 };

describe("mlserver defaults", () => {
  it("fills a bare container with every SPEC §4 default", () => {
    const pod = run(container());
    expect(pod.containers[0]).toEqual({
      name: "main",
      image: "seldonio/mlserver:1.6.1",
      command: ["mlserver", "start", "/mnt/models"],
      ports: [
        { name: "http", containerPort: 8000 },
        { name: "metrics", containerPort: 8082 },
        { name: "grpc", containerPort: 8081 },
      ],
      env: [
        { name: "MLSERVER_HTTP_PORT", value: "8000" },
        { name: "MLSERVER_METRICS_PORT", value: "8082" },
        { name: "MLSERVER_GRPC_PORT", value: "8081" },
      ],
      livenessProbe: LIVE,
      readinessProbe: READY,
      startupProbe: STARTUP,
      volumeMounts: [{ name: "mlserver-settings", mountPath: "/mnt/models", readOnly: true }],
    });
    expect(pod.volumes).toEqual([{ name: "mlserver-settings", configMap: { name: "model-settings", optional: true } }]);
  });

  it('sets command ["mlserver", "start", "/mnt/models"] when neither command nor args is set', () => {
    expect(run(container()).containers[0].command).toEqual(["mlserver", "start", "/mnt/models"]);
  });

  it("keeps the user's command", () => {
    const c = run(container({ command: ["python", "serve.py"] })).containers[0];
    expect(c.command).toEqual(["python", "serve.py"]);
    expect(c.args).toBeUndefined();
  });

  it("adds no command when only args are set", () => {
    const c = run(container({ args: ["mlserver", "start", "/models"] })).containers[0];
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(["mlserver", "start", "/models"]);
  });

  it("serves on the annotated port: port http and MLSERVER_HTTP_PORT follow it", () => {
    const c = run(container(), { port: 9000 }).containers[0];
    expect(c.ports).toEqual([
      { name: "http", containerPort: 9000 },
      { name: "metrics", containerPort: 8082 },
      { name: "grpc", containerPort: 8081 },
    ]);
    expect(c.env).toContainEqual({ name: "MLSERVER_HTTP_PORT", value: "9000" });
  });

  it('keeps a user port named "web" on the app port and points the probes at "web"', () => {
    const c = run(container({ ports: [{ name: "web", containerPort: 8000 }] })).containers[0];
    expect(c.ports).toEqual([
      { name: "web", containerPort: 8000 },
      { name: "metrics", containerPort: 8082 },
      { name: "grpc", containerPort: 8081 },
    ]);
    expect(c.livenessProbe?.httpGet?.port).toBe("web");
    expect(c.readinessProbe?.httpGet?.port).toBe("web");
    expect(c.startupProbe?.httpGet?.port).toBe("web");
  });

  it('names an unnamed user port on the app port "http" without changing its number', () => {
    const c = run(container({ ports: [{ containerPort: 8000 }] })).containers[0];
    expect(c.ports?.[0]).toEqual({ name: "http", containerPort: 8000 });
  });

  it("keeps the user's name for the metrics port", () => {
    const c = run(container({ ports: [{ name: "prom", containerPort: 8082 }] })).containers[0];
    expect(c.ports).toEqual([
      { name: "prom", containerPort: 8082 },
      { name: "http", containerPort: 8000 },
      { name: "grpc", containerPort: 8081 },
    ]);
  });

  it("keeps the user's liveness probe and still adds the others", () => {
    const mine = { exec: { command: ["true"] }, periodSeconds: 30 };
    const c = run(container({ livenessProbe: mine })).containers[0];
    expect(c.livenessProbe).toEqual(mine);
    expect(c.readinessProbe).toEqual(READY);
    expect(c.startupProbe).toEqual(STARTUP);
  });

  it("keeps the user's startup probe", () => {
    const mine = { tcpSocket: { port: 8000 }, failureThreshold: 5, periodSeconds: 3 };
    expect(run(container({ startupProbe: mine })).containers[0].startupProbe).toEqual(mine);
  });

  it("keeps the user's MLSERVER_HTTP_PORT and adds no second entry", () => {
    const c = run(container({ env: [{ name: "MLSERVER_HTTP_PORT", value: "1234" }] })).containers[0];
    expect(c.env).toEqual([
      { name: "MLSERVER_HTTP_PORT", value: "1234" },
      { name: "MLSERVER_METRICS_PORT", value: "8082" },
      { name: "MLSERVER_GRPC_PORT", value: "8081" },
    ]);
  });

  it("keeps other user env vars first", () => {
    const c = run(container({ env: [{ name: "MLSERVER_MODEL_NAME", value: "m" }] })).containers[0];
    expect(c.env?.[0]).toEqual({ name: "MLSERVER_MODEL_NAME", value: "m" });
  });

  it("mounts the settings ConfigMap named by settings-configmap", () => {
    const pod = run(container(), { settingsConfigMap: "shared-settings" });
    expect(pod.volumes).toEqual([{ name: "mlserver-settings", configMap: { name: "shared-settings", optional: true } }]);
  });

  it("adds no settings volume when something is mounted at /mnt/models", () => {
    const mounts = [{ name: "models", mountPath: "/mnt/models" }];
    const volumes = [{ name: "models", persistentVolumeClaim: { claimName: "models" } }];
    const pod = run(container({ volumeMounts: mounts }), {}, { volumes });
    expect(pod.containers[0].volumeMounts).toEqual(mounts);
    expect(pod.volumes).toEqual(volumes);
  });

  it("treats a mount at /mnt/models/ as mounted at /mnt/models", () => {
    const pod = run(
      container({ volumeMounts: [{ name: "models", mountPath: "/mnt/models/" }] }),
      {},
      { volumes: [{ name: "models", emptyDir: {} }] },
    );
    expect(pod.volumes?.map(v => v.name)).toEqual(["models"]);
    expect(pod.containers[0].volumeMounts).toHaveLength(1);
  });

  it("keeps other mounts and volumes and adds the settings ones after them", () => {
    const pod = run(
      container({ volumeMounts: [{ name: "cache", mountPath: "/cache" }] }),
      {},
      { volumes: [{ name: "cache", emptyDir: {} }] },
    );
    expect(pod.volumes).toEqual([
      { name: "cache", emptyDir: {} },
      { name: "mlserver-settings", configMap: { name: "model-settings", optional: true } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: "cache", mountPath: "/cache" },
      { name: "mlserver-settings", mountPath: "/mnt/models", readOnly: true },
    ]);
  });

  it("does not mutate the input Deployment (applyDefaults)", () => {
    const input = deployment(container({ env: [{ name: "A", value: "1" }] }));
    const copy = structuredClone(input);
    deepFreeze(input);
    const out = applyDefaults(input, settings());
    expect(input).toEqual(copy);
    expect(out).not.toEqual(copy);
  });

  it("applying the defaults twice equals applying them once", () => {
    const once = applyDefaults(deployment(container()), settings());
    expect(applyDefaults(once, settings())).toEqual(once);
  });

  it("gives byte-identical output for the same input", () => {
    const a = applyDefaults(deployment(container()), settings());
    const b = applyDefaults(deployment(container()), settings());
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});
