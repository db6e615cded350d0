// Composition of the core for its three callers: admission of one Deployment, the companions
// of one namespace (reconcile and render), and the whole offline render.
import { APPLIED_DEFAULTS_ANNOTATION, CONFIG_MAP_KEY, CONFIG_MAP_NAME, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "./constants";
import { type ClusterConfig, DEFAULT_CLUSTER_CONFIG, type NamespaceSettings, parseClusterConfig, resolveNamespace } from "./config";
import { applyDefaults } from "./defaults";
import { portName } from "./defaults/container";
import { type Owner } from "./generators/common";
import { generateHpa } from "./generators/hpa";
import { generatePublicPolicy, generateRequireJwtPolicy } from "./generators/authorization-policy";
import { generateRequestAuthentication } from "./generators/request-authentication";
import { generateService } from "./generators/service";
import { type RouteConflict, assignRoutes, generateVirtualService } from "./generators/virtual-service";
import { RouteIndex, checkJwtWithoutRequestAuth, checkRouteClash, checkWorkload } from "./policy";
import { type Finding, type Problem, deny } from "./problems";
import { type Companion, type KubeObject, type V1Deployment, extensibleCopy } from "./types";
import { type WorkloadSettings, isManaged, objectRef, resolveWorkload } from "./workload";
import { keepStored, readRecord, recordFills, serializeRecord, withoutFills } from "./record";
import { deploymentShape } from "./shape";

export interface Admission {
  /** The Deployment with defaults filled in; the input itself when it cannot be resolved. */
  mutated: V1Deployment;
  settings?: WorkloadSettings;
  problems: Problem[];
}

/** Admits one labelled Deployment: defaults, then policy. `siblings` are the namespace's other managed Deployments. */
export function admitDeployment(
  deployment: V1Deployment,
  ns: NamespaceSettings,
  cluster: ClusterConfig,
  siblings: readonly V1Deployment[],
): Admission {
  return admitAmong(
    deployment,
    ns,
    cluster,
    siblings.flatMap(d => resolveWorkload(d, ns, cluster).settings ?? []),
  );
}

export interface AdmitOptions {
  /**
   * Whether `mutated` gets the applied-defaults record (default true). A caller that needs only
   * the problems (Validate: Mutate wrote the record already) skips building it; the problems
   * are the same either way, as no check reads the record's annotation.
   */
  record?: boolean;
}

/** As admitDeployment, with the siblings already resolved (render and admission resolve each Deployment once). */
export function admitAmong(
  deployment: V1Deployment,
  ns: NamespaceSettings,
  cluster: ClusterConfig,
  others: readonly WorkloadSettings[] | RouteIndex,
  { record: withRecord = true }: AdmitOptions = {},
): Admission {
  // Recorded fills are discarded before anything reads the Deployment (SPEC §12.1).
  const { record, problems: recordProblems } = readRecord(deployment, objectRef(deployment));
  const unfilled = record && deploymentShape(deployment).length === 0 ? withoutFills(deployment, record) : deployment;
  const { settings, problems } = resolveWorkload(unfilled, ns, cluster);
  // Not resolved: stored as sent, with no fill removed or added (SPEC §12.2).
  if (!settings) return { mutated: deployment, problems: [...recordProblems, ...problems] };
  const mutated = applyDefaults(unfilled, settings);
  // The record holds fills as the module writes them; the object keeps what is stored as stored.
  const applied = withRecord ? serializeRecord(recordFills(unfilled, mutated, settings.containerIndex)) : undefined;
  keepStored(mutated, deployment, settings.containerIndex);
  if (applied !== undefined) {
    const annotations = extensibleCopy(mutated.metadata?.annotations);
    annotations[APPLIED_DEFAULTS_ANNOTATION] = applied;
    mutated.metadata = { ...mutated.metadata, annotations };
  }
  return {
    mutated,
    settings,
    problems: [...recordProblems, ...checkWorkload(mutated, settings), ...checkRouteClash(settings, others)],
  };
}

export interface PlannedApp {
  settings: WorkloadSettings;
  /** The stored (mutated) Deployment: its port names decide the Service's targetPort. */
  deployment: V1Deployment;
  owner?: Owner;
}

/** A namespace gets objects when it holds a managed Deployment or asks on the Namespace itself. */
export const namespaceIsActive = (ns: NamespaceSettings, apps: readonly PlannedApp[]): boolean =>
  apps.length > 0 || ns.activatedByNamespace;

/** Every companion a namespace should have (SPEC §5), in the canonical order. */
export function planNamespace(ns: NamespaceSettings, apps: readonly PlannedApp[]): Companion[] {
  return planCompanions(ns, apps).companions;
}

export interface NamespacePlan {
  companions: Companion[];
  /** Exposed apps left without a route: an app created first has their path (SPEC §12.2). */
  routeConflicts: RouteConflict[];
}

/** As planNamespace, also naming the apps that lost their route to an older one (the reconciler reports them). */
export function planCompanions(ns: NamespaceSettings, apps: readonly PlannedApp[]): NamespacePlan {
  if (!namespaceIsActive(ns, apps)) return { companions: [], routeConflicts: [] };
  const perApp = apps.flatMap(({ settings, deployment, owner }) => {
    const container = deployment.spec?.template?.spec?.containers?.[settings.containerIndex];
    return [
      generateService(settings, portName(container, settings.port) ?? "http", owner, portName(container, settings.grpcPort) ?? "grpc"),
      generateHpa(settings, owner),
      generatePublicPolicy(settings, owner),
    ];
  });
  const { routed, conflicts } = assignRoutes(apps);
  const virtualService = generateVirtualService(ns, routed);
  const shared = [virtualService, generateRequestAuthentication(ns), generateRequireJwtPolicy(ns)];
  return {
    companions: sortCompanions([...perApp, ...shared].filter((o): o is NonNullable<typeof o> => o !== undefined)),
    // Without a VirtualService no app has a route to lose.
    routeConflicts: virtualService ? conflicts : [],
  };
}

const KIND_ORDER = ["Service", "HorizontalPodAutoscaler", "VirtualService", "RequestAuthentication", "AuthorizationPolicy"];
/** A kind's place in KIND_ORDER (-1 for any other), looked up once per comparison of a large sort. */
const KIND_RANK = new Map(KIND_ORDER.map((k, i) => [k, i]));
const kindRank = (kind = ""): number => KIND_RANK.get(kind) ?? -1;

const compareStrings = (a = "", b = ""): number => (a < b ? -1 : a > b ? 1 : 0);

export const compareCompanions = (a: KubeObject, b: KubeObject): number =>
  kindRank(a.kind) - kindRank(b.kind) ||
  compareStrings(a.metadata?.namespace, b.metadata?.namespace) ||
  compareStrings(a.metadata?.name, b.metadata?.name);

export const sortCompanions = <T extends KubeObject | Companion>(objects: T[]): T[] =>
  [...objects].sort((a, b) => compareCompanions(a as KubeObject, b as KubeObject));

/** Cluster-scoped kinds: every other kind takes the default namespace when it has none. */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "StorageClass",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "MutatingAdmissionPolicy",
  "MutatingAdmissionPolicyBinding",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "APIService",
  "CSIDriver",
  "CSINode",
  "VolumeAttachment",
  "CertificateSigningRequest",
  "FlowSchema",
  "PriorityLevelConfiguration",
  "GatewayClass",
  "ClusterIssuer",
  "VolumeSnapshotClass",
]);

export const isDeployment = (o: KubeObject): boolean => o.kind === "Deployment" && (o.apiVersion ?? "").startsWith("apps/");

export interface RenderOptions {
  defaultNamespace: string;
  /** From `--config`: wins over a ConfigMap in the input. */
  config?: ClusterConfig;
}

export interface RenderResult {
  /** The input objects (mutated where managed, generated companions of the input dropped), then the generated ones. */
  objects: KubeObject[];
  /** How many of `objects` come from the input. */
  fromInput: number;
  problems: Problem[];
}

const configFindings = (object: string, findings: Finding[]): Problem[] =>
  findings.map(f => deny(object, { ...f, field: `data[${CONFIG_MAP_KEY}].${f.field}` }));

/** The offline render (SPEC §8): every input object, mutated where managed, then the companions. */
export function render(input: readonly KubeObject[], options: RenderOptions): RenderResult {
  const problems: Problem[] = [];
  // Companions in the input (render's own output given back) are replaced by the generated ones.
  const objects = input.filter(o => !isGeneratedCompanion(o)).map(o => withNamespace(o, options.defaultNamespace));

  const configMaps = objects.filter(o => o.kind === "ConfigMap" && o.metadata?.name === CONFIG_MAP_NAME);
  let cluster = options.config ?? DEFAULT_CLUSTER_CONFIG;
  configMaps.forEach((cm, i) => {
    const object = `${cm.metadata?.namespace}/${CONFIG_MAP_NAME}`;
    const text = (cm.data as Record<string, string> | undefined)?.[CONFIG_MAP_KEY] ?? "";
    const parsed = parseClusterConfig(text);
    if (!parsed.ok) problems.push(...configFindings(object, parsed.findings));
    else if (i > 0)
      problems.push(
        deny(object, { field: "metadata.name", what: `a second ${CONFIG_MAP_NAME} is in the input`, fix: "keep one cluster config" }),
      );
    else if (!options.config) cluster = parsed.config;
  });

  const namespaceAnnotations = new Map<string, Record<string, string>>();
  const namespaces = new Map<string, NamespaceSettings>();
  for (const o of objects) {
    if (o.kind !== "Namespace" || !o.metadata?.name || namespaceAnnotations.has(o.metadata.name)) continue;
    namespaceAnnotations.set(o.metadata.name, o.metadata.annotations ?? {});
  }
  const namespaceOf = (name: string): NamespaceSettings => {
    let ns = namespaces.get(name);
    if (!ns) {
      const resolved = resolveNamespace(name, namespaceAnnotations.get(name), cluster);
      problems.push(...resolved.problems);
      ns = resolved.settings;
      namespaces.set(name, ns);
    }
    return ns;
  };
  [...namespaceAnnotations.keys()].forEach(namespaceOf);

  // Earlier Deployments are the siblings of later ones, in their namespace and on a shared host:
  // the later one of a clash is denied.
  const apps = new Map<string, PlannedApp[]>();
  const earlier = new RouteIndex();
  const output = objects.map(o => {
    const d = o as V1Deployment;
    if (!isDeployment(o) || !isManaged(d)) return o;
    const nsName = d.metadata!.namespace!;
    const admitted = apps.get(nsName) ?? [];
    apps.set(nsName, admitted);
    const result = admitAmong(d, namespaceOf(nsName), cluster, earlier);
    problems.push(...result.problems);
    if (result.settings) {
      admitted.push({ settings: result.settings, deployment: result.mutated });
      earlier.add(result.settings);
    }
    return result.mutated as KubeObject;
  });

  const active = [...namespaces.values()].filter(ns => namespaceIsActive(ns, apps.get(ns.name) ?? []));
  problems.push(...active.flatMap(checkJwtWithoutRequestAuth));
  const companions = active.flatMap(ns => planNamespace(ns, apps.get(ns.name) ?? []));
  return { objects: [...output, ...(sortCompanions(companions) as KubeObject[])], fromInput: output.length, problems };
}

const isGeneratedCompanion = (o: KubeObject): boolean =>
  o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && KIND_ORDER.includes(o.kind ?? "");

function withNamespace(o: KubeObject, defaultNamespace: string): KubeObject {
  if (CLUSTER_SCOPED.has(o.kind ?? "") || o.metadata?.namespace) return o;
  return { ...o, metadata: { ...(o.metadata ?? {}), namespace: defaultNamespace } };
}
