// An in-memory API server for the reconciler's unit tests: it stores objects, counts writes
// and applies like server-side apply (the applier's fields over what is there).
import { ANNOTATION_PREFIX, CONFIG_MAP_KEY, KIND_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../core/constants";
import type { KubeObject, V1Deployment } from "../core/types";
import type { ClusterApi, ObjectRef } from "./cluster-api";

const keyOf = (r: { kind?: string; namespace?: string; name?: string }): string => `${r.kind}/${r.namespace}/${r.name}`;
const refKey = (o: KubeObject): string => keyOf({ kind: o.kind, namespace: o.metadata?.namespace, name: o.metadata?.name });

export class FakeCluster implements ClusterApi {
  readonly objects = new Map<string, KubeObject>();
  readonly events: KubeObject[] = [];
  writes = 0;
  installedKinds = new Set(["Service", "HorizontalPodAutoscaler", "VirtualService", "RequestAuthentication", "AuthorizationPolicy"]);
  /** Names of objects whose writes the API server refuses (`Kind/namespace/name`), with the message it gives. */
  readonly refuse = new Map<string, string>();
  /** Every single-object read (`Kind/namespace/name`), in order. */
  readonly reads: string[] = [];
  /** Names of objects whose reads fail (`Kind/namespace/name`), with the error. */
  readonly failReads = new Map<string, string>();
  /** Awaited at the start of each apply and delete (`Kind/namespace/name`): a test's way to hold writes in flight. */
  beforeWrite: (verb: "apply" | "delete", key: string) => Promise<void> = async () => undefined;
  private uid = 0;

  constructor(readonly configNamespace = "pepr-system") {}

  /** Stores an object as a user would (not counted as a module write). */
  put(o: KubeObject): KubeObject {
    const stored = structuredClone(o);
    stored.metadata = { ...stored.metadata, uid: stored.metadata?.uid ?? `uid-${++this.uid}` };
    this.objects.set(refKey(stored), stored);
    return stored;
  }

  remove(kind: string, namespace: string, name: string): void {
    this.objects.delete(keyOf({ kind, namespace, name }));
  }

  find(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(keyOf({ kind, namespace, name }));
  }

  async namespaceAnnotations(namespace: string) {
    const ns = this.objects.get(keyOf({ kind: "Namespace", namespace: undefined, name: namespace }));
    return ns ? (ns.metadata?.annotations ?? {}) : undefined;
  }
  async managedDeployments(namespace: string) {
    return [...this.objects.values()].filter(
      o => o.kind === "Deployment" && o.metadata?.namespace === namespace && o.metadata?.labels?.[KIND_LABEL] !== undefined,
    ) as V1Deployment[];
  }
  async listManaged(_apiVersion: string, kind: string, namespace: string) {
    if (!this.installedKinds.has(kind)) return undefined;
    return [...this.objects.values()].filter(
      o => o.kind === kind && o.metadata?.namespace === namespace && o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE,
    );
  }
  async get(ref: ObjectRef) {
    this.reads.push(keyOf(ref));
    const failure = this.failReads.get(keyOf(ref));
    if (failure !== undefined) throw Object.assign(new Error(failure), { code: 403 });
    return this.objects.get(keyOf(ref));
  }
  async apply(object: KubeObject) {
    if (!this.installedKinds.has(object.kind ?? "")) throw new Error(`no kind ${object.kind}`);
    await this.beforeWrite("apply", refKey(object));
    this.refused(refKey(object));
    this.writes++;
    const existing = this.objects.get(refKey(object));
    const merged = {
      ...(existing ?? {}),
      ...structuredClone(object),
      metadata: { ...(existing?.metadata ?? {}), ...structuredClone(object.metadata) },
    };
    this.put(merged);
  }
  async delete(ref: ObjectRef) {
    await this.beforeWrite("delete", keyOf(ref));
    this.refused(keyOf(ref));
    this.writes++;
    this.objects.delete(keyOf(ref));
  }
  async createEvent(event: KubeObject) {
    this.events.push(event);
  }
  async moduleEvents(namespace?: string) {
    return this.events.filter(e => namespace === undefined || e.metadata?.namespace === namespace);
  }
  async namespacesOfInterest() {
    const found = new Set<string>();
    for (const o of this.objects.values()) {
      if (o.kind === "Deployment" && o.metadata?.labels?.[KIND_LABEL] !== undefined) found.add(o.metadata.namespace!);
      if (o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) found.add(o.metadata.namespace!);
      if (o.kind === "Namespace" && Object.keys(o.metadata?.annotations ?? {}).some(k => k.startsWith(ANNOTATION_PREFIX)))
        found.add(o.metadata!.name!);
    }
    return [...found].sort();
  }
  async readConfig() {
    const cm = this.objects.get(keyOf({ kind: "ConfigMap", namespace: this.configNamespace, name: "ai-workloads-config" }));
    return cm ? { text: (cm.data as Record<string, string> | undefined)?.[CONFIG_MAP_KEY], object: cm } : undefined;
  }
  async anyManaged(_apiVersion: string, kind: string) {
    return [...this.objects.values()].some(o => o.kind === kind && o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE);
  }

  /** A refused write is not stored, like a webhook's or a quota's denial. */
  private refused(key: string): void {
    const message = this.refuse.get(key);
    if (message !== undefined) throw Object.assign(new Error(message), { code: 422 });
  }
}
