// An in-memory copy of one watched kind, kept by the watch's events (ADDED, MODIFIED, DELETED,
// in the order of one watch stream) and indexed by namespace, so that a reconcile pass reads its
// namespace from memory instead of the API server. `synced` once the watch's first list is in:
// until then (and after the watch gave up) callers read the API server instead.
import type { KubeObject } from "../core/types";

/**
 * What a copy keeps of an object, in place: everything but `status` and `metadata.managedFields`.
 * Nothing that plans from a copy reads either: a pass reads a Deployment's metadata and spec, and
 * compares the fields the module sets (metadata and spec) with a companion's; status is the
 * controllers', and managedFields is the largest part of an object. In place, because the watch
 * library caches the very object it hands over: a copy would keep the whole object twice.
 */
export function slim(o: KubeObject): KubeObject {
  if (o.metadata) delete o.metadata.managedFields;
  delete (o as { status?: unknown }).status;
  return o;
}

/**
 * What the watch library keeps of an object of which only its identity is read (the ConfigMaps of
 * the mlserver settings index): its name, namespace, uid and resourceVersion, in place (see slim).
 * The library needs the uid and resourceVersion to tell a relist's changes; the data, annotations
 * (kubectl's last-applied copy of the data included) and labels are dropped.
 */
export function identityOnly(o: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion } = o.metadata ?? {};
  for (const key of Object.keys(o)) if (key !== "apiVersion" && key !== "kind") delete (o as Record<string, unknown>)[key];
  o.metadata = { name, namespace, uid, resourceVersion };
  return o;
}

export type Phase = "ADDED" | "MODIFIED" | "DELETED" | string;

/** Deletions remembered (the newest), so that a read older than one does not bring its object back. */
const GONE_KEPT = 10_000;

export class Mirror {
  private readonly byNamespace = new Map<string, Map<string, KubeObject>>();
  /**
   * uid -> resourceVersion of each DELETED: a read from the API server that was answered before the
   * deletion but arrives after its event would put the object back, and the watch library, which
   * never held it again, would never report it gone (its companions made again and again). A
   * real deletion's event carries the deletion's revision, later than any version of the live
   * object. The same uid at the event's version or later is kept: the watch library's relist
   * reports an object missing from a list that raced a change as DELETED at the version it held
   * (the confirmation reads it back), and a label-selected watch reports a Deployment that loses
   * the label as DELETED, which comes back if the label does.
   */
  private readonly gone = new Map<string, string | undefined>();
  synced = false;

  /**
   * @param apiVersion and kind are set on objects that come without them: the reconciler keys
   * objects by kind, and a list's items carry none.
   */
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {}

  /** One watch event (or an object read from the API server): what is kept of it is {@link slim}. */
  apply(o: KubeObject, phase: Phase): void {
    slim(o);
    const namespace = o.metadata?.namespace ?? "";
    const name = o.metadata?.name ?? "";
    const items = this.byNamespace.get(namespace);
    const uid = o.metadata?.uid;
    if (phase === "DELETED") {
      if (uid !== undefined) {
        this.gone.delete(uid);
        this.gone.set(uid, o.metadata?.resourceVersion);
        if (this.gone.size > GONE_KEPT) this.gone.delete(this.gone.keys().next().value!);
      }
      const stored = items?.get(name);
      // A DELETED of an older incarnation must not remove the object created again under its name.
      if (stored && (stored.metadata?.uid === undefined || stored.metadata.uid === o.metadata?.uid)) items!.delete(name);
      if (items?.size === 0) this.byNamespace.delete(namespace);
      return;
    }
    if (uid !== undefined && this.gone.has(uid)) {
      if (versionBefore(o.metadata?.resourceVersion, this.gone.get(uid))) return;
      this.gone.delete(uid);
    }
    // An older version than the one held (a read from the API server got here first) is not kept.
    const stored = items?.get(name);
    if (stored && stored.metadata?.uid === o.metadata?.uid && versionBefore(o.metadata?.resourceVersion, stored.metadata?.resourceVersion))
      return;
    o.apiVersion ??= this.apiVersion;
    o.kind ??= this.kind;
    if (items) items.set(name, o);
    else this.byNamespace.set(namespace, new Map([[name, o]]));
  }

  /** Forgets everything (a new watch lists again). */
  clear(): void {
    this.byNamespace.clear();
  }

  inNamespace(namespace: string): KubeObject[] {
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  /** The namespaces that hold at least one object ("" for cluster-scoped objects). */
  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  all(): KubeObject[] {
    return [...this.byNamespace.values()].flatMap(items => [...items.values()]);
  }

  get size(): number {
    let n = 0;
    for (const items of this.byNamespace.values()) n += items.size;
    return n;
  }
}

/**
 * Whether version `a` is known to come before `b`: resourceVersions are etcd revisions in practice
 * (the watch library compares them as numbers too); anything not comparable is never before.
 */
function versionBefore(a: string | undefined, b: string | undefined): boolean {
  const x = Number(a);
  const y = Number(b);
  return a !== undefined && a !== "" && b !== undefined && b !== "" && Number.isFinite(x) && Number.isFinite(y) && x < y;
}
