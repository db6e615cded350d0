// The reconciler's reads served from the watcher's watches instead of the API server: a pass over
// a namespace whose companions are in step reads nothing (issue #14). Writes, Events, the config
// and objects the watches do not hold (a wanted companion not seen yet, a settings ConfigMap) go
// to the API server.
//
// A watch can lag behind the API server. A wanted companion the watch has not seen yet is read
// from the API server before anything is written, so it is not written again. A deletion from a
// stale copy is not harmless (an AuthorizationPolicy deleted wrongly opens an app for a moment),
// so a pass that deletes confirms first, once, that the Namespace's annotations and the
// Deployments it planned from are still what the API server holds, and the object must still
// exist and be the module's; otherwise nothing is deleted and the pass fails, to be retried once
// the watch has caught up. A pass that writes nothing (every resync of a namespace in step)
// reads nothing.
import { ANNOTATION_PREFIX, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../core/constants";
import type { KubeObject, V1Deployment } from "../core/types";
import { COMPANION_KINDS, type ClusterApi, type ObjectRef } from "./cluster-api";
import type { Mirror } from "./mirror";

export interface Mirrors {
  /** Every Namespace (cluster-scoped: namespace ""). */
  namespaces: Mirror;
  /** Deployments carrying the kind label. */
  deployments: Mirror;
  /** Per companion kind, its objects labelled as the module's. */
  companions: ReadonlyMap<string, Mirror>;
}

/** What one pass over a namespace read, to confirm its writes against. */
interface PassReads {
  annotations?: Record<string, string> | undefined;
  deployments?: V1Deployment[];
  /** Whether any of it came from a watch (reads from the API server need no confirmation). */
  fromWatch: boolean;
  confirmed?: Promise<Confirmation>;
}

/** Why the pass's reads cannot be trusted for a deletion (`strict`) or an update (`lenient`); undefined when they can. */
interface Confirmation {
  strict?: string;
  lenient?: string;
}

/** What a write depends on in a Deployment: which apps exist and how they are configured (not their status). */
const fingerprint = (d: V1Deployment): string =>
  JSON.stringify([
    d.metadata?.uid,
    d.metadata?.generation,
    d.metadata?.labels ?? {},
    d.metadata?.annotations ?? {},
    d.metadata?.deletionTimestamp !== undefined && d.metadata?.deletionTimestamp !== null,
  ]);

export class StaleWatchError extends Error {}

/**
 * @param listNamespaces every Namespace from the API server: one request per full resync, not per
 * namespace, that puts what the Namespace watch may have missed into its copy (and lets a resync
 * be seen on the API server).
 */
export function cachedClusterApi(live: ClusterApi, mirrors: Mirrors, listNamespaces?: () => Promise<KubeObject[]>): ClusterApi {
  const passes = new Map<string, PassReads>();
  const companion = (kind: string): Mirror | undefined => {
    const m = mirrors.companions.get(kind);
    return m?.synced ? m : undefined;
  };
  const pass = (namespace: string): PassReads => {
    const p = passes.get(namespace) ?? { fromWatch: false };
    passes.set(namespace, p);
    return p;
  };
  /** Whether the module's objects in the namespace include one owned by this Deployment uid. */
  const ownsObjects = (namespace: string, uid: string | undefined): boolean =>
    [...mirrors.companions.values()].some(m =>
      m.inNamespace(namespace).some(o => (o.metadata?.ownerReferences ?? []).some(r => r.uid === uid)),
    );

  /**
   * The pass's reads against the API server, once per pass and only when it writes over
   * something. A deletion needs them unchanged. An update goes ahead on a change made since the
   * pass read (the event of that change brings another pass, as it did when passes read the API
   * server), but not when the watch lacks an app the module has made objects for: the watch
   * library's relist can drop an object created while it listed, until its next change or relist,
   * and an update would take that app's route away. What the API server shows is put in the
   * watch's copy, so that the retry plans from it.
   */
  const confirm = (namespace: string): Promise<Confirmation> => {
    const p = passes.get(namespace);
    if (!p?.fromWatch) return Promise.resolve({});
    p.confirmed ??= (async () => {
      const [annotations, deployments] = await Promise.all([live.namespaceAnnotations(namespace), live.managedDeployments(namespace)]);
      const read = new Map((p.deployments ?? []).map(d => [d.metadata?.name, fingerprint(d)]));
      const now = new Map(deployments.map(d => [d.metadata?.name, fingerprint(d)]));
      const behind = `the watcher's copy of namespace ${namespace} is behind the API server`;
      const later = "; nothing is written until it has caught up";
      if (JSON.stringify(annotations) !== JSON.stringify(p.annotations))
        return { strict: `${behind} (its annotations changed since this pass read them)${later}` };
      const changed = [...read].filter(([name, f]) => now.get(name) !== f).map(([name]) => name);
      const unseen = deployments.filter(d => !read.has(d.metadata?.name));
      if (mirrors.deployments.synced) for (const d of deployments) mirrors.deployments.apply(d as KubeObject, "MODIFIED");
      const names = (ns: (string | undefined)[]): string => ns.join(", ");
      // Lacking an app the module has made objects for is the watch's own fault: the next event may be far off.
      const known = unseen.filter(d => ownsObjects(namespace, d.metadata?.uid));
      const lacking = (ds: V1Deployment[]): string => `${behind} (it lacks Deployments: ${names(ds.map(d => d.metadata?.name))})${later}`;
      const strict =
        changed.length > 0
          ? `${behind} (Deployments changed since this pass read them: ${names(changed)})${later}`
          : unseen.length > 0
            ? lacking(unseen)
            : undefined;
      return { strict, lenient: known.length > 0 ? lacking(known) : undefined };
    })();
    return p.confirmed;
  };

  const own: Partial<ClusterApi> = {
    // The first read of every pass: what the pass reads is recorded from here on.
    async namespaceAnnotations(namespace) {
      const p: PassReads = { fromWatch: false };
      passes.set(namespace, p);
      const ns = mirrors.namespaces.synced ? mirrors.namespaces.get("", namespace) : undefined;
      // A Namespace the watch has not seen (yet, or any more) is asked for.
      if (!ns) {
        p.annotations = await live.namespaceAnnotations(namespace);
        if (p.annotations === undefined) passes.delete(namespace);
        return p.annotations;
      }
      p.fromWatch = true;
      // A terminating namespace refuses new objects and takes its objects with it: as good as gone.
      p.annotations = ns.metadata?.deletionTimestamp ? undefined : ((ns.metadata?.annotations as Record<string, string>) ?? {});
      return p.annotations;
    },
    async managedDeployments(namespace) {
      const p = pass(namespace);
      if (mirrors.deployments.synced) {
        p.fromWatch = true;
        p.deployments = mirrors.deployments.inNamespace(namespace) as V1Deployment[];
      } else p.deployments = await live.managedDeployments(namespace);
      return p.deployments;
    },
    async listManaged(apiVersion, kind, namespace) {
      const m = companion(kind);
      return m ? m.inNamespace(namespace) : live.listManaged(apiVersion, kind, namespace);
    },
    // Creating a missing object only adds; an update can take something away (a route), a deletion does.
    async apply(object) {
      const ns = object.metadata?.namespace ?? "";
      if (companion(object.kind ?? "")?.get(ns, object.metadata?.name ?? "")) {
        const { lenient } = await confirm(ns);
        if (lenient) throw new StaleWatchError(lenient);
      }
      await live.apply(object);
    },
    async delete(ref: ObjectRef) {
      const { strict } = await confirm(ref.namespace);
      if (strict) throw new StaleWatchError(strict);
      const current = await live.get(ref);
      if (!current) return;
      if (current.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE)
        throw new StaleWatchError(
          `${ref.kind}/${ref.name} is no longer labelled ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}; it is not the module's to delete`,
        );
      await live.delete(ref);
    },
    async namespacesOfInterest() {
      const kinds = COMPANION_KINDS.map(k => companion(k.kind));
      if (!mirrors.namespaces.synced || !mirrors.deployments.synced || kinds.some(m => m === undefined)) return live.namespacesOfInterest();
      if (listNamespaces) for (const ns of await listNamespaces()) mirrors.namespaces.apply(ns, "MODIFIED");
      const found = new Set<string>(mirrors.deployments.namespaces());
      for (const m of kinds) for (const ns of m!.namespaces()) found.add(ns);
      for (const ns of mirrors.namespaces.all())
        if (Object.keys(ns.metadata?.annotations ?? {}).some(k => k.startsWith(ANNOTATION_PREFIX))) found.add(ns.metadata!.name!);
      return [...found].sort();
    },
    async anyManaged(apiVersion, kind) {
      const m = companion(kind);
      return m ? m.size > 0 : live.anyManaged(apiVersion, kind);
    },
  };

  // Everything else is the API server's, including what the interface may gain.
  return new Proxy(live, {
    get(target, prop) {
      if (Object.prototype.hasOwnProperty.call(own, prop)) return own[prop as keyof ClusterApi];
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
