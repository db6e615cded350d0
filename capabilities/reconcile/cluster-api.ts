// The reconciler's view of the API server, as an interface so that its logic can be tested
// against an in-memory cluster and run against a real one through @kubernetes/client-node.
import type { KubeObject, V1Deployment } from "../core/types";

/** The kinds the module generates, in the canonical order. */
export const COMPANION_KINDS = [
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" },
  { apiVersion: "networking.istio.io/v1", kind: "VirtualService" },
  { apiVersion: "security.istio.io/v1", kind: "RequestAuthentication" },
  { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy" },
] as const;

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface ClusterApi {
  /** The Namespace's annotations; undefined when the Namespace does not exist or is being deleted. */
  namespaceAnnotations(namespace: string): Promise<Record<string, string> | undefined>;
  /** Deployments carrying the kind label, in one namespace. */
  managedDeployments(namespace: string): Promise<V1Deployment[]>;
  /** Objects of one companion kind labelled as the module's, in one namespace; undefined when the kind is not installed. */
  listManaged(apiVersion: string, kind: string, namespace: string): Promise<KubeObject[] | undefined>;
  /** undefined when absent. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Server-side apply with the module's field manager, taking over conflicting fields. */
  apply(object: KubeObject): Promise<void>;
  /** A missing object counts as deleted. */
  delete(ref: ObjectRef): Promise<void>;
  createEvent(event: KubeObject): Promise<void>;
  /** Events the module wrote (reportingComponent ai-workloads), in one namespace or, without one, in all. */
  moduleEvents(namespace?: string): Promise<KubeObject[]>;
  /** Namespaces worth a look on a full resync: managed Deployments, managed objects or ai-workloads annotations. */
  namespacesOfInterest(): Promise<string[]>;
  /** Where the config ConfigMap lives. */
  readonly configNamespace: string;
  /**
   * The config ConfigMap, undefined when it does not exist; `text` is its `config.yaml`,
   * undefined when the key is missing (not valid: SPEC §12.4).
   */
  readConfig(): Promise<{ text: string | undefined; object: KubeObject } | undefined>;
  /** Whether an object of this kind labelled as the module's exists in any namespace; false when the kind is not installed. */
  anyManaged(apiVersion: string, kind: string): Promise<boolean>;
}

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion ?? "",
  kind: o.kind ?? "",
  namespace: o.metadata?.namespace ?? "",
  name: o.metadata?.name ?? "",
});
