// Keeping companions in step (SPEC §7, §12), as plain functions: what a namespace should hold given
// what the API server returned, and which writes bring it there. The reconciler does the I/O.
import { equals } from "ramda";
import { APP_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, REQUEST_AUTHENTICATION_NAME, REQUIRE_JWT_POLICY_NAME } from "./constants";
import { type ClusterConfig, resolveNamespace } from "./config";
import { type RouteConflict, compareCreation, compareRoutes, routeConflict, routePath } from "./generators/virtual-service";
import { type PlannedApp, planCompanions } from "./plan";
import type { Problem } from "./problems";
import type { Companion, HttpRoute, KubeObject, V1Deployment, VirtualService } from "./types";
import { resolveWorkload } from "./workload";

export interface Wanted {
  companions: Companion[];
  /** The managed Deployments that resolve, as planned. */
  apps: PlannedApp[];
  /** Managed Deployments that no longer resolve (e.g. their profile left the config): their objects are kept. */
  unresolved: { deployment: V1Deployment; problems: Problem[] }[];
  /** Malformed Namespace annotations stored before the module was installed. */
  namespaceProblems: Problem[];
  /** Exposed apps left without a route: an app created first has their path (SPEC §12.2). */
  routeConflicts: RouteConflict[];
}

/** The companions a namespace should hold, from its stored Namespace annotations and managed Deployments. */
export function wantedCompanions(
  namespace: string,
  annotations: Record<string, string> | undefined,
  config: ClusterConfig,
  deployments: readonly V1Deployment[],
): Wanted {
  const ns = resolveNamespace(namespace, annotations, config);
  const apps: PlannedApp[] = [];
  const unresolved: Wanted["unresolved"] = [];
  for (const d of [...deployments].sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1))) {
    const { settings, problems } = resolveWorkload(d, ns.settings, config);
    if (settings) apps.push({ settings, deployment: d, owner: { name: settings.app, uid: d.metadata?.uid ?? "" } });
    else unresolved.push({ deployment: d, problems });
  }
  const { companions, routeConflicts } = planCompanions(ns.settings, apps);
  return { companions, apps, unresolved, namespaceProblems: ns.problems, routeConflicts };
}

export const isManagedObject = (o: KubeObject): boolean => o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;

export const objectKey = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }): string =>
  `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`;

/** `Kind/name`, as Events and logs name an object of the namespace at hand. */
export const objectLabel = (o: { kind?: string; metadata?: { name?: string } }): string => `${o.kind}/${o.metadata?.name}`;

type Item = Record<string, unknown>;

/**
 * Lists the API server merges by key (listType=map): an item another field manager adds there
 * is theirs. Every other list the module sets is atomic: its value wins as a whole (SPEC §12.5).
 */
export const KEYED_LISTS: Record<string, (item: Item) => string> = {
  "metadata.ownerReferences": r => String(r.uid),
  "Service:spec.ports": p => `${p.port}/${p.protocol ?? "TCP"}`,
};

/**
 * True when every field the module sets has the wanted value in the live object. Fields the
 * API server or others add are ignored, and so are items others add to a keyed list; atomic
 * lists must match element by element.
 */
export function isUpToDate(wanted: unknown, live: unknown): boolean {
  const kind = (wanted as KubeObject | null)?.kind;
  return covers(wanted, live, path => KEYED_LISTS[`${kind}:${path}`] ?? KEYED_LISTS[path], "");
}

const isItem = (v: unknown): v is Item => v !== null && typeof v === "object" && !Array.isArray(v);

function covers(wanted: unknown, live: unknown, keyedAt: (path: string) => ((item: Item) => string) | undefined, path: string): boolean {
  if (Array.isArray(wanted)) {
    if (!Array.isArray(live)) return false;
    const key = keyedAt(path);
    const at = `${path}[]`;
    if (!key) return live.length === wanted.length && wanted.every((w, i) => covers(w, live[i], keyedAt, at));
    const byKey = new Map(live.filter(isItem).map(l => [key(l), l]));
    return wanted.every(w => isItem(w) && covers(w, byKey.get(key(w)), keyedAt, at));
  }
  if (isItem(wanted)) {
    if (!isItem(live)) return false;
    return Object.entries(wanted).every(([k, v]) => covers(v, live[k], keyedAt, path ? `${path}.${k}` : k));
  }
  return equals(wanted, live);
}

/** The namespace's security and routing: never removed for want of input (SPEC §12.4). */
export const SECURITY_KINDS: ReadonlySet<string> = new Set(["VirtualService", "RequestAuthentication", "AuthorizationPolicy"]);

/** Namespace objects every app relies on: kept while one of its Deployments does not resolve (SPEC §12.3). */
const SHARED_OBJECTS = new Set([`RequestAuthentication/${REQUEST_AUTHENTICATION_NAME}`, `AuthorizationPolicy/${REQUIRE_JWT_POLICY_NAME}`]);

export interface SyncOptions {
  /**
   * False while no valid cluster config is known (SPEC §12.4): the ConfigMap is invalid, lacks
   * `config.yaml`, or is gone after one was seen. Objects are still created and updated, but no
   * security or routing object is deleted and no route removed.
   */
  configValid?: boolean;
}

export interface SyncPlan {
  /** Missing or drifted: server-side apply these. */
  apply: Companion[];
  /** Managed objects no longer wanted: delete these. */
  prune: KubeObject[];
  /** A wanted name held by an object the module did not create: left alone and reported. */
  conflicts: { wanted: Companion; existing: KubeObject }[];
  /** What stays only because no valid config is known: `Kind/name`, or `route <app> of VirtualService/<name>`. */
  keptForConfig: string[];
  /** While no valid config is known: every security or routing object here, which no deletion may touch (`Kind/name`). */
  guarded: string[];
  /** Exposed apps that get no route, each with the app created first that keeps it. */
  routeConflicts: RouteConflict[];
}

/**
 * `managed` are the live objects labelled as the module's; `others` are live objects that hold
 * a wanted name without that label. What must stay is kept here, so the caller only writes:
 * - a Deployment that does not resolve keeps its per-app objects, its route and the shared
 *   namespace objects (SPEC §12.3);
 * - a Namespace with malformed annotations keeps its security and routing objects exactly as
 *   they are: its settings cannot be known, so they are neither applied nor pruned (SPEC §12.4);
 * - without a valid config, no security or routing object or route is removed (SPEC §12.4).
 */
export function planSync(
  wanted: Wanted,
  managed: readonly KubeObject[],
  others: readonly KubeObject[],
  { configValid = true }: SyncOptions = {},
): SyncPlan {
  const held = new Map(wanted.unresolved.map(u => [u.deployment.metadata!.name!, u.deployment]));
  const frozen = (o: { kind?: string }): boolean => wanted.namespaceProblems.length > 0 && SECURITY_KINDS.has(o.kind ?? "");
  const live = new Map(managed.map(o => [objectKey(o), o]));
  const taken = new Map(others.map(o => [objectKey(o), o]));
  const plan: SyncPlan = { apply: [], prune: [], conflicts: [], keptForConfig: [], guarded: [], routeConflicts: [] };

  const companions = wanted.companions.map(c => {
    if (c.kind !== "VirtualService" || frozen(c)) return c;
    const kept = keepRoutes(c as VirtualService, live.get(objectKey(c)), held, configValid, wanted.apps);
    plan.keptForConfig.push(...kept.keptForConfig);
    plan.routeConflicts.push(...kept.routeConflicts);
    return kept.virtualService;
  });
  // Route conflicts are moot while the VirtualService itself is kept as it is.
  if (!frozen({ kind: "VirtualService" })) plan.routeConflicts.unshift(...wanted.routeConflicts);

  const wantedKeys = new Set(companions.map(objectKey));
  for (const w of companions) {
    if (frozen(w)) continue;
    const key = objectKey(w);
    const existing = taken.get(key);
    if (existing && !live.has(key)) plan.conflicts.push({ wanted: w, existing });
    else if (!isUpToDate(w, live.get(key))) plan.apply.push(w);
  }
  for (const o of managed) {
    if (wantedKeys.has(objectKey(o)) || frozen(o) || heldByUnresolved(o, held)) continue;
    if (!configValid && SECURITY_KINDS.has(o.kind ?? "")) plan.keptForConfig.push(objectLabel(o));
    else plan.prune.push(o);
  }
  if (!configValid) plan.guarded = managed.filter(o => SECURITY_KINDS.has(o.kind ?? "")).map(objectLabel);
  return plan;
}

const routesOf = (o: KubeObject | undefined): HttpRoute[] => {
  const http = (o?.spec as { http?: unknown } | undefined)?.http;
  return Array.isArray(http) ? (http as HttpRoute[]) : [];
};

/** A live object that a Deployment that does not resolve still has (SPEC §12.3). */
function heldByUnresolved(o: KubeObject, held: ReadonlyMap<string, V1Deployment>): boolean {
  if (held.size === 0) return false;
  const app = o.metadata?.labels?.[APP_LABEL];
  if (app !== undefined) return held.has(app);
  if (SHARED_OBJECTS.has(objectLabel(o))) return true;
  // No VirtualService is wanted any more: the live one stays as it is while it routes to such an app.
  return o.kind === "VirtualService" && routesOf(o).some(r => held.has(r.name));
}

/**
 * The wanted VirtualService with the live routes that must stay, in route order: those of apps
 * whose Deployment does not resolve, and, while no valid config is known, every route. A kept
 * route never doubles a match: of two apps with one path the one created first keeps it, and a
 * route of an app that is gone gives way.
 */
function keepRoutes(
  wanted: VirtualService,
  live: KubeObject | undefined,
  held: ReadonlyMap<string, V1Deployment>,
  configValid: boolean,
  apps: readonly PlannedApp[],
): { virtualService: VirtualService; keptForConfig: string[]; routeConflicts: RouteConflict[] } {
  const result = { virtualService: wanted, keptForConfig: [] as string[], routeConflicts: [] as RouteConflict[] };
  const names = new Set(wanted.spec.http.map(r => r.name));
  const keep = routesOf(live).filter(r => !names.has(r.name) && (held.has(r.name) || !configValid));
  if (keep.length === 0) return result;
  const deploymentOf = new Map(apps.map(a => [a.settings.app, a.deployment]));
  let http = [...wanted.spec.http];
  for (const route of keep) {
    const rival = http.find(r => equals(r.match, route.match));
    const [mine, theirs] = [held.get(route.name), rival && deploymentOf.get(rival.name)];
    if (rival && !(mine && theirs && compareCreation(mine, theirs) < 0)) {
      if (mine) result.routeConflicts.push(routeConflict(mine, routePath(route), rival.name));
      continue;
    }
    if (rival && mine && theirs) {
      http = http.filter(r => r !== rival);
      result.routeConflicts.push(routeConflict(theirs, routePath(rival), route.name));
    }
    http.push(route);
    if (!mine) result.keptForConfig.push(`route ${route.name} of ${objectLabel(wanted)}`);
  }
  result.virtualService = { ...wanted, spec: { ...wanted.spec, http: http.sort(compareRoutes) } };
  return result;
}
