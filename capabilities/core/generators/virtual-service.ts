import { DA, VIRTUAL_SERVICE_NAME } from "../constants";
import type { NamespaceSettings } from "../config";
import { annotationField } from "../parse";
import { type Problem, deny, quote } from "../problems";
import type { HttpRoute, V1Deployment, VirtualService } from "../types";
import { type WorkloadSettings, objectRef } from "../workload";
import { companionLabels, serviceHost } from "./common";

/**
 * Prefix matches with `rewrite.uri: /`: `<path>/x` reaches the app as `/x` and `<path>`
 * as `/`. (The seed chart's regex capture `/$2` is taken literally by Istio.)
 */
export function generateRoute(s: WorkloadSettings): HttpRoute {
  const match = s.path === "/" ? [{ uri: { prefix: "/" } }] : [{ uri: { prefix: `${s.path}/` } }, { uri: { exact: s.path } }];
  return {
    name: s.app,
    match,
    rewrite: { uri: "/" },
    ...(s.kind === "oauth2-proxy" && { headers: { request: { set: LOGIN_REDIRECT_HEADERS } } }),
    route: [{ destination: { host: serviceHost(s.app, s.namespace), port: { number: s.port } } }],
  };
}

/**
 * After login oauth2-proxy sends the user to the target it fixed on the first request, which the
 * rewrite has cut to `/`. Envoy sets a route's request headers before it rewrites the path, so
 * this carries the external path (deep link included); oauth2-proxy honours the header with or
 * without `--reverse-proxy` (SPEC §13.2).
 */
export const LOGIN_REDIRECT_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "X-Auth-Request-Redirect": "%REQ(:PATH)%" });

/** The path a route serves: its exact match, else its prefix without the trailing `/`. Read from live routes too. */
export function routePath(r: HttpRoute): string {
  const uris = (r.match ?? []).map(m => m?.uri ?? {});
  const exact = uris.find(u => u.exact !== undefined)?.exact;
  if (exact !== undefined) return exact;
  const prefix = uris.find(u => u.prefix !== undefined)?.prefix ?? "";
  return prefix.length > 1 && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
}

/** Longest path first so that a nested path wins over its parent; then by name. */
export const compareRoutes = (a: HttpRoute, b: HttpRoute): number =>
  routePath(b).length - routePath(a).length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** One VirtualService per namespace; undefined without host, gateway or an exposed app. */
export function generateVirtualService(ns: NamespaceSettings, apps: readonly WorkloadSettings[]): VirtualService | undefined {
  const exposed = apps.filter(a => a.expose);
  if (!ns.host || !ns.gateway || exposed.length === 0) return undefined;
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: VIRTUAL_SERVICE_NAME, namespace: ns.name, labels: companionLabels() },
    spec: { hosts: [ns.host], gateways: [ns.gateway], http: exposed.map(generateRoute).sort(compareRoutes) },
  };
}

/** An exposed app left without its route, because an app created before it has the same path (SPEC §12.2). */
export interface RouteConflict {
  /** The Deployment that gets no route. */
  deployment: V1Deployment;
  path: string;
  /** The app that keeps the route. */
  keptBy: string;
  problem: Problem;
}

export function routeConflict(deployment: V1Deployment, path: string, keptBy: string): RouteConflict {
  const problem = deny(objectRef(deployment), {
    field: annotationField(DA.pathPrefix),
    what: `route path ${quote(path)} is also the path of Deployment ${quote(keptBy)}, created first, which keeps the route; this one gets none`,
    fix: `set ${DA.pathPrefix} to another path, or ${DA.expose}: "false"`,
  });
  return { deployment, path, keptBy, problem };
}

/** Milliseconds since the epoch; a Deployment without a creationTimestamp (offline, or not stored yet) is the newest. */
const createdAt = (d: V1Deployment): number => {
  const t = d.metadata?.creationTimestamp as Date | string | undefined;
  const ms = t === undefined ? NaN : new Date(t).getTime();
  return Number.isNaN(ms) ? Infinity : ms;
};

/** Created first: older creationTimestamp, then name (two Deployments without one: name order). */
export const compareCreation = (a: V1Deployment, b: V1Deployment): number => {
  const [na, nb] = [a.metadata?.name ?? "", b.metadata?.name ?? ""];
  return createdAt(a) - createdAt(b) || (na < nb ? -1 : na > nb ? 1 : 0);
};

/**
 * One route per path (SPEC §12.2): of the exposed apps sharing a path, the one created first
 * keeps it. Admission denies such a pair, but a changed base path can still make one.
 */
export function assignRoutes(apps: readonly { settings: WorkloadSettings; deployment: V1Deployment }[]): {
  routed: WorkloadSettings[];
  conflicts: RouteConflict[];
} {
  const owner = new Map<string, string>();
  const conflicts: RouteConflict[] = [];
  const routed: WorkloadSettings[] = [];
  for (const { settings, deployment } of [...apps].sort((a, b) => compareCreation(a.deployment, b.deployment))) {
    const first = settings.expose ? owner.get(settings.path) : undefined;
    if (first !== undefined) {
      conflicts.push(routeConflict(deployment, settings.path, first));
      continue;
    }
    if (settings.expose) owner.set(settings.path, settings.app);
    routed.push(settings);
  }
  return { routed, conflicts };
}
