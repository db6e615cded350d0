// Companions kept in step in the cluster (SPEC §7). Watch bindings run only in Pepr's watcher;
// every event just names a namespace to reconcile, and the Reconciler does the rest.
import { Capability, Log, RegisterKind, a } from "pepr";
import { ANNOTATION_PREFIX, CONFIG_MAP_NAME, KIND_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "./core/constants";
import type { V1ObjectMeta } from "@kubernetes/client-node";
import type { V1Deployment } from "./core/types";
import { configNamespace } from "./cluster-state";
import { peprMetricsSink } from "./metrics";
import { kubeClusterApi } from "./reconcile/kube-api";
import { Reconciler } from "./reconcile/reconciler";
import { RESYNC_ENV, resyncInterval } from "./reconcile/resync";

export const CompanionSync = new Capability({
  name: "companion-sync",
  description: "Keeps the Services, HPAs and Istio objects of AI workloads true to their Deployments",
});

const { When } = CompanionSync;

class VirtualService extends a.GenericKind {}
class RequestAuthentication extends a.GenericKind {}
class AuthorizationPolicy extends a.GenericKind {}
RegisterKind(VirtualService, { group: "networking.istio.io", version: "v1", kind: "VirtualService" });
RegisterKind(RequestAuthentication, { group: "security.istio.io", version: "v1", kind: "RequestAuthentication" });
RegisterKind(AuthorizationPolicy, {
  group: "security.istio.io",
  version: "v1",
  kind: "AuthorizationPolicy",
  plural: "authorizationpolicies",
});

let started: { reconciler: Reconciler; ready: Promise<void> } | undefined;
/** Namespaces where the module has state: a Namespace that lost its annotations there still needs a pass. */
const known = new Set<string>();

function reconciler(): { reconciler: Reconciler; ready: Promise<void> } {
  if (started) return started;
  const r = new Reconciler(kubeClusterApi(configNamespace()), Log, undefined, undefined, peprMetricsSink());
  // The config is read before anything is reconciled: built-in defaults would prune what it wants.
  const ready = (async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        await r.loadConfig();
        return;
      } catch (e) {
        Log.warn({ err: String(e) }, "cannot read the cluster config yet; retrying");
        await new Promise(res => setTimeout(res, Math.min(30_000, 500 * 2 ** attempt)));
      }
    }
  })();
  // A full pass over every namespace of interest, besides the watch events.
  const resync = resyncInterval(process.env[RESYNC_ENV]);
  if (resync.ignored !== undefined)
    Log.warn({ [RESYNC_ENV]: resync.ignored }, "not a whole number of seconds >= 1; resyncing every 10 minutes");
  setInterval(() => void ready.then(() => r.resyncAll()).catch(e => Log.error({ err: String(e) }, "resync failed")), resync.ms).unref();
  started = { reconciler: r, ready };
  return started;
}

function enqueue(namespace: string | undefined): void {
  if (!namespace) return;
  known.add(namespace);
  const { reconciler: r, ready } = reconciler();
  void ready.then(() => r.enqueue(namespace));
}

const onDeployment = (d: V1Deployment): void => enqueue(d.metadata?.namespace);

// Only Deployments with the kind label are listed, watched and cached (a server-side label
// selector): the watcher's cost follows the AI workloads, not the cluster. A Deployment that
// loses the label leaves the selection, and the API server reports that as DELETED (with the
// object as it was, label included), so its companions are still pruned.
When(a.Deployment).IsCreatedOrUpdated().WithLabel(KIND_LABEL).Watch(onDeployment);
When(a.Deployment).IsDeleted().WithLabel(KIND_LABEL).Watch(onDeployment);

const onNamespace = (ns: { metadata?: V1ObjectMeta }): void => {
  const name = ns.metadata?.name;
  const annotated = Object.keys(ns.metadata?.annotations ?? {}).some(k => k.startsWith(ANNOTATION_PREFIX));
  if (name && (annotated || known.has(name))) enqueue(name);
};

When(a.Namespace).IsCreatedOrUpdated().Watch(onNamespace);

const onConfig = async (): Promise<void> => {
  const { reconciler: r, ready } = reconciler();
  await ready;
  if (await r.loadConfig()) await r.resyncAll();
};

When(a.ConfigMap).IsCreatedOrUpdated().InNamespace(configNamespace()).WithName(CONFIG_MAP_NAME).Watch(onConfig);
When(a.ConfigMap).IsDeleted().InNamespace(configNamespace()).WithName(CONFIG_MAP_NAME).Watch(onConfig);

// mlserver settings (SPEC §13.1): a changed settings ConfigMap of a known mlserver app is checked
// again; every other ConfigMap is dropped here without any API call. The names cannot be known
// up front, so this watch is cluster-wide, and Pepr's watcher keeps a copy of every ConfigMap in
// the cluster (data included) in its memory and lists them all again every relist interval
// (PEPR_RELIST_INTERVAL_SECONDS, 10 minutes). Deletions are not watched, which would keep a second
// such copy: a deleted settings ConfigMap makes no conflict, and what was reported stays reported.
const onSettingsConfigMap = (cm: { metadata?: V1ObjectMeta }): void => {
  const { namespace, name, resourceVersion } = cm.metadata ?? {};
  if (!started || !namespace || !name) return;
  if (started.reconciler.settingsConfigMapChanged(namespace, name, resourceVersion)) enqueue(namespace);
};

When(a.ConfigMap).IsCreatedOrUpdated().Watch(onSettingsConfigMap);

// Drift: a generated object edited or deleted by anyone brings its namespace back in step.
const onCompanion = (o: { metadata?: V1ObjectMeta }): void => enqueue(o.metadata?.namespace);
type Model = typeof a.Service;
for (const model of [
  a.Service,
  a.HorizontalPodAutoscaler,
  VirtualService,
  RequestAuthentication,
  AuthorizationPolicy,
] as unknown as Model[]) {
  When(model).IsCreatedOrUpdated().WithLabel(MANAGED_BY_LABEL, MANAGED_BY_VALUE).Watch(onCompanion);
  When(model).IsDeleted().WithLabel(MANAGED_BY_LABEL, MANAGED_BY_VALUE).Watch(onCompanion);
}
