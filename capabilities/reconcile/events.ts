// Kubernetes Events the reconciler writes (SPEC §7, §12): CompanionsApplied, and the warnings.
import type { KubeObject } from "../core/types";

export type Reason = "CompanionsApplied" | "CompanionConflict" | "ConfigError" | "CompanionFailed" | "RouteConflict" | "SettingsConflict";

export interface Involved {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export function buildEvent(on: Involved, reason: Reason, message: string, now: Date): KubeObject {
  const time = now.toISOString().replace(/\.\d+Z$/, "Z");
  return {
    apiVersion: "v1",
    kind: "Event",
    // Events of a cluster-scoped object (a Namespace) must live in `default`; describe finds them there.
    metadata: { generateName: `${on.name}.`, namespace: on.namespace ?? "default" },
    involvedObject: { apiVersion: on.apiVersion, kind: on.kind, name: on.name, namespace: on.namespace, uid: on.uid },
    reason,
    // Event messages are capped at 1 KiB by the API server.
    message: message.length > 1000 ? `${message.slice(0, 997)}...` : message,
    type: reason === "CompanionsApplied" ? "Normal" : "Warning",
    source: { component: "ai-workloads" },
    reportingComponent: "ai-workloads",
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  } as KubeObject;
}
