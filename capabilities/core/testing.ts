// Builders shared by the core's specs: one place that says what typical settings look like.
import { BUILT_IN_PROFILES, type NamespaceSettings } from "./config";
import { DEFAULT_PORT, MLSERVER_GRPC_PORT, MLSERVER_METRICS_PORT, type WorkloadKind } from "./constants";
import type { V1Deployment } from "./types";
import type { WorkloadSettings } from "./workload";

export const TEST_TENANT = "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01";

const APP_OF: Record<WorkloadKind, string> = { mlserver: "model", librechat: "chat", "oauth2-proxy": "login" };

/** Namespace `ai` with a host, a gateway and a tenant, and no JWT requirement. */
export function namespaceSettings(over: Partial<NamespaceSettings> = {}): NamespaceSettings {
  return {
    name: "ai",
    host: "ai.example.com",
    gateway: "istio-system/ai-workloads-gateway",
    basePath: "/apps",
    tenantId: TEST_TENANT,
    requestAuth: false,
    requireJwt: false,
    allowSameNamespace: true,
    activatedByNamespace: false,
    ...over,
  };
}

/** What resolveWorkload gives for an unannotated Deployment of `kind` (path, names and selector follow `app`). */
export function workloadSettings(
  kind: WorkloadKind,
  over: Partial<Omit<WorkloadSettings, "ns" | "kind">> = {},
  ns: Partial<NamespaceSettings> = {},
): WorkloadSettings {
  const app = over.app ?? APP_OF[kind];
  const namespace = over.namespace ?? ns.name ?? "ai";
  return {
    app,
    namespace,
    kind,
    containerIndex: 0,
    port: DEFAULT_PORT[kind],
    grpcPort: MLSERVER_GRPC_PORT,
    metricsPort: MLSERVER_METRICS_PORT,
    expose: true,
    path: `/apps/${app}`,
    publicPaths: kind === "oauth2-proxy" ? ["/*"] : [],
    autoscale: kind === "mlserver" ? { min: 1, max: 10 } : "off",
    autoscaleCpu: 60,
    profileName: "default",
    profile: BUILT_IN_PROFILES.default,
    settingsConfigMap: `${app}-settings`,
    selector: { app },
    ...over,
    ns: namespaceSettings({ name: namespace, ...ns }),
  };
}

/** What the API server stores for what admission wrote: its defaulting and canonical quantities. */
export function asStored(d: V1Deployment): V1Deployment {
  const out = structuredClone(d);
  const pod = out.spec!.template.spec!;
  for (const v of pod.volumes ?? []) if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = 420;
  for (const c of pod.containers) {
    for (const p of c.ports ?? []) p.protocol ??= "TCP";
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      if (!probe) continue;
      if (probe.httpGet) probe.httpGet.scheme ??= "HTTP";
      probe.timeoutSeconds ??= 1;
      probe.periodSeconds ??= 10;
      probe.successThreshold ??= 1;
      probe.failureThreshold ??= 3;
    }
    for (const part of ["requests", "limits"] as const) {
      const q = c.resources?.[part];
      for (const [k, v] of Object.entries(q ?? {}))
        q![k] = ({ "0.5": "500m", "1024Mi": "1Gi", "1": "1" } as Record<string, string>)[v] ?? v;
    }
  }
  return out;
}
