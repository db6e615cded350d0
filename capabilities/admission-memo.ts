// What admission keeps between requests: resolutions of what has not changed since the last one.
// Its inputs come from the watch mirrors and the config cache, which hand out the same objects
// until the cluster changes them, so identity says "unchanged"; nothing writes to those objects.
import { type ClusterConfig, type NamespaceSettings, resolveNamespace } from "./core/config";
import type { V1Deployment } from "./core/types";
import { type WorkloadSettings, resolveWorkload } from "./core/workload";

type ResolvedNamespace = ReturnType<typeof resolveNamespace>;
const MAX_RESOLVED_NAMESPACES = 10_000;
const resolvedNamespaces = new Map<string, { annotations: Record<string, string>; config: ClusterConfig; resolved: ResolvedNamespace }>();

/**
 * A namespace's settings, resolved again only when its annotations or the config change: the
 * mirror and the config cache hand out the same objects until then (nothing writes to them).
 */
export function cachedResolveNamespace(name: string, annotations: Record<string, string>, config: ClusterConfig): ResolvedNamespace {
  const hit = resolvedNamespaces.get(name);
  if (hit?.annotations === annotations && hit.config === config) return hit.resolved;
  const resolved = resolveNamespace(name, annotations, config);
  // Bounded: a request can name a namespace that does not exist.
  if (resolvedNamespaces.size >= MAX_RESOLVED_NAMESPACES) resolvedNamespaces.clear();
  resolvedNamespaces.set(name, { annotations, config, resolved });
  return resolved;
}

const resolvedSiblings = new WeakMap<V1Deployment, { ns: NamespaceSettings; config: ClusterConfig; settings?: WorkloadSettings }>();

/**
 * A stored Deployment's settings, resolved once per change of it (the mirror hands out a new
 * object for each, status writes aside): an admission in a namespace of 500 workloads does not
 * parse all 500 again.
 */
export function cachedSiblingSettings(d: V1Deployment, ns: NamespaceSettings, config: ClusterConfig): WorkloadSettings | undefined {
  const hit = resolvedSiblings.get(d);
  if (hit?.ns === ns && hit.config === config) return hit.settings;
  const settings = resolveWorkload(d, ns, config).settings;
  resolvedSiblings.set(d, { ns, config, settings });
  return settings;
}
