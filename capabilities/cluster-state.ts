// What admission reads from the API server: the cluster config, a Namespace's annotations,
// the namespace's other managed Deployments. Kept out of the core, which only gets values.
// Namespaces and labelled Deployments are mirrored by watches, so that an admission costs
// no API round trip once the mirrors are synced; until then they are read directly.
import { K8s, Log, kind } from "pepr";
import { WatchEvent } from "kubernetes-fluent-client";
import { CONFIG_MAP_KEY, DEFAULT_CONFIG_NAMESPACE, KIND_LABEL } from "./core/constants";
import { type ClusterConfig, DEFAULT_CLUSTER_CONFIG, parseClusterConfig } from "./core/config";
import type { V1Deployment } from "./core/types";
import { keptCopy } from "./admission-reuse";
import { type KubeClusterApi, kubeClusterApi } from "./reconcile/kube-api";

export const configNamespace = (): string => process.env.AI_WORKLOADS_CONFIG_NAMESPACE || DEFAULT_CONFIG_NAMESPACE;

/** Re-read at most this often; a config change reaches admission within this time. */
const CONFIG_TTL_MS = 5_000;

let lastValid: ClusterConfig = DEFAULT_CLUSTER_CONFIG;
/** The text lastValid was parsed from: the same text keeps the same object, and the memos keyed by it. */
let lastValidText: string | undefined;
let readAt = 0;

/**
 * The cluster config, keeping the last valid one when the ConfigMap is invalid or cannot be
 * read: an invalid config never replaces a valid one (SPEC §6.1).
 */
export async function clusterConfig(): Promise<ClusterConfig> {
  return cachedClusterConfig() ?? readClusterConfig();
}

/** The cluster config while the last read is fresh; undefined when it is due to be read again. */
export function cachedClusterConfig(): ClusterConfig | undefined {
  return Date.now() - readAt < CONFIG_TTL_MS ? lastValid : undefined;
}

/**
 * What admission reads from the API server itself (the config, and what the watch copies do not
 * hold yet), over shared keep-alive connections (reconcile/kube-api.ts). Pepr's K8s() makes a
 * new connection pool for every request and keeps its connection open for ten minutes: each
 * re-read of the config left one more idle connection, and reads that bypass the watch copies
 * grew the controller by about 100 KB per request until it ran out of memory.
 */
let api: KubeClusterApi | undefined;
const apiServer = (): KubeClusterApi => (api ??= kubeClusterApi(configNamespace()));

async function readClusterConfig(): Promise<ClusterConfig> {
  readAt = Date.now();
  try {
    const cm = await apiServer().readConfig();
    // No ConfigMap means built-in defaults.
    if (cm === undefined) {
      [lastValid, lastValidText] = [DEFAULT_CLUSTER_CONFIG, undefined];
      return lastValid;
    }
    // A ConfigMap without the key is not a valid config (SPEC §12.4); an empty key is the built-in defaults.
    const { text } = cm;
    if (text !== undefined && text === lastValidText) return lastValid;
    const parsed = text === undefined ? undefined : parseClusterConfig(text);
    if (parsed?.ok) [lastValid, lastValidText] = [parsed.config, text];
    else if (!parsed) Log.warn(`ai-workloads-config has no ${CONFIG_MAP_KEY}; keeping the last valid config`);
    else Log.warn({ findings: parsed.findings.length }, "ai-workloads-config is invalid; keeping the last valid config");
  } catch (e) {
    // A read that fails keeps the last valid config.
    Log.warn({ err: String(e) }, "cannot read ai-workloads-config; keeping the last valid config");
  }
  return lastValid;
}

const NONE: readonly never[] = Object.freeze([]);

interface Named {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
}

/**
 * An in-memory copy of one kind, kept by a list+watch and indexed by namespace ("" for
 * cluster-scoped objects), so an admission reads only its namespace; `synced` once the first
 * list is in.
 */
class Mirror<T extends Named> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  /** inNamespace's arrays, for the copy as of `listedAt`. */
  private readonly listed = new Map<string, readonly T[]>();
  private listedAt = -1;
  synced = false;
  /** Rises with every change of the copy: what is derived from it is kept while it is unchanged. */
  version = 0;
  private started = false;

  constructor(
    private readonly open: (onEvent: (o: T, phase: string) => void) => { events: NodeJS.EventEmitter; start(): Promise<unknown> },
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    const watcher = this.open((o, phase) => {
      const ns = o.metadata?.namespace ?? "";
      const items = this.byNamespace.get(ns) ?? new Map<string, T>();
      this.byNamespace.set(ns, items);
      const name = o.metadata?.name ?? "";
      const held = items.get(name);
      const next = phase === "DELETED" ? undefined : keptCopy(held, o);
      // A status write keeps the object held (keptCopy): nothing derived from the copy changes.
      if (next === held) return;
      if (next === undefined) items.delete(name);
      else items.set(name, next);
      this.version++;
    });
    // Items of the first list are handed over right after this event.
    watcher.events.once(WatchEvent.LIST, () => setImmediate(() => (this.synced = true)));
    watcher.start().catch(e => {
      this.started = false;
      Log.warn({ err: String(e) }, "admission mirror could not start; reading directly");
    });
  }

  namespaces(): string[] {
    return [...this.byNamespace.entries()].filter(([, items]) => items.size > 0).map(([ns]) => ns);
  }

  /** The namespace's objects: the same array until an event changes the copy (callers only read it). */
  inNamespace(namespace: string): readonly T[] {
    if (this.listedAt !== this.version) {
      this.listed.clear();
      this.listedAt = this.version;
    }
    const objects = this.byNamespace.get(namespace);
    // Only namespaces that hold objects are kept: a request can name any namespace.
    if (!objects?.size) return NONE;
    let items = this.listed.get(namespace);
    if (items === undefined) this.listed.set(namespace, (items = [...objects.values()]));
    return items;
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }
}

const namespaces = new Mirror<Named>(cb => K8s(kind.Namespace).Watch(cb));
const deployments = new Mirror<V1Deployment>(cb => K8s(kind.Deployment).WithLabel(KIND_LABEL).Watch(cb));

/** One object for "no annotations", so that callers can tell an unchanged Namespace by identity. */
const NO_ANNOTATIONS: Record<string, string> = Object.freeze({});

/** A namespace name the API server can hold (RFC 1123 label); anything else is never looked up. */
const isNamespaceName = (n: string): boolean => n.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n);

/**
 * The annotations of a Namespace; none when it does not exist (the API server refuses the object for
 * that itself: mutating webhooks run before its NamespaceLifecycle check) or its name is not one.
 */
export async function namespaceAnnotations(namespace: string): Promise<Record<string, string>> {
  const mirrored = mirroredNamespaceAnnotations(namespace);
  if (mirrored !== undefined) return mirrored;
  // Read as an object, not with the reconciler's namespaceAnnotations, which counts a terminating
  // Namespace as gone: admission answers as the watch copy does, which keeps it until it is deleted.
  const ns = await apiServer().get({ apiVersion: "v1", kind: "Namespace", namespace: "", name: namespace });
  return ns?.metadata?.annotations ?? NO_ANNOTATIONS;
}

/**
 * As namespaceAnnotations, from the watch copy alone; undefined when it must be read from the API
 * server (the copy is not synced, or does not hold the Namespace yet).
 */
export function mirroredNamespaceAnnotations(namespace: string): Record<string, string> | undefined {
  if (!isNamespaceName(namespace)) return NO_ANNOTATIONS;
  namespaces.start();
  if (!namespaces.synced) return undefined;
  const ns = namespaces.get("", namespace);
  return ns && (ns.metadata?.annotations ?? NO_ANNOTATIONS);
}

export async function managedDeployments(namespace: string): Promise<readonly V1Deployment[]> {
  const mirrored = mirroredManagedDeployments(namespace);
  if (mirrored !== undefined) return mirrored;
  return apiServer().managedDeployments(namespace);
}

let grouped: { version: number; map: ReadonlyMap<string, readonly V1Deployment[]> } | undefined;

/** Every namespace that holds a managed Deployment, with those Deployments (routes across namespaces, SPEC §12.6). */
export async function managedDeploymentsByNamespace(): Promise<ReadonlyMap<string, readonly V1Deployment[]>> {
  const mirrored = mirroredManagedDeploymentsByNamespace();
  if (mirrored !== undefined) return mirrored;
  const byNamespace = new Map<string, V1Deployment[]>();
  for (const d of await apiServer().allManagedDeployments()) {
    const ns = d.metadata?.namespace ?? "";
    const list = byNamespace.get(ns);
    if (list) list.push(d);
    else byNamespace.set(ns, [d]);
  }
  return byNamespace;
}

/** As managedDeployments, from the watch copy alone; undefined until it is synced. */
export function mirroredManagedDeployments(namespace: string): readonly V1Deployment[] | undefined {
  if (!isNamespaceName(namespace)) return [];
  deployments.start();
  return deployments.synced ? deployments.inNamespace(namespace) : undefined;
}

/** As managedDeploymentsByNamespace, from the watch copy alone; undefined until it is synced. */
export function mirroredManagedDeploymentsByNamespace(): ReadonlyMap<string, readonly V1Deployment[]> | undefined {
  deployments.start();
  if (!deployments.synced) return undefined;
  // Built once per change of the copy, not per request: callers only read it.
  if (grouped?.version !== deployments.version)
    grouped = {
      version: deployments.version,
      map: new Map(deployments.namespaces().map(ns => [ns, deployments.inNamespace(ns)])),
    };
  return grouped.map;
}

/** Rises with every change of either watch copy: what is derived from both is kept while it is unchanged. */
export const mirrorsVersion = (): number => namespaces.version + deployments.version;
