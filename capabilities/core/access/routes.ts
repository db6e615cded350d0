// Whether requests from the ingress gateway reach a workload at a given sidecar-side path:
// VirtualServices bound to a gateway, their http routes in order, prefix/exact URI matches and
// URI rewrites. Anything else that decides routing (header matches, regexes, faults, route
// order across VirtualServices) yields `unknown`.
import type { KubeObject, Labels } from "../types";
import { type Matcher, type PathSet, type Relation, type Tri, fromRelation, not, or, relatePath, unknown } from "./match";

type Json = unknown;
type Obj = Record<string, Json>;
const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: Json): Json[] => (Array.isArray(v) ? v : []);
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const CLUSTER_DOMAIN = "cluster.local";

export const isVirtualService = (o: KubeObject): boolean =>
  o.kind === "VirtualService" && (o.apiVersion ?? "").startsWith("networking.istio.io/");

const vsRef = (vs: KubeObject): string => `VirtualService ${vs.metadata?.namespace ?? ""}/${vs.metadata?.name ?? ""}`;

/** Istio resolves a host without a dot in the VirtualService's namespace; any other host is taken as written. */
export const resolveHost = (host: string, namespace: string): string =>
  host.includes(".") ? host : `${host}.${namespace}.svc.${CLUSTER_DOMAIN}`;

export const serviceFqdn = (name: string, namespace: string): string => `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;

/** Services in the workload's namespace whose selector its pod labels satisfy. */
export function servicesSelecting(objects: readonly KubeObject[], namespace: string, labels: Labels): KubeObject[] {
  return objects
    .filter(o => o.kind === "Service" && o.apiVersion === "v1" && o.metadata?.namespace === namespace)
    .filter(o => {
      const selector = isObj(o.spec) && isObj(o.spec.selector) ? o.spec.selector : {};
      const entries = Object.entries(selector);
      return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
    })
    .sort((a, b) => compare(a.metadata?.name ?? "", b.metadata?.name ?? ""));
}

/** Gateways a VirtualService binds to, as `ns/name` (the reserved `mesh` means sidecars, not a gateway). */
export function gatewaysOf(vs: KubeObject): string[] {
  const ns = vs.metadata?.namespace ?? "";
  const spec = isObj(vs.spec) ? vs.spec : {};
  return list(spec.gateways)
    .filter((g): g is string => typeof g === "string" && g !== "mesh")
    .map(g => (g.includes("/") ? g : `${ns}/${g}`));
}

export const hostsOf = (vs: KubeObject): string[] =>
  list(isObj(vs.spec) ? vs.spec.hosts : undefined).filter((h): h is string => typeof h === "string");

const hostCovers = (pattern: string, host: string): boolean =>
  pattern === "*" || pattern === host || (pattern.startsWith("*.") && host.endsWith(pattern.slice(1)));

const hostsOverlap = (a: readonly string[], b: readonly string[]): boolean =>
  a.some(x => b.some(y => hostCovers(x, y) || hostCovers(y, x)));

/** One http route, as far as routing to a destination is concerned. */
export interface Route {
  vs: KubeObject;
  index: number;
  route: Obj;
}

export function gatewayVirtualServices(objects: readonly KubeObject[]): KubeObject[] {
  return objects
    .filter(o => isVirtualService(o) && gatewaysOf(o).length > 0)
    .sort(
      (a, b) =>
        compare(a.metadata?.namespace ?? "", b.metadata?.namespace ?? "") || compare(a.metadata?.name ?? "", b.metadata?.name ?? ""),
    );
}

export const routesOf = (vs: KubeObject): Route[] =>
  list(isObj(vs.spec) ? vs.spec.http : undefined).flatMap((route, index) => (isObj(route) ? [{ vs, index, route }] : []));

/** Destination hosts of a route, resolved to FQDNs. */
export const destinationsOf = (r: Route): string[] =>
  list(r.route.route).flatMap(d => {
    const host = isObj(d) && isObj(d.destination) ? d.destination.host : undefined;
    return typeof host === "string" ? [resolveHost(host, r.vs.metadata?.namespace ?? "")] : [];
  });

/** A URI match entry: no entry (or no `uri`) is Istio's catch-all prefix `/`. */
type UriMatch = { kind: "exact" | "prefix"; value: string } | { unknown: string };

function uriMatches(r: Route): UriMatch[] {
  const at = `${vsRef(r.vs)}: spec.http[${r.index}]`;
  const matches = list(r.route.match);
  if (matches.length === 0) return [{ kind: "prefix", value: "/" }];
  return matches.map((m, k): UriMatch => {
    const mat = `${at}.match[${k}]`;
    if (!isObj(m)) return { unknown: mat };
    const other = Object.keys(m).find(key => key !== "uri" && key !== "name" && key !== "statPrefix");
    if (other !== undefined) return { unknown: `${mat}.${other}` };
    if (m.uri === undefined) return { kind: "prefix", value: "/" };
    const uri = m.uri;
    if (isObj(uri) && Object.keys(uri).length === 1 && typeof uri.exact === "string") return { kind: "exact", value: uri.exact };
    if (isObj(uri) && Object.keys(uri).length === 1 && typeof uri.prefix === "string") return { kind: "prefix", value: uri.prefix };
    return { unknown: `${mat}.uri` };
  });
}

const asMatcher = (m: { kind: "exact" | "prefix"; value: string }): Matcher => ({ kind: m.kind, value: m.value });

/** Whether a route catches every, some or none of a set of gateway-side paths. */
function catches(r: Route, external: PathSet): Tri {
  const at = `${vsRef(r.vs)}: spec.http[${r.index}]`;
  return or(
    uriMatches(r).map((m, k) =>
      "unknown" in m ? unknown(m.unknown) : fromRelation(relatePath(external, asMatcher(m)), `${at}.match[${k}]`),
    ),
  );
}

interface Landing {
  /** How much of the sidecar-side set this match entry delivers. */
  relation: Relation | { unknown: string };
  /** The gateway-side paths that land on the set, when the relation is "all". */
  external?: PathSet;
  at: string;
}

/**
 * Which gateway-side paths a match entry turns into the sidecar-side set. `rewrite.uri`
 * replaces the matched prefix (prefix match) or the whole path (exact match).
 */
function landings(r: Route, sidecar: PathSet): Landing[] {
  const at = `${vsRef(r.vs)}: spec.http[${r.index}]`;
  const rewrite = r.route.rewrite;
  let to: string | undefined;
  if (rewrite !== undefined) {
    const other = isObj(rewrite) ? Object.keys(rewrite).find(k => k !== "uri" && k !== "authority") : "";
    if (!isObj(rewrite) || other !== undefined || (rewrite.uri !== undefined && typeof rewrite.uri !== "string")) {
      return [{ relation: { unknown: `${at}.rewrite${other ? `.${other}` : ""}` }, at }];
    }
    to = rewrite.uri as string | undefined;
  }
  const fault = isObj(r.route.fault) ? r.route.fault : undefined;
  if (fault?.abort !== undefined) return [{ relation: { unknown: `${at}.fault.abort` }, at }];
  return uriMatches(r).map((m, k): Landing => {
    const mat = `${at}.match[${k}]`;
    if ("unknown" in m) return { relation: { unknown: m.unknown }, at: mat };
    if (m.kind === "exact") {
      // One gateway path lands on one sidecar path: all of an exact row, part of a pattern row.
      const hit = relatePath(sidecar, { kind: "exact", value: to ?? m.value }) !== "none";
      return { relation: !hit ? "none" : "exact" in sidecar ? "all" : "some", external: { exact: m.value }, at: mat };
    }
    const base = to ?? m.value;
    const relation = relatePath(sidecar, { kind: "prefix", value: base });
    if (relation !== "all") return { relation, at: mat };
    const external: PathSet =
      "exact" in sidecar
        ? { exact: m.value + sidecar.exact.slice(base.length) }
        : { prefix: m.value + sidecar.prefix.slice(base.length), suffix: sidecar.suffix };
    return { relation, external, at: mat };
  });
}

/** Routes that take requests before this one: earlier routes of the same VirtualService, and (in undefined order) routes of other VirtualServices on the same gateway and host. */
function shadowed(r: Route, external: PathSet, all: readonly KubeObject[]): Tri {
  const earlier = routesOf(r.vs)
    .filter(e => e.index < r.index)
    .map(e => catches(e, external));
  const gateways = gatewaysOf(r.vs);
  const hosts = hostsOf(r.vs);
  const others = all
    .filter(vs => vs !== r.vs && gatewaysOf(vs).some(g => gateways.includes(g)) && hostsOverlap(hostsOf(vs), hosts))
    .flatMap(routesOf)
    .map(o => (catches(o, external) === false ? false : unknown(`${vsRef(o.vs)}: spec.http[${o.index}]`)));
  return or([...earlier, ...others]);
}

/** Routes of gateway-bound VirtualServices whose destination is one of these hosts. */
export function routesTo(objects: readonly KubeObject[], fqdns: readonly string[]): Route[] {
  return gatewayVirtualServices(objects)
    .flatMap(routesOf)
    .filter(r => r.route.redirect === undefined && r.route.directResponse === undefined && destinationsOf(r).some(d => fqdns.includes(d)));
}

/** Whether gateway requests arrive at the workload with a sidecar-side path in the set: true, false, or unknown. */
export function gatewayReach(objects: readonly KubeObject[], namespace: string, labels: Labels, sidecar: PathSet): Tri {
  const fqdns = servicesSelecting(objects, namespace, labels).map(s => serviceFqdn(s.metadata?.name ?? "", namespace));
  const vses = gatewayVirtualServices(objects);
  return or(
    routesTo(objects, fqdns).flatMap(r =>
      landings(r, sidecar).map(l => {
        if (typeof l.relation === "object") return unknown(l.relation.unknown);
        if (l.relation === "none") return false;
        if (l.relation === "some" || !l.external) return unknown(l.at);
        return not(shadowed(r, l.external, vses));
      }),
    ),
  );
}

/**
 * A route's paths for people: the module's own shape (prefix `<p>/` and exact `<p>`,
 * rewritten to `/`) is just `<p>`; otherwise each match (`*` marks a prefix) and the rewrite.
 */
export function describeRoute(r: Route): string {
  const ms = uriMatches(r);
  const rewrite = isObj(r.route.rewrite) && typeof r.route.rewrite.uri === "string" ? r.route.rewrite.uri : undefined;
  const known = ms.filter((m): m is { kind: "exact" | "prefix"; value: string } => !("unknown" in m));
  const exact = known.find(m => m.kind === "exact");
  if (
    rewrite === "/" &&
    ms.length === 2 &&
    known.length === 2 &&
    exact &&
    known.some(m => m.kind === "prefix" && m.value === `${exact.value}/`)
  ) {
    return exact.value;
  }
  const parts = ms.map(m => ("unknown" in m ? `(${m.unknown.replace(/^.*: /, "")})` : m.kind === "prefix" ? `${m.value}*` : m.value));
  return `${parts.join(", ")}${rewrite === undefined ? "" : ` (rewrite ${rewrite})`}`;
}
