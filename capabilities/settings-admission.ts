// Namespaces with ai-workloads.io/* annotations and the cluster config ConfigMap are checked
// before they are stored, so that a typo is refused where it is made (SPEC §6.1).
import { Capability, a } from "pepr";
import type { V1Namespace } from "@kubernetes/client-node";
import { ANNOTATION_PREFIX, CONFIG_MAP_KEY, CONFIG_MAP_NAME } from "./core/constants";
import { DEFAULT_CLUSTER_CONFIG, namespaceObject, parseClusterConfig, resolveNamespace } from "./core/config";
import { checkJwtWithoutRequestAuth, routeClashes } from "./core/policy";
import { deny, formatProblem } from "./core/problems";
import { resolveWorkload } from "./core/workload";
import { clusterConfig, managedDeploymentsByNamespace, namespaceAnnotations } from "./cluster-state";
import { cachedResolveNamespace, cachedSiblingSettings } from "./admission-memo";
import { countAdmission } from "./metrics";

export const SettingsAdmission = new Capability({
  name: "settings-admission",
  description: "Refuses malformed ai-workloads.io Namespace annotations and an invalid cluster config",
});

const { When } = SettingsAdmission;

const hasOurs = (ns: V1Namespace | undefined): boolean =>
  Object.keys(ns?.metadata?.annotations ?? {}).some(k => k.startsWith(ANNOTATION_PREFIX));

/** The route clashes the namespace's managed Deployments would have under these annotations (SPEC §12.2, §12.6). */
async function clashesUnder(name: string, annotations: Record<string, string>): Promise<string[]> {
  const config = await clusterConfig();
  const stored = await managedDeploymentsByNamespace();
  const ns = resolveNamespace(name, annotations, config).settings;
  const apps = (stored.get(name) ?? []).flatMap(d => resolveWorkload(d, ns, config).settings ?? []);
  if (apps.length === 0) return [];
  const elsewhere = [];
  for (const [other, deployments] of stored) {
    if (other === name) continue;
    const settings = cachedResolveNamespace(other, await namespaceAnnotations(other), config).settings;
    elsewhere.push(...deployments.flatMap(d => cachedSiblingSettings(d, settings, config) ?? []));
  }
  return routeClashes(apps, elsewhere);
}

When(a.Namespace)
  .IsCreatedOrUpdated()
  .Validate(async req => {
    if (!hasOurs(req.Raw) && !hasOurs(req.OldResource)) return req.Approve();
    const name = req.Raw.metadata?.name ?? "";
    const annotations = req.Raw.metadata?.annotations ?? {};
    // The annotations' own form first, with no cluster state needed.
    const { problems } = resolveNamespace(name, annotations, DEFAULT_CLUSTER_CONFIG);
    if (problems.length > 0) return countAdmission(req.Deny(problems.map(formatProblem).join("\n"), 422));
    // Settings that would give two apps one route are refused here, where the change is made.
    const before = new Set(req.OldResource ? await clashesUnder(name, req.OldResource.metadata?.annotations ?? {}) : []);
    const added = (await clashesUnder(name, annotations)).filter(c => !before.has(c));
    if (added.length > 0) {
      const lines = added.map(c =>
        formatProblem(
          deny(namespaceObject(name), {
            field: "metadata.annotations",
            what: `this change would make a route clash (${c})`,
            fix: "keep the base path, host and gateway apart from other apps' routes, or change the Deployments' ai-workloads.io/path-prefix first",
          }),
        ),
      );
      return countAdmission(req.Deny(lines.join("\n"), 422));
    }
    const warned = checkJwtWithoutRequestAuth(resolveNamespace(name, annotations, await clusterConfig()).settings).map(formatProblem);
    return countAdmission(req.Approve(warned.length > 0 ? warned : undefined));
  });

When(a.ConfigMap)
  .IsCreatedOrUpdated()
  .WithName(CONFIG_MAP_NAME)
  .Validate(req => {
    const object = `${req.Request.namespace ?? req.Raw.metadata?.namespace}/${CONFIG_MAP_NAME}`;
    const parsed = parseClusterConfig(req.Raw.data?.[CONFIG_MAP_KEY] ?? "");
    if (parsed.ok) return req.Approve();
    const lines = parsed.findings.map(f => formatProblem({ severity: "deny", object, ...f, field: `data[${CONFIG_MAP_KEY}].${f.field}` }));
    return countAdmission(req.Deny(lines.join("\n"), 422));
  });
