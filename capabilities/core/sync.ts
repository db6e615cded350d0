// Keeping companions in step (SPEC §7), as plain functions: what a namespace should hold given
// what the API server returned, and which writes bring it there. The reconciler does the I/O.
import { equals } from "ramda";
import { APP_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "./constants";
import { type ClusterConfig, resolveNamespace } from "./config";
import { planNamespace, type PlannedApp } from "./plan";
import type { Problem } from "./problems";
import type { Companion, KubeObject, V1Deployment } from "./types";
import { resolveWorkload } from "./workload";

export interface Wanted {
  companions: Companion[];
  /** Managed Deployments that no longer resolve (e.g. their profile left the config): their objects are kept. */
  unresolved: { deployment: V1Deployment; problems: Problem[] }[];
  /** Malformed Namespace annotations stored before the module was installed. */
  namespaceProblems: Problem[];
}

/** The companions a namespace should hold, from its stored Namespace annotations and managed Deployments. */
export function wantedCompanions(
  namespace: string,
  annotations: Record<string, string> | undefined,
  config: ClusterConfig,
  deployments: readonly V1Deployment[],
): Wanted {
  const ns = resolveNamespace(namespace, annotations, config);
  const apps: PlannedApp[] = [];
  const unresolved: Wanted["unresolved"] = [];
  for (const d of [...deployments].sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1))) {
    const { settings, problems } = resolveWorkload(d, ns.settings, config);
    if (settings) apps.push({ settings, deployment: d, owner: { name: settings.app, uid: d.metadata?.uid ?? "" } });
    else unresolved.push({ deployment: d, problems });
  }
  return { companions: planNamespace(ns.settings, apps), unresolved, namespaceProblems: ns.problems };
}

export const isManagedObject = (o: KubeObject): boolean => o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;

export const objectKey = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }): string =>
  `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`;

/**
 * True when every field the module sets has the wanted value in the live object. Fields the
 * API server or others add are ignored; lists must match element by element, since the
 * module owns each list it sets as a whole.
 */
export function isUpToDate(wanted: unknown, live: unknown): boolean {
  if (Array.isArray(wanted)) {
    return Array.isArray(live) && live.length === wanted.length && wanted.every((w, i) => isUpToDate(w, live[i]));
  }
  if (wanted !== null && typeof wanted === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live)) return false;
    return Object.entries(wanted).every(([k, v]) => isUpToDate(v, (live as Record<string, unknown>)[k]));
  }
  return equals(wanted, live);
}

export interface SyncPlan {
  /** Missing or drifted: server-side apply these. */
  apply: Companion[];
  /** Managed objects no longer wanted: delete these. */
  prune: KubeObject[];
  /** A wanted name held by an object the module did not create: left alone and reported. */
  conflicts: { wanted: Companion; existing: KubeObject }[];
}

/**
 * `managed` are the live objects labelled as the module's; `others` are live objects that hold
 * a wanted name without that label. Objects of `keepApps` are never pruned.
 */
export function planSync(
  wanted: readonly Companion[],
  managed: readonly KubeObject[],
  others: readonly KubeObject[],
  keepApps: ReadonlySet<string> = new Set(),
): SyncPlan {
  const live = new Map(managed.map(o => [objectKey(o), o]));
  const taken = new Map(others.map(o => [objectKey(o), o]));
  const wantedKeys = new Set(wanted.map(objectKey));
  const plan: SyncPlan = { apply: [], prune: [], conflicts: [] };
  for (const w of wanted) {
    const key = objectKey(w);
    const existing = taken.get(key);
    if (existing && !live.has(key)) plan.conflicts.push({ wanted: w, existing });
    else if (!isUpToDate(w, live.get(key))) plan.apply.push(w);
  }
  for (const o of managed) {
    const app = o.metadata?.labels?.[APP_LABEL];
    if (!wantedKeys.has(objectKey(o)) && !(app !== undefined && keepApps.has(app))) plan.prune.push(o);
  }
  return plan;
}
