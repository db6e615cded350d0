// What `ai-workloads status` shows (SPEC §14.4): per managed Deployment, its companions and
// defaults as the reconciler sees them now. Pure: built from observeNamespace's Observation (the
// reconciler's own reads and plan) and the module's stored Events, so status and the reconciler
// never disagree about what is missing, drifted or in conflict.
import { jwtRequirement } from "../core/access/graph";
import { securityObjects } from "../core/access/evaluate";
import type { ClusterConfig } from "../core/config";
import { APP_LABEL, KIND_LABEL, VIRTUAL_SERVICE_NAME, publicPolicyName } from "../core/constants";
import { defaultsState } from "../core/defaults-state";
import { routePath } from "../core/generators/virtual-service";
import { denials, formatProblem } from "../core/problems";
import { objectKey, objectLabel } from "../core/sync";
import type { HttpRoute, KubeObject, V1Deployment } from "../core/types";
import type { Observation } from "./observe";

export type CompanionState = "ok" | "missing" | "drifted" | "conflict" | "failed";

export interface CompanionStatus {
  kind: string;
  name: string;
  state: CompanionState;
  /** Why, for conflict (who holds the name) and failed (the API server's refusal, from the Event). */
  detail?: string;
}

export type DefaultsStatus =
  | { state: "current" }
  | { state: "outdated" | "never-admitted"; changes: string[] }
  /** The Deployment does not resolve: admission would deny it, so no defaults are due. */
  | { state: "unresolved"; problems: string[] }
  /** No valid cluster config is known: what admission gives now cannot be said. */
  | { state: "unknown"; why: string };

export interface EventSummary {
  reason: string;
  message: string;
  time: string;
}

export interface AppStatus {
  namespace: string;
  name: string;
  kind: string;
  ok: boolean;
  route: { host: string; path: string } | null;
  publicPaths: string[];
  jwt: string;
  companions: CompanionStatus[];
  defaults: DefaultsStatus;
  lastEvent: EventSummary | null;
}

export interface NamespaceStatus {
  namespace: string;
  ok: boolean;
  apps: AppStatus[];
  /** Namespace objects (VirtualService, RequestAuthentication, require-jwt) not ok and shown on no app row. */
  companions: CompanionStatus[];
  /** Managed objects no longer wanted: the reconciler deletes these (`Kind/name`). */
  prunes: string[];
  /** The Namespace's ai-workloads.io annotations do not resolve; its security objects are kept as they are. */
  problems: string[];
  /** Companion kinds whose API is not installed: their companions are skipped. */
  missingKinds: string[];
}

export interface StatusOptions {
  /** False while no valid cluster config is known (as the reconciler's configValid). */
  configValid?: boolean;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

interface StoredEvent {
  reason: string;
  message: string;
  /** Milliseconds, for ordering. */
  at: number;
  time: string;
  resourceVersion: number;
  index: number;
  on: { kind?: string; name?: string; namespace?: string; uid?: string };
}

/** client-node gives Dates, the API server's JSON strings. */
const timeOf = (v: unknown): number => {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "string" && v !== "") return new Date(v).getTime();
  return NaN;
};

function storedEvents(events: readonly KubeObject[]): StoredEvent[] {
  return events.map((e, index) => {
    const candidates = [e.eventTime, e.lastTimestamp, e.firstTimestamp, e.metadata?.creationTimestamp].map(timeOf);
    const at = candidates.find(t => !Number.isNaN(t)) ?? 0;
    const rv = Number(e.metadata?.resourceVersion);
    return {
      reason: String(e.reason ?? ""),
      message: String(e.message ?? ""),
      at,
      time: at > 0 ? new Date(at).toISOString().replace(/\.000Z$/, "Z") : "",
      resourceVersion: Number.isFinite(rv) ? rv : 0,
      index,
      on: (isObject(e.involvedObject) ? e.involvedObject : {}) as StoredEvent["on"],
    };
  });
}

/** Newest first: by time, then by the API server's write order (Events are stamped to the second). */
const newestFirst = (a: StoredEvent, b: StoredEvent): number => b.at - a.at || b.resourceVersion - a.resourceVersion || b.index - a.index;

/** Whether an Event's message names `Kind/name` as a whole word (`Service/chat` is not `Service/chat-ui`). */
const names = (message: string, label: string): boolean =>
  new RegExp(`(^|\\s)${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[\\s:,;.])`).test(message);

const routesOf = (o: KubeObject | undefined): HttpRoute[] => {
  const http = isObject(o?.spec) ? o.spec.http : undefined;
  return Array.isArray(http) ? (http as HttpRoute[]) : [];
};
const hostOf = (o: KubeObject | undefined): string => {
  const hosts = isObject(o?.spec) ? o.spec.hosts : undefined;
  return Array.isArray(hosts) && typeof hosts[0] === "string" ? hosts[0] : "";
};

/** The paths of a live `<app>-public` policy (its one rule's `to.operation.paths`). */
function livePublicPaths(policy: KubeObject | undefined): string[] {
  const rules = isObject(policy?.spec) ? policy.spec.rules : undefined;
  const paths = (Array.isArray(rules) ? rules : []).flatMap(r =>
    (isObject(r) && Array.isArray(r.to) ? r.to : []).flatMap(t =>
      isObject(t) && isObject(t.operation) && Array.isArray(t.operation.paths) ? t.operation.paths : [],
    ),
  );
  return paths.filter((p): p is string => typeof p === "string");
}

export function namespaceStatus(
  seen: Observation,
  events: readonly KubeObject[],
  config: ClusterConfig,
  { configValid = true }: StatusOptions = {},
): NamespaceStatus {
  const { namespace, wanted, plan, managed } = seen;
  const live = new Map(managed.map(o => [objectKey(o), o]));
  const applying = new Set(plan.apply.map(c => objectKey(c)));
  const conflicts = new Map(plan.conflicts.map(c => [objectKey(c.wanted), c.existing]));
  const pruning = new Set(plan.prune.map(objectKey));

  // What the namespace holds once the plan is carried out: its route and JWT columns describe that.
  const converged = new Map<string, KubeObject>();
  for (const o of managed) if (!pruning.has(objectKey(o))) converged.set(objectKey(o), o);
  for (const c of plan.apply) converged.set(objectKey(c), c as KubeObject);
  for (const [key, existing] of conflicts) converged.set(key, existing);
  const sec = securityObjects([...converged.values()]);

  const stored = storedEvents(events).sort(newestFirst);
  const onDeployment = (d: V1Deployment) => (e: StoredEvent) =>
    e.on.kind === "Deployment" &&
    e.on.name === d.metadata?.name &&
    (e.on.namespace ?? namespace) === namespace &&
    // A Deployment deleted and created again under the same name is another object.
    (e.on.uid === undefined || d.metadata?.uid === undefined || e.on.uid === d.metadata.uid);
  const onNamespace = (e: StoredEvent) => e.on.kind === "Namespace" && e.on.name === namespace;

  /** State of one object the module wants (or keeps) here; `reportedOn` is where its Events go. */
  const stateOf = (o: KubeObject, reportedOn: (e: StoredEvent) => boolean): CompanionStatus => {
    const key = objectKey(o);
    const label = objectLabel(o);
    const base = { kind: o.kind ?? "", name: o.metadata?.name ?? "" };
    const holder = conflicts.get(key);
    if (holder) return { ...base, state: "conflict", detail: `${objectLabel(holder)} exists and was not created by ai-workloads` };
    const there = live.has(key);
    if (there && !applying.has(key)) return { ...base, state: "ok" };
    // Missing (or frozen while the Namespace's annotations are malformed) or drifted: failed when the newest word on it is a refusal.
    const newest = stored.find(e => reportedOn(e) && names(e.message, label));
    if (newest?.reason === "CompanionFailed") return { ...base, state: "failed", detail: newest.message };
    return { ...base, state: there ? "drifted" : "missing" };
  };

  const wantedVs = wanted.companions.find(c => c.kind === "VirtualService") as KubeObject | undefined;
  const liveVs = [...live.values()].find(o => o.kind === "VirtualService" && o.metadata?.name === VIRTUAL_SERVICE_NAME);
  const namespaceObjects = wanted.companions.filter(c => c.metadata?.labels?.[APP_LABEL] === undefined) as KubeObject[];
  const sharedSecurity = namespaceObjects.filter(o => o.kind !== "VirtualService");
  const shownOnRows = new Set<string>();

  const apps: AppStatus[] = [];
  for (const { settings, deployment } of wanted.apps) {
    const app = settings.app;
    const own = wanted.companions.filter(c => c.metadata?.labels?.[APP_LABEL] === app) as KubeObject[];
    const route = routesOf(wantedVs).find(r => r.name === app);
    const deps = [...(route && wantedVs ? [wantedVs] : []), ...sharedSecurity];
    const companions = [...own.map(o => stateOf(o, onDeployment(deployment))), ...deps.map(o => stateOf(o, onNamespace))];
    deps.forEach(o => shownOnRows.add(objectKey(o)));
    const state = configValid ? defaultsState(deployment, seen.settings, config) : undefined;
    const defaults: DefaultsStatus = !configValid
      ? { state: "unknown", why: "no valid cluster config is known" }
      : state === undefined
        ? { state: "unresolved", problems: [] }
        : state;
    apps.push(
      appStatus(deployment, {
        namespace,
        route: route && wantedVs ? { host: hostOf(wantedVs), path: routePath(route) } : null,
        publicPaths: settings.publicPaths,
        jwt: jwtRequirement({ namespace, labels: deployment.spec?.template?.metadata?.labels ?? {} }, sec),
        companions,
        defaults,
        events: stored.filter(onDeployment(deployment)),
      }),
    );
  }

  // A Deployment that does not resolve keeps what it had (SPEC §12.3): those objects are shown as they are.
  for (const { deployment, problems } of wanted.unresolved) {
    const app = deployment.metadata?.name ?? "";
    const own = [...live.values()].filter(o => o.metadata?.labels?.[APP_LABEL] === app);
    const vs = converged.get(objectKey({ kind: "VirtualService", metadata: { namespace, name: VIRTUAL_SERVICE_NAME } })) ?? liveVs;
    const route = routesOf(vs).find(r => r.name === app);
    const deps = [
      ...(route && vs ? [vs] : []),
      ...sharedSecurity,
      ...[...live.values()].filter(
        o =>
          o.kind !== "VirtualService" &&
          o.metadata?.labels?.[APP_LABEL] === undefined &&
          !sharedSecurity.some(s => objectKey(s) === objectKey(o)),
      ),
    ];
    deps.forEach(o => shownOnRows.add(objectKey(o)));
    apps.push(
      appStatus(deployment, {
        namespace,
        route: route && vs ? { host: hostOf(vs), path: routePath(route) } : null,
        publicPaths: livePublicPaths(
          live.get(objectKey({ kind: "AuthorizationPolicy", metadata: { namespace, name: publicPolicyName(app) } })),
        ),
        jwt: jwtRequirement({ namespace, labels: deployment.spec?.template?.metadata?.labels ?? {} }, sec),
        companions: [...own.map(o => stateOf(o, onDeployment(deployment))), ...deps.map(o => stateOf(o, onNamespace))],
        defaults: { state: "unresolved", problems: denials(problems).map(formatProblem) },
        events: stored.filter(onDeployment(deployment)),
      }),
    );
  }
  apps.sort((a, b) => compare(a.name, b.name));

  const unshown = namespaceObjects
    .filter(o => !shownOnRows.has(objectKey(o)))
    .map(o => stateOf(o, onNamespace))
    .filter(c => c.state !== "ok");
  const prunes = plan.prune.map(objectLabel);
  const problems = denials(wanted.namespaceProblems).map(formatProblem);
  const ok = apps.every(a => a.ok) && unshown.length === 0 && prunes.length === 0 && problems.length === 0;
  return { namespace, ok, apps, companions: unshown, prunes, problems, missingKinds: seen.missingKinds };
}

function appStatus(
  deployment: V1Deployment,
  parts: Omit<AppStatus, "name" | "kind" | "ok" | "lastEvent"> & { events: StoredEvent[] },
): AppStatus {
  const { events, ...rest } = parts;
  const newest = events[0];
  const ok = rest.companions.every(c => c.state === "ok") && rest.defaults.state === "current";
  // Fixed key order: `status -o json` prints these objects as they are.
  return {
    namespace: rest.namespace,
    name: deployment.metadata?.name ?? "",
    kind: deployment.metadata?.labels?.[KIND_LABEL] ?? "",
    ok,
    route: rest.route,
    publicPaths: rest.publicPaths,
    jwt: rest.jwt.replace(/^JWT: /, ""),
    companions: rest.companions,
    defaults: rest.defaults,
    lastEvent: newest ? { reason: newest.reason, message: newest.message, time: newest.time } : null,
  };
}
