// Kubernetes Events the reconciler writes (SPEC §7, §12): CompanionsApplied, and the warnings.
import { REPORTING_COMPONENT } from "../core/constants";
import type { KubeObject } from "../core/types";

export type Reason =
  | "CompanionsApplied"
  | "CompanionConflict"
  | "ConfigError"
  | "CompanionFailed"
  | "RouteConflict"
  | "SettingsConflict"
  | "DefaultsOutdated";

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
    message: storedMessage(message),
    type: reason === "CompanionsApplied" ? "Normal" : "Warning",
    source: { component: REPORTING_COMPONENT },
    reportingComponent: REPORTING_COMPONENT,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  } as KubeObject;
}

/** Event messages are capped at 1 KiB by the API server. */
const storedMessage = (message: string): string => (message.length > 1000 ? `${message.slice(0, 997)}...` : message);

/** What makes two Events the same report: where, why and what. */
export const eventSignature = (on: Involved, reason: string, message: string): string =>
  JSON.stringify([on.namespace ?? "", on.kind, on.name, reason, storedMessage(message)]);

/** The signature of an Event as the API server returns it. */
export function storedSignature(event: KubeObject): string {
  const e = event as KubeObject & { involvedObject?: Partial<Involved>; reason?: string; message?: string };
  const on = e.involvedObject ?? {};
  return eventSignature(
    { apiVersion: "", kind: on.kind ?? "", name: on.name ?? "", namespace: on.namespace },
    e.reason ?? "",
    e.message ?? "",
  );
}
