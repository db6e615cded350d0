// ClusterApi over @kubernetes/client-node (what Pepr's kubernetes-fluent-client builds on):
// kubernetes-fluent-client applies with field manager "pepr", and SPEC §7 asks for the module's own.
import { Agent } from "node:https";
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import {
  ANNOTATION_PREFIX,
  CONFIG_MAP_KEY,
  CONFIG_MAP_NAME,
  FIELD_MANAGER,
  KIND_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REPORTING_COMPONENT,
} from "../core/constants";
import type { KubeObject, V1Deployment } from "../core/types";
import { COMPANION_KINDS, type ClusterApi, type ObjectRef } from "./cluster-api";

const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

const statusOf = (e: unknown): number | undefined =>
  (e as { code?: number; statusCode?: number }).code ?? (e as { statusCode?: number }).statusCode;
const isNotFound = (e: unknown): boolean => statusOf(e) === 404;
/** Discovery failing for a kind means its CRD is not installed. */
const isUnknownKind = (e: unknown): boolean =>
  isNotFound(e) || /Unrecognized API version and kind/i.test(String((e as Error).message ?? e));

/** The API server's own words (its Status message), not the client's dump of the whole response. */
function withStatusMessage(e: unknown): unknown {
  const body = (e as { body?: unknown }).body;
  try {
    const status = (typeof body === "string" ? JSON.parse(body) : body) as { message?: unknown } | undefined;
    if (typeof status?.message === "string") return Object.assign(new Error(status.message), { code: statusOf(e) });
  } catch {
    // Not a Status: keep the error as it is.
  }
  return e;
}

const header = (ref: ObjectRef) => ({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } });

// Below the API server's 90 s idle timeout, so that no request goes out on a connection it is closing.
const IDLE_CONNECTION_MS = 30_000;
const reusing = new WeakSet<KubeConfig>();

const tlsOptionText = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString("base64") : Array.isArray(v) ? v.map(tlsOptionText) : v);

/**
 * @kubernetes/client-node 1.4 gives every request a new https.Agent: a new connection, a full TLS
 * handshake and the CA parsed again for each one. In a burst of companion writes that was over
 * half of the watcher's CPU (and the API server paid for the handshakes too). Requests made with
 * the same TLS options share one keep-alive agent; when they change (a rotated client
 * certificate), the next request gets a new agent and the old one's idle connections close.
 * Proxy agents are left as the client makes them.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  if (reusing.has(kc)) return kc;
  reusing.add(kc);
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  let shared: { key: string; agent: Agent } | undefined;
  kc.applySecurityAuthentication = async context => {
    await authenticate(context);
    const made = context.getAgent();
    if (made?.constructor !== Agent) return;
    const o = (made as Agent).options;
    const key = JSON.stringify([o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername].map(tlsOptionText));
    if (shared?.key !== key) shared = { key, agent: new Agent({ ...o, keepAlive: true, timeout: IDLE_CONNECTION_MS }) };
    context.setAgent(shared.agent);
  };
  return kc;
}

/** ClusterApi, and what only admission reads directly. */
export interface KubeClusterApi extends ClusterApi {
  /** Deployments carrying the kind label, in every namespace. */
  allManagedDeployments(): Promise<V1Deployment[]>;
}

export function kubeClusterApi(configNamespace: string, kc: KubeConfig = defaultConfig()): KubeClusterApi {
  reuseConnections(kc);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);

  const list = async (
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector: string,
    limit?: number,
  ): Promise<KubeObject[] | undefined> => {
    try {
      const result = await objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector, limit);
      return (result.items as KubeObject[]).map(o => ({ apiVersion, kind, ...o }));
    } catch (e) {
      if (isUnknownKind(e)) return undefined;
      throw e;
    }
  };

  return {
    async namespaceAnnotations(namespace) {
      try {
        const ns = await core.readNamespace({ name: namespace });
        // A terminating namespace refuses new objects (403) and takes its objects with it: as good as gone.
        if (ns.metadata?.deletionTimestamp) return undefined;
        return ns.metadata?.annotations ?? {};
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    async managedDeployments(namespace) {
      return ((await list("apps/v1", "Deployment", namespace, KIND_LABEL)) ?? []) as V1Deployment[];
    },
    async allManagedDeployments() {
      return ((await list("apps/v1", "Deployment", undefined, KIND_LABEL)) ?? []) as V1Deployment[];
    },
    listManaged: (apiVersion, kind, namespace) => list(apiVersion, kind, namespace, MANAGED_SELECTOR),
    async get(ref) {
      try {
        return (await objects.read(header(ref))) as KubeObject;
      } catch (e) {
        if (isUnknownKind(e)) return undefined;
        throw e;
      }
    },
    async apply(object) {
      try {
        await objects.patch(object as never, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      } catch (e) {
        // Server-side apply merges list items by key: an edit that changed a key (a Service port
        // 8000 -> 9999) leaves the other manager's item beside the module's, and the merged object
        // can be invalid (two ports named http), so the drift could never be undone. A merge patch
        // replaces the lists the module sets as a whole (the module owns each list it sets).
        if (statusOf(e) !== 422) throw withStatusMessage(e);
        try {
          await objects.patch(object as never, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
        } catch (fallback) {
          // A merge patch cannot create: for an object that does not exist the apply's refusal is the reason.
          throw withStatusMessage(isNotFound(fallback) ? e : fallback);
        }
      }
    },
    async delete(ref) {
      try {
        await objects.delete(header(ref));
      } catch (e) {
        if (!isNotFound(e)) throw withStatusMessage(e);
      }
    },
    async createEvent(event) {
      await core.createNamespacedEvent({ namespace: event.metadata!.namespace!, body: event as never });
    },
    async moduleEvents(namespace) {
      const fieldSelector = `reportingComponent=${REPORTING_COMPONENT}`;
      const events = namespace
        ? await core.listNamespacedEvent({ namespace, fieldSelector })
        : await core.listEventForAllNamespaces({ fieldSelector });
      return events.items.map(e => ({ apiVersion: "v1", kind: "Event", ...e }) as KubeObject);
    },
    async namespacesOfInterest() {
      const found = new Set<string>();
      for (const d of (await list("apps/v1", "Deployment", undefined, KIND_LABEL)) ?? []) found.add(d.metadata!.namespace!);
      for (const k of COMPANION_KINDS)
        for (const o of (await list(k.apiVersion, k.kind, undefined, MANAGED_SELECTOR)) ?? []) found.add(o.metadata!.namespace!);
      const namespaces = await core.listNamespace();
      for (const ns of namespaces.items) {
        if (Object.keys(ns.metadata?.annotations ?? {}).some(k => k.startsWith(ANNOTATION_PREFIX))) found.add(ns.metadata!.name!);
      }
      return [...found].sort();
    },
    configNamespace,
    async readConfig() {
      try {
        const cm = await core.readNamespacedConfigMap({ name: CONFIG_MAP_NAME, namespace: configNamespace });
        return { text: cm.data?.[CONFIG_MAP_KEY], object: { apiVersion: "v1", kind: "ConfigMap", ...cm } as KubeObject };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    anyManaged: async (apiVersion, kind) => ((await list(apiVersion, kind, undefined, MANAGED_SELECTOR, 1)) ?? []).length > 0,
  };
}

function defaultConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
