// Companions kept in step in the cluster (SPEC §7). Watches run only in Pepr's watcher; every
// event just names a namespace to reconcile, and the Reconciler does the rest, reading what the
// watches hold.
import { Capability, K8s, Log, RegisterKind, a } from "pepr";
import { type GenericClass, WatchEvent, type WatchCfg } from "kubernetes-fluent-client";
import { ANNOTATION_PREFIX, CONFIG_MAP_NAME, KIND_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "./core/constants";
import type { V1ObjectMeta } from "@kubernetes/client-node";
import type { KubeObject } from "./core/types";
import { configNamespace } from "./cluster-state";
import { peprMetricsSink } from "./metrics";
import { kubeClusterApi } from "./reconcile/kube-api";
import { COMPANION_KINDS } from "./reconcile/cluster-api";
import { type Mirrors, cachedClusterApi } from "./reconcile/cached-api";
import { deploymentChangeMatters } from "./reconcile/event-filter";
import { Mirror, identityOnly } from "./reconcile/mirror";
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
  const listNamespaces = async (): Promise<KubeObject[]> => (await K8s(a.Namespace).Get()).items as KubeObject[];
  const api = cachedClusterApi(kubeClusterApi(configNamespace()), mirrors, listNamespaces);
  const r = new Reconciler(api, Log, undefined, undefined, peprMetricsSink());
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

const onNamespace = (ns: { metadata?: V1ObjectMeta }): void => {
  const name = ns.metadata?.name;
  const annotated = Object.keys(ns.metadata?.annotations ?? {}).some(k => k.startsWith(ANNOTATION_PREFIX));
  if (name && (annotated || known.has(name))) enqueue(name);
};

const onConfig = async (): Promise<void> => {
  const { reconciler: r, ready } = reconciler();
  await ready;
  if (await r.loadConfig()) await r.resyncAll();
};

When(a.ConfigMap).IsCreatedOrUpdated().InNamespace(configNamespace()).WithName(CONFIG_MAP_NAME).Watch(onConfig);
When(a.ConfigMap).IsDeleted().InNamespace(configNamespace()).WithName(CONFIG_MAP_NAME).Watch(onConfig);

// mlserver settings (SPEC §13.1): a changed or deleted settings ConfigMap of a known mlserver app
// is checked again; every other ConfigMap is dropped here without any API call. The names cannot
// be known up front, so the watch is cluster-wide; it is not a Pepr binding, whose watch would hold
// every ConfigMap of the cluster with its data. The watch library keeps the very object it hands
// over, so each is cut to its identity first (identityOnly): the watcher's memory follows the
// number of ConfigMaps in the cluster, not their size.
const onSettingsConfigMap = (cm: KubeObject, phase: string): void => {
  const { namespace, name, resourceVersion } = cm.metadata ?? {};
  if (!started || !namespace || !name) return;
  if (started.reconciler.settingsConfigMapChanged(namespace, name, phase === "DELETED" ? undefined : resourceVersion)) enqueue(namespace);
};

// The kinds a pass reads, each kept by one list+watch of its own (kubernetes-fluent-client, as
// Pepr's bindings use it) whose copy the reconciler reads instead of the API server
// (reconcile/cached-api.ts). Not Pepr bindings: each binding is a list+watch with a cache of
// its own, so IsCreatedOrUpdated and IsDeleted would hold every object twice, and in two
// streams whose order cannot be told apart. The selectors are server-side: only Deployments
// with the kind label and objects labelled as the module's are listed, watched and held, so the
// watcher's cost follows the AI workloads, not the cluster. A Deployment that loses the label
// leaves the selection, which the API server reports as DELETED (with the object as it was), so
// its companions are still pruned. An event names a namespace to reconcile; an edited or deleted
// generated object brings its namespace back in step (drift).
const mirrors: Mirrors = {
  namespaces: new Mirror("v1", "Namespace"),
  deployments: new Mirror("apps/v1", "Deployment"),
  companions: new Map(COMPANION_KINDS.map(k => [k.kind as string, new Mirror(k.apiVersion, k.kind)])),
};

const envInt = (name: string, fallback: number): number => {
  const n = Number.parseInt(process.env[name] ?? "", 10);
  return Number.isInteger(n) && n > 0 ? n : fallback;
};
/** Pepr's own watch settings, from the same variables, so that both kinds of watch relist alike. */
const watchCfg = (): WatchCfg => ({
  resyncFailureMax: envInt("PEPR_RESYNC_FAILURE_MAX", 5),
  resyncDelaySec: envInt("PEPR_RESYNC_DELAY_SECONDS", 5),
  lastSeenLimitSeconds: envInt("PEPR_LAST_SEEN_LIMIT_SECONDS", 300),
  relistIntervalSec: envInt("PEPR_RELIST_INTERVAL_SECONDS", 600),
});
const RESTART_MS = 30_000;

type OnEvent = (o: KubeObject, phase: string, before: KubeObject | undefined) => void;

/** A list+watch of one kind, started again after it gives up; with a mirror, the copy passes read. */
function keep(model: GenericClass, labels: Record<string, string>, mirror: Mirror | undefined, onEvent: OnEvent): void {
  if (mirror) {
    mirror.synced = false;
    mirror.clear();
  }
  const filters = Object.keys(labels).length > 0 ? { labels } : {};
  const watcher = K8s(model, filters).Watch((o, phase) => {
    // The mirror drops what nothing reads (status, managedFields) from this very object, which the
    // watch library caches too: neither copy holds them.
    const before = mirror?.get(o.metadata?.namespace ?? "", o.metadata?.name ?? "");
    mirror?.apply(o as KubeObject, phase);
    onEvent(o as KubeObject, phase, before);
  }, watchCfg());
  // The first list's items are handed over right after this event; later lists keep it true.
  if (mirror) watcher.events.on(WatchEvent.LIST, () => setImmediate(() => (mirror.synced = true)));
  // Given up (a kind not installed, the API server gone for long): passes read the API server, and the watch starts again.
  let stopped = false;
  const restart = (why: unknown): void => {
    if (stopped) return;
    stopped = true;
    if (mirror) mirror.synced = false;
    Log.warn({ kind: mirror?.kind ?? model.name, err: String(why) }, "watch gave up; reading the API server until it is back");
    watcher.close();
    setTimeout(() => keep(model, labels, mirror, onEvent), RESTART_MS).unref();
  };
  watcher.events.on(WatchEvent.GIVE_UP, restart);
  watcher.start().catch(restart);
}

/** Pepr's condition for running Watch bindings: only the watcher process (or `pepr dev`) keeps these. */
if (process.env.PEPR_WATCH_MODE === "true" || process.env.PEPR_MODE === "dev") {
  keep(a.Namespace, {}, mirrors.namespaces, (o, phase) => phase !== "DELETED" && onNamespace(o));
  // Status writes of the controllers, and the module's own writes coming back, need no pass:
  // on a busy cluster they are most of the events.
  keep(a.Deployment, { [KIND_LABEL]: "" }, mirrors.deployments, (o, phase, before) => {
    if (deploymentChangeMatters(before, o, phase)) enqueue(o.metadata?.namespace);
  });
  keep(a.ConfigMap, {}, undefined, (o, phase) => onSettingsConfigMap(identityOnly(o), phase));
  const models: Record<string, GenericClass> = {
    Service: a.Service,
    HorizontalPodAutoscaler: a.HorizontalPodAutoscaler,
    VirtualService,
    RequestAuthentication,
    AuthorizationPolicy,
  };
  for (const [kind, mirror] of mirrors.companions)
    keep(models[kind], { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, mirror, (o, phase) => {
      if (phase === "DELETED" || !reconciler().reconciler.isOwnWrite(o)) enqueue(o.metadata?.namespace);
    });
}
