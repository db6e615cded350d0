import { describe, expect, it } from "@jest/globals";
import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import { applyMlserverDefaults } from "./defaults/mlserver";
import { readsSettingsConfigMap, settingsConflicts } from "./mlserver-settings";
import { formatProblem, deny } from "./problems";
import { workloadSettings } from "./testing";
import type { V1Deployment } from "./types";
import type { WorkloadSettings } from "./workload";

const model = (over: Partial<WorkloadSettings> = {}): WorkloadSettings => workloadSettings("mlserver", over);

/** The findings as the reconciler writes them, one line each. */
const lines = (text: string, s: WorkloadSettings = model()): string[] =>
  settingsConflicts(text, s).map(f => formatProblem(deny(`${s.namespace}/${s.app}`, f)));

describe("settingsConflicts", () => {
  it("finds nothing in settings that agree with the pod, or that leave ports and host out", () => {
    expect(lines("{}")).toEqual([]);
    expect(lines('{"debug": true, "parallel_workers": 0}')).toEqual([]);
    expect(lines('{"http_port": 8000, "grpc_port": 8081, "metrics_port": 8082, "host": "0.0.0.0"}')).toEqual([]);
    // pydantic takes a string of digits as the number.
    expect(lines('{"http_port": "8000"}')).toEqual([]);
    expect(lines('{"http_port": 9000, "grpc_port": 9001}', model({ port: 9000, grpcPort: 9001 }))).toEqual([]);
  });

  it("names the key, the port the pod expects and the fix", () => {
    expect(lines('{"http_port": 9000}')).toEqual([
      'ai/model: model-settings/settings.json: http_port: is 9000, but the pod serves HTTP on 8000 (MLSERVER_HTTP_PORT); remove http_port from settings.json or set ai-workloads.io/port: "9000"',
    ]);
    expect(lines('{"grpc_port": 9001, "metrics_port": "9002"}', model({ settingsConfigMap: "cfg" }))).toEqual([
      'ai/model: cfg/settings.json: grpc_port: is 9001, but the pod serves gRPC on 8081 (MLSERVER_GRPC_PORT); remove grpc_port from settings.json or set the container\'s env MLSERVER_GRPC_PORT to "9001"',
      'ai/model: cfg/settings.json: metrics_port: is "9002", but the pod serves metrics on 8082 (MLSERVER_METRICS_PORT); remove metrics_port from settings.json or set the container\'s env MLSERVER_METRICS_PORT to "9002"',
    ]);
  });

  it("does not suggest following a port the module cannot use for that purpose", () => {
    expect(lines('{"http_port": 8081}')).toEqual([
      "ai/model: model-settings/settings.json: http_port: is 8081, but the pod serves HTTP on 8000 (MLSERVER_HTTP_PORT); remove http_port from settings.json or set it to 8000",
    ]);
    expect(lines('{"metrics_port": null, "grpc_port": "x"}')).toEqual([
      'ai/model: model-settings/settings.json: grpc_port: is "x", but the pod serves gRPC on 8081 (MLSERVER_GRPC_PORT); remove grpc_port from settings.json or set it to 8081',
      "ai/model: model-settings/settings.json: metrics_port: is null, but the pod serves metrics on 8082 (MLSERVER_METRICS_PORT); remove metrics_port from settings.json or set it to 8082",
    ]);
  });

  it("wants host absent or 0.0.0.0", () => {
    expect(lines('{"host": "127.0.0.1"}')).toEqual([
      'ai/model: model-settings/settings.json: host: is "127.0.0.1", but MLServer must listen on all addresses (0.0.0.0) for the Service and the probes to reach it; remove host from settings.json or set it to "0.0.0.0"',
    ]);
  });

  it("reports text MLServer cannot read, on one line", () => {
    const [line] = lines('{"http_port": 9000,\n');
    expect(line).toMatch(
      /^ai\/model: model-settings\/settings.json: is not valid JSON \(.+\); correct it: MLServer does not start on a settings.json it cannot read$/,
    );
    expect(line).not.toContain("\n");
    expect(lines("")).toHaveLength(1);
    expect(lines("[8000]")).toEqual([
      "ai/model: model-settings/settings.json: is [8000], not a JSON object; make it a JSON object of MLServer settings, or remove settings.json from the ConfigMap",
    ]);
  });
});

describe("readsSettingsConfigMap", () => {
  /** A stored mlserver Deployment as admission filled it, after `edit` of its pod. */
  function stored(edit: (pod: V1PodSpec, c: V1Container) => void = () => undefined, s = model()): V1Deployment {
    const pod: V1PodSpec = { containers: [{ name: "main", image: "seldonio/mlserver:1.6.1" }] };
    applyMlserverDefaults(pod, pod.containers[0], s);
    edit(pod, pod.containers[0]);
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "model", namespace: "ai" },
      spec: { selector: {}, template: { spec: pod } },
    };
  }

  it("holds for the module's settings mount from the settings ConfigMap", () => {
    expect(readsSettingsConfigMap(stored(), model())).toBe(true);
    expect(
      readsSettingsConfigMap(
        stored(pod => (pod.containers[0].command = undefined)),
        model(),
      ),
    ).toBe(true);
    expect(
      readsSettingsConfigMap(
        stored(pod => (pod.containers[0].command = ["sh", "-c", "exec mlserver start /mnt/models/"])),
        model(),
      ),
    ).toBe(true);
  });

  it("does not hold when the user mounted something else at /mnt/models, or MLServer starts elsewhere", () => {
    const s = model();
    const other = stored(pod => {
      pod.volumes = [{ name: "models", persistentVolumeClaim: { claimName: "models" } }];
      pod.containers[0].volumeMounts = [{ name: "models", mountPath: "/mnt/models/" }];
    });
    expect(readsSettingsConfigMap(other, s)).toBe(false);
    // The volume of that name made from another ConfigMap (the annotation changed, admission did not run).
    expect(
      readsSettingsConfigMap(
        stored(pod => (pod.volumes![0].configMap!.name = "old-settings")),
        s,
      ),
    ).toBe(false);
    expect(
      readsSettingsConfigMap(
        stored(pod => (pod.containers[0].volumeMounts![0].subPath = "x")),
        s,
      ),
    ).toBe(false);
    expect(
      readsSettingsConfigMap(
        stored(pod => (pod.containers[0].command = ["mlserver", "start", "/models"])),
        s,
      ),
    ).toBe(false);
    expect(readsSettingsConfigMap(stored(), workloadSettings("librechat"))).toBe(false);
  });
});
