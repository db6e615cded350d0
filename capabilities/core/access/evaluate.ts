// Istio authorization as a workload's sidecar applies it, for one class of requests.
// Order (istio.io "Authorization Policy" reference): CUSTOM, then DENY, then ALLOW — no ALLOW
// policy on the workload → allow; an ALLOW match → allow; otherwise deny. Only what can be
// decided exactly is modelled; anything else yields `unknown` naming the field.
import type { KubeObject, Labels } from "../types";
import {
  type NamespaceSet,
  type PathSet,
  type Tri,
  and,
  fromRelation,
  isUnknown,
  not,
  or,
  parsePattern,
  relateNamespace,
  relatePath,
  unknown,
} from "./match";

/** Istio's default root namespace: its policies apply mesh-wide. */
export const ROOT_NAMESPACE = "istio-system";
/** Where internet requests come from, as far as a sidecar can tell: the ingress gateway's namespace. */
export const INGRESS_NAMESPACE = "istio-system";
/** A policy with this annotation set to "true" is evaluated but not enforced. */
export const DRY_RUN_ANNOTATION = "istio.io/dry-run";

export interface Workload {
  namespace: string;
  /** Pod labels. */
  labels: Labels;
}

/** A class of requests. Every caller is assumed to speak mTLS (sidecar or ingress gateway), so its namespace is known. */
export interface RequestClass {
  source: NamespaceSet;
  /** Carries a JWT the workload's RequestAuthentication accepts (when one applies). */
  jwt: boolean;
  /** The path as the sidecar sees it. */
  path: PathSet;
}

export interface Decision {
  outcome: "allow" | "deny" | "unknown";
  decidedBy: string;
}

export const NO_POLICY = "no policy";

type Json = unknown;
type Obj = Record<string, Json>;
const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export const isIstioSecurity = (o: KubeObject, kind: string): boolean =>
  o.kind === kind && (o.apiVersion ?? "").startsWith("security.istio.io/");

export const objectRef = (o: KubeObject): string => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byRef = (a: KubeObject, b: KubeObject): number =>
  compare(a.metadata?.namespace ?? "", b.metadata?.namespace ?? "") || compare(a.metadata?.name ?? "", b.metadata?.name ?? "");

export interface SecurityObjects {
  /** AuthorizationPolicies by namespace then name: "first" below means first in this order. */
  policies: KubeObject[];
  requestAuthentications: KubeObject[];
}

export const securityObjects = (objects: readonly KubeObject[]): SecurityObjects => ({
  policies: objects.filter(o => isIstioSecurity(o, "AuthorizationPolicy")).sort(byRef),
  requestAuthentications: objects.filter(o => isIstioSecurity(o, "RequestAuthentication")).sort(byRef),
});

/** A list of strings; absent or empty means "not set" (proto semantics); anything else is malformed. */
function strings(v: Json): string[] | undefined | "malformed" {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(s => typeof s === "string")) return "malformed";
  return v.length === 0 ? undefined : (v as string[]);
}

const specOf = (o: KubeObject): Obj => (isObj(o.spec) ? o.spec : {});

/**
 * Whether a policy (or RequestAuthentication) is on the workload: same namespace or the root
 * namespace, and a selector (matchLabels) that the pod labels satisfy; no selector → every
 * workload there. targetRef(s) attach to gateways/waypoints, not modelled.
 */
function appliesTo(o: KubeObject, w: Workload, ref: string): Tri {
  const ns = o.metadata?.namespace;
  if (ns !== w.namespace && ns !== ROOT_NAMESPACE) return false;
  const spec = specOf(o);
  for (const key of ["targetRef", "targetRefs"]) {
    const v = spec[key];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) return unknown(`${ref}: spec.${key}`);
  }
  const selector = spec.selector;
  if (selector === undefined || selector === null) return true;
  if (!isObj(selector) || Object.keys(selector).some(k => k !== "matchLabels")) return unknown(`${ref}: spec.selector`);
  const labels = selector.matchLabels ?? {};
  if (!isObj(labels)) return unknown(`${ref}: spec.selector.matchLabels`);
  return Object.entries(labels).every(([k, v]) => w.labels[k] === v);
}

interface Context {
  request: RequestClass;
  /** Whether the request carries a request principal (a JWT validated by a RequestAuthentication). */
  principal: Tri;
}

/** A JWT becomes a request principal only where a RequestAuthentication with jwtRules validates it. */
function requestPrincipal(w: Workload, request: RequestClass, sec: SecurityObjects): Tri {
  if (!request.jwt) return false;
  return or(
    sec.requestAuthentications.map(ra => {
      const rules = specOf(ra).jwtRules;
      return and([appliesTo(ra, w, objectRef(ra)), Array.isArray(rules) && rules.length > 0]);
    }),
  );
}

/**
 * Values match when any one of them does. A `*` inside a value is not one of Istio's four
 * forms (istiod rejects it, or reads it as a path template): not guessed.
 */
const anyValue = (values: string[], one: (v: string) => Tri, at: string): Tri =>
  or(values.map(v => (v.length > 2 && v.slice(1, -1).includes("*") ? unknown(at) : one(v))));

/** `requestPrincipals`: `<iss>/<sub>` of the caller's token, unknown here except that one exists. */
const principalValues = (values: string[], present: Tri, at: string): Tri => and([present, values.includes("*") ? true : unknown(at)]);

function sourceField(key: string, values: string[], ctx: Context, at: string): Tri {
  const namespaces = (): Tri => anyValue(values, v => fromRelation(relateNamespace(ctx.request.source, parsePattern(v)), at), at);
  // mTLS is assumed, so a peer principal exists, but which service account it names is not known.
  const peer = (): Tri => (values.includes("*") ? true : unknown(at));
  switch (key) {
    case "namespaces":
      return namespaces();
    case "notNamespaces":
      return not(namespaces());
    case "requestPrincipals":
      return principalValues(values, ctx.principal, at);
    // Exclusion: no principal at all is "not any of these" (istio.io: notRequestPrincipals ["*"] catches requests without a JWT).
    case "notRequestPrincipals":
      return not(principalValues(values, ctx.principal, at));
    case "principals":
      return peer();
    case "notPrincipals":
      return not(peer());
    default:
      // ipBlocks, remoteIpBlocks, serviceAccounts and their negations, and any newer field.
      return unknown(at);
  }
}

function operationField(key: string, values: string[], ctx: Context, at: string): Tri {
  // Path templates ({*}, {**}) follow Envoy's URI template rules: not modelled.
  const paths = (): Tri =>
    anyValue(values, v => (v.includes("{") ? unknown(at) : fromRelation(relatePath(ctx.request.path, parsePattern(v)), at)), at);
  switch (key) {
    case "paths":
      return paths();
    case "notPaths":
      return not(paths());
    default:
      // hosts, ports, methods and their negations: a caller class does not fix them.
      return unknown(at);
  }
}

/** Fields of one source/operation are ANDed; an unset field matches anything. */
function fieldsMatch(body: Json, at: string, field: (key: string, values: string[], at: string) => Tri): Tri {
  if (body === undefined || body === null) return true;
  if (!isObj(body)) return unknown(at);
  return and(
    Object.keys(body).map(key => {
      const values = strings(body[key]);
      if (values === undefined) return true;
      if (values === "malformed") return unknown(`${at}.${key}`);
      return field(key, values, `${at}.${key}`);
    }),
  );
}

/** `from`/`to`: any one entry matching is enough; unset or empty matches anything. */
function entries(list: Json, at: string, one: (entry: Json, at: string) => Tri): Tri {
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) return true;
  if (!Array.isArray(list)) return unknown(at);
  return or(list.map((entry, i) => one(entry, `${at}[${i}]`)));
}

/** A rule matches when its from, to and when all match; an empty rule `{}` matches every request. */
function ruleMatches(rule: Json, ctx: Context, at: string): Tri {
  if (!isObj(rule)) return unknown(at);
  return and(
    Object.keys(rule).map(key => {
      const v = rule[key];
      switch (key) {
        case "from":
          return entries(v, `${at}.from`, (e, eat) =>
            isObj(e) ? fieldsMatch(e.source, `${eat}.source`, (k, vals, fat) => sourceField(k, vals, ctx, fat)) : unknown(eat),
          );
        case "to":
          return entries(v, `${at}.to`, (e, eat) =>
            isObj(e) ? fieldsMatch(e.operation, `${eat}.operation`, (k, vals, fat) => operationField(k, vals, ctx, fat)) : unknown(eat),
          );
        case "when":
          // Conditions (claims, headers, source.ip, ...) are not modelled.
          return Array.isArray(v) && v.length === 0 ? true : unknown(`${at}.when`);
        default:
          return unknown(`${at}.${key}`);
      }
    }),
  );
}

/** Istio reference: rules "If not set, the match will never occur" — `spec: {}` matches nothing. */
function policyMatches(policy: KubeObject, ctx: Context, ref: string): Tri {
  const rules = specOf(policy).rules;
  if (rules === undefined || rules === null || (Array.isArray(rules) && rules.length === 0)) return false;
  if (!Array.isArray(rules)) return unknown(`${ref}: spec.rules`);
  return or(rules.map((rule, i) => ruleMatches(rule, ctx, `${ref}: spec.rules[${i}]`)));
}

const actionOf = (policy: KubeObject): Json => specOf(policy).action ?? "ALLOW";

const isDryRun = (o: KubeObject): boolean => o.metadata?.annotations?.[DRY_RUN_ANNOTATION] === "true";

interface Candidate {
  ref: string;
  action: Json;
  applies: Tri;
  /** applies AND matches. */
  effective: Tri;
}

/** The decision of the workload's sidecar for a request class. */
export function decide(w: Workload, request: RequestClass, sec: SecurityObjects): Decision {
  const ctx: Context = { request, principal: requestPrincipal(w, request, sec) };
  const candidates: Candidate[] = sec.policies
    .filter(p => !isDryRun(p))
    .map(p => {
      const ref = objectRef(p);
      const applies = appliesTo(p, w, ref);
      return { ref, action: actionOf(p), applies, effective: applies === false ? false : and([applies, policyMatches(p, ctx, ref)]) };
    })
    .filter(c => c.applies !== false);

  const unknownOf = (t: Tri): Decision => ({ outcome: "unknown", decidedBy: isUnknown(t) ? t.unknown : "" });

  // CUSTOM delegates to an external authorizer; an action Istio does not define is not guessed either.
  // AUDIT only marks requests for logging and never changes the decision.
  const delegated = candidates.find(c => c.action !== "ALLOW" && c.action !== "DENY" && c.action !== "AUDIT" && c.effective !== false);
  if (delegated) return { outcome: "unknown", decidedBy: `${delegated.ref}: spec.action (${String(delegated.action)})` };

  const denies = candidates.filter(c => c.action === "DENY");
  const denied = denies.find(c => c.effective === true);
  if (denied) return { outcome: "deny", decidedBy: denied.ref };
  const maybeDenied = denies.find(c => isUnknown(c.effective));
  if (maybeDenied) return unknownOf(maybeDenied.effective);

  const allows = candidates.filter(c => c.action === "ALLOW");
  if (allows.length === 0) return { outcome: "allow", decidedBy: NO_POLICY };
  const allowed = allows.find(c => c.effective === true);
  if (allowed) return { outcome: "allow", decidedBy: allowed.ref };
  const maybeAllowed = allows.find(c => isUnknown(c.effective));
  if (maybeAllowed) return unknownOf(maybeAllowed.effective);
  // "Deny by default" needs an ALLOW policy that certainly applies; with none, it depends.
  const certain = allows.find(c => c.applies === true);
  if (!certain) return unknownOf(allows[0].applies);
  return { outcome: "deny", decidedBy: certain.ref };
}
