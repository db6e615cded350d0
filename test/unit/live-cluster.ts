// An in-memory cluster in which `status` and `diff` meet every state (SPEC §14.4), built by the
// reconciler itself and then changed behind its back, as a user or another controller would.
//
// Namespace `ai` (host, gateway, tenant, request-auth, require-jwt with same namespace exempt):
//   model   mlserver, admitted, public paths, all companions ok    → defaults current
//   chat    librechat, admitted under profile `team` of config A;
//           config B changed `team`; its Service deleted           → missing, outdated
//   legacy  mlserver stored without the module (no record);
//           its HPA's maxReplicas edited by someone                → drifted, never-admitted
//   web     mlserver; a Service `web` was there before, unlabelled → conflict
//   api     mlserver; the API server refuses its Service           → failed
//   broken  mlserver on profile `gone`, which config B dropped     → unresolved, objects kept
//   plus a managed Service `old` whose app is gone                 → a prune
// Namespace `quiet`: one app, all ok.
import { type ClusterConfig, parseClusterConfig } from "../../capabilities/core/config";
import { admitDeployment } from "../../capabilities/core/plan";
import { resolveNamespace } from "../../capabilities/core/config";
import { TEST_TENANT, asStored } from "../../capabilities/core/testing";
import type { KubeObject, V1Deployment } from "../../capabilities/core/types";
import { FakeCluster } from "../../capabilities/reconcile/fake-cluster";
import { Reconciler } from "../../capabilities/reconcile/reconciler";

export const NOW = new Date("2026-11-27T12:00:00Z");
const LATER = new Date("2026-11-27T12:05:00Z");
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

export const CONFIG_A = `infraProfiles:
  team: { resources: { requests: { cpu: 500m, memory: 1Gi } } }
  gone: { resources: { requests: { cpu: 250m, memory: 512Mi } } }
`;
/** `team` asks for more CPU now, and `gone` is gone. */
export const CONFIG_B = `infraProfiles:
  team: { resources: { requests: { cpu: "1", memory: 1Gi } } }
`;

export const AI_ANNOTATIONS = {
  "ai-workloads.io/host": "ai.example.com",
  "ai-workloads.io/gateway": "istio-system/ai-workloads-gateway",
  "ai-workloads.io/aad-tenant-id": TEST_TENANT,
  "ai-workloads.io/request-auth": "true",
  "ai-workloads.io/require-jwt": "true",
  "ai-workloads.io/allow-same-namespace": "true",
};

const parsed = (text: string): ClusterConfig => {
  const r = parseClusterConfig(text);
  if (!r.ok) throw new Error(`bad test config: ${JSON.stringify(r.findings)}`);
  return r.config;
};

export function deployment(namespace: string, name: string, kind: string, annotations: Record<string, string> = {}): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { "ai-workloads.io/kind": kind }, annotations },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "img:1" }] } },
    },
  };
}

/** Stores a Deployment as admission would have (defaults and record), under `config`. */
function admitted(cluster: FakeCluster, d: V1Deployment, config: ClusterConfig, created: string): KubeObject {
  const ns = cluster.find("Namespace", undefined as unknown as string, d.metadata!.namespace!);
  const settings = resolveNamespace(d.metadata!.namespace!, ns?.metadata?.annotations, config).settings;
  const stored = asStored(admitDeployment(d, settings, config, []).mutated);
  stored.metadata = { ...stored.metadata, creationTimestamp: created as unknown as Date };
  return cluster.put(stored as KubeObject);
}

const putConfig = (cluster: FakeCluster, text: string): KubeObject =>
  cluster.put({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "ai-workloads-config", namespace: "pepr-system" },
    data: { "config.yaml": text },
  });

export function liveCluster(): FakeCluster {
  const cluster = new FakeCluster();
  cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "ai", annotations: AI_ANNOTATIONS } });
  cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "quiet" } });
  putConfig(cluster, CONFIG_A);
  const a = parsed(CONFIG_A);
  const t = (n: number): string => `2026-11-27T11:0${n}:00Z`;
  admitted(cluster, deployment("ai", "model", "mlserver", { "ai-workloads.io/public-paths": "/docs,/v2/health/*" }), a, t(1));
  admitted(cluster, deployment("ai", "chat", "librechat", { "ai-workloads.io/infra-profile": "team" }), a, t(2));
  const legacy = deployment("ai", "legacy", "mlserver");
  legacy.metadata!.creationTimestamp = t(3) as unknown as Date;
  cluster.put(legacy as KubeObject);
  admitted(cluster, deployment("ai", "web", "mlserver"), a, t(4));
  admitted(cluster, deployment("ai", "api", "mlserver"), a, t(5));
  admitted(cluster, deployment("ai", "broken", "mlserver", { "ai-workloads.io/infra-profile": "gone" }), a, t(6));
  admitted(cluster, deployment("quiet", "solo", "mlserver"), a, t(7));
  // Someone's Service, stored before the app: the module leaves it alone.
  cluster.put({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "ai", labels: { team: "web" } },
    spec: { ports: [{ port: 80 }] },
  });
  // A webhook or a ValidatingAdmissionPolicy that refuses one Service.
  cluster.refuse.set("Service/ai/api", 'services "api" is forbidden: ValidatingAdmissionPolicy refuses it');
  return cluster;
}

/** The cluster after the reconciler ran under config A, then under config B, then the changes behind its back. */
export async function settledLiveCluster(): Promise<FakeCluster> {
  const cluster = liveCluster();
  const first = new Reconciler(cluster, quiet, () => NOW);
  await first.loadConfig();
  await first.reconcileNamespace("ai");
  await first.reconcileNamespace("quiet");
  putConfig(cluster, CONFIG_B);
  const second = new Reconciler(cluster, quiet, () => LATER);
  await second.loadConfig();
  await second.reconcileNamespace("ai");
  await second.reconcileNamespace("quiet");
  // Behind the reconciler's back: a Service deleted, an HPA edited, a leftover of an app that is gone.
  cluster.remove("Service", "ai", "chat");
  const hpa = cluster.find("HorizontalPodAutoscaler", "ai", "legacy")!;
  (hpa.spec as { maxReplicas: number }).maxReplicas = 3;
  hpa.metadata = {
    ...hpa.metadata,
    resourceVersion: "4711",
    managedFields: [{ manager: "kubectl-edit", operation: "Update" }],
  } as KubeObject["metadata"];
  hpa.status = { currentReplicas: 1, desiredReplicas: 1 };
  cluster.put({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "old",
      namespace: "ai",
      labels: { "app.kubernetes.io/managed-by": "ai-workloads", "ai-workloads.io/app": "old" },
    },
    spec: { selector: { app: "old" }, ports: [{ name: "http", port: 8000, targetPort: "http" }] },
  });
  return cluster;
}
