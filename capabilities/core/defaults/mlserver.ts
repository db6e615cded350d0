import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import { MLSERVER_MODELS_PATH, MLSERVER_SETTINGS_VOLUME } from "../constants";
import type { WorkloadSettings } from "../workload";
import { LIVENESS, READINESS, appended, ensureEnv, ensureNamedPort, ensureProbe, httpProbe } from "./container";

/** MLServer serves the folder it is started on; its settings come from that folder. */
export function applyMlserverDefaults(pod: V1PodSpec, c: V1Container, s: WorkloadSettings): void {
  if (c.command === undefined && c.args === undefined) c.command = ["mlserver", "start", MLSERVER_MODELS_PATH];
  const http = ensureNamedPort(c, s.port, "http");
  ensureNamedPort(c, s.metricsPort, "metrics");
  ensureNamedPort(c, s.grpcPort, "grpc");
  ensureEnv(c, { name: "MLSERVER_HTTP_PORT", value: String(s.port) });
  ensureEnv(c, { name: "MLSERVER_METRICS_PORT", value: String(s.metricsPort) });
  ensureEnv(c, { name: "MLSERVER_GRPC_PORT", value: String(s.grpcPort) });
  if (http) {
    ensureProbe(c, "livenessProbe", httpProbe("/v2/health/live", http, LIVENESS));
    ensureProbe(c, "readinessProbe", httpProbe("/v2/health/ready", http, READINESS));
    // MLServer answers `live` within seconds, before any model is loaded: the startup probe waits
    // for `ready`, ten minutes for the models to load before liveness starts counting.
    ensureProbe(c, "startupProbe", httpProbe("/v2/health/ready", http, { periodSeconds: 10, failureThreshold: 60 }));
  }
  const mounted = (c.volumeMounts ?? []).some(m => m.mountPath.replace(/\/+$/, "") === MLSERVER_MODELS_PATH);
  if (!mounted) {
    if (!(pod.volumes ?? []).some(v => v.name === MLSERVER_SETTINGS_VOLUME)) {
      pod.volumes = appended(pod.volumes, { name: MLSERVER_SETTINGS_VOLUME, configMap: { name: s.settingsConfigMap, optional: true } });
    }
    c.volumeMounts = appended(c.volumeMounts, { name: MLSERVER_SETTINGS_VOLUME, mountPath: MLSERVER_MODELS_PATH, readOnly: true });
  }
}
