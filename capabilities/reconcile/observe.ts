// One namespace as the reconciler sees it: what is stored, what is wanted, and the plan that
// brings one to the other. The reconciler executes the plan; `ai-workloads status` and `diff`
// show it, from the same reads and the same core (SPEC §14.4).
import { type ClusterConfig, type NamespaceSettings, resolveNamespace } from "../core/config";
import { type SyncPlan, type Wanted, isManagedObject, objectKey, planSync, wantedCompanions } from "../core/sync";
import type { KubeObject, V1Deployment } from "../core/types";
import { COMPANION_KINDS, type ClusterApi, refOf } from "./cluster-api";

export interface Observation {
  namespace: string;
  settings: NamespaceSettings;
  /** The managed Deployments, without those being deleted. */
  deployments: V1Deployment[];
  wanted: Wanted;
  /** Live objects labelled as the module's: listed, or found under a wanted name. */
  managed: KubeObject[];
  /** Live objects under a wanted name that the module did not create. */
  others: KubeObject[];
  /** Companion kinds whose API is not installed (Istio's CRDs missing): their companions are skipped. */
  missingKinds: string[];
  plan: SyncPlan;
}

/** undefined when the Namespace is gone or being deleted: it takes its objects with it. */
export async function observeNamespace(
  api: ClusterApi,
  namespace: string,
  config: ClusterConfig,
  configValid: boolean,
): Promise<Observation | undefined> {
  const annotations = await api.namespaceAnnotations(namespace);
  if (annotations === undefined) return undefined;
  // A Deployment being deleted (foreground deletion keeps it until the garbage collector has
  // removed what it owns) is gone already: re-applying its objects would fight the collector.
  const deployments = (await api.managedDeployments(namespace)).filter(d => !d.metadata?.deletionTimestamp);
  const all = wantedCompanions(namespace, annotations, config, deployments);
  const lists = await Promise.all(COMPANION_KINDS.map(k => api.listManaged(k.apiVersion, k.kind, namespace)));
  const missingKinds = COMPANION_KINDS.filter((_, i) => lists[i] === undefined).map(k => k.kind as string);
  const wanted: Wanted = {
    ...all,
    companions: all.companions.filter(c => !missingKinds.includes(c.kind ?? "")),
    routeConflicts: missingKinds.includes("VirtualService") ? [] : all.routeConflicts,
  };
  const managed = lists.flatMap(l => l ?? []).filter(isManagedObject);
  const managedKeys = new Set(managed.map(objectKey));
  const unlisted = await Promise.all(
    wanted.companions.filter(c => !managedKeys.has(objectKey(c))).map(c => api.get(refOf(c as KubeObject))),
  );
  const others = unlisted.filter((o): o is KubeObject => o !== undefined && !isManagedObject(o));
  managed.push(...unlisted.filter((o): o is KubeObject => o !== undefined && isManagedObject(o)));
  const plan = planSync(wanted, managed, others, { configValid });
  const settings = resolveNamespace(namespace, annotations, config).settings;
  return { namespace, settings, deployments, wanted, managed, others, missingKinds, plan };
}
