import { VIRTUAL_SERVICE_NAME } from "../constants";
import type { NamespaceSettings } from "../config";
import type { HttpRoute, VirtualService } from "../types";
import type { WorkloadSettings } from "../workload";
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
    route: [{ destination: { host: serviceHost(s.app, s.namespace), port: { number: s.port } } }],
  };
}

/** Longest path first so that a nested path wins over its parent; then by name. */
export const compareRoutes = (a: WorkloadSettings, b: WorkloadSettings): number =>
  b.path.length - a.path.length || (a.app < b.app ? -1 : a.app > b.app ? 1 : 0);

/** One VirtualService per namespace; undefined without host, gateway or an exposed app. */
export function generateVirtualService(ns: NamespaceSettings, apps: readonly WorkloadSettings[]): VirtualService | undefined {
  const exposed = apps.filter(a => a.expose).sort(compareRoutes);
  if (!ns.host || !ns.gateway || exposed.length === 0) return undefined;
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: VIRTUAL_SERVICE_NAME, namespace: ns.name, labels: companionLabels() },
    spec: { hosts: [ns.host], gateways: [ns.gateway], http: exposed.map(generateRoute) },
  };
}
