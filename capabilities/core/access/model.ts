// What the access matrix and the graph look at: the objects the cluster converges to after a
// render, and the managed apps with their settings. Pure: the caller reads the files.
import { CONFIG_MAP_KEY, CONFIG_MAP_NAME, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../constants";
import { type ClusterConfig, DEFAULT_CLUSTER_CONFIG, parseClusterConfig, resolveNamespace } from "../config";
import { isDeployment, render, type RenderOptions } from "../plan";
import { type Problem, denials } from "../problems";
import type { KubeObject, Labels, V1Deployment } from "../types";
import { type WorkloadSettings, isManaged, resolveWorkload } from "../workload";

export interface App {
  namespace: string;
  name: string;
  /** Pod labels (spec.template.metadata.labels of the mutated Deployment): what selectors match. */
  labels: Labels;
  settings: WorkloadSettings;
}

export interface AccessModel {
  /** Input objects and generated companions, as the cluster ends up with them. */
  objects: KubeObject[];
  /** Managed apps, by namespace then name. */
  apps: App[];
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const identity = (o: KubeObject): string =>
  `${(o.apiVersion ?? "").split("/")[0]}|${o.kind}|${o.metadata?.namespace ?? ""}|${o.metadata?.name ?? ""}`;

const isManagedCompanion = (o: KubeObject): boolean => o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;

/**
 * SPEC §7 in the cluster: objects labelled managed-by ai-workloads are replaced by what is
 * generated now (drift restored, stale ones pruned), and an object of the same name that the
 * module did not create is left alone, so it wins over the generated one.
 */
export function converge(input: readonly KubeObject[], generated: readonly KubeObject[]): KubeObject[] {
  const kept = input.filter(o => !isManagedCompanion(o));
  const taken = new Set(kept.map(identity));
  return [...kept, ...generated.filter(g => !taken.has(identity(g)))];
}

/** The cluster config render used: `--config`, else the first ConfigMap in the input, else the default. */
function clusterConfigOf(objects: readonly KubeObject[], options: RenderOptions): ClusterConfig {
  if (options.config) return options.config;
  const cm = objects.find(o => o.kind === "ConfigMap" && o.metadata?.name === CONFIG_MAP_NAME);
  if (!cm) return DEFAULT_CLUSTER_CONFIG;
  const parsed = parseClusterConfig((cm.data as Record<string, string> | undefined)?.[CONFIG_MAP_KEY] ?? "");
  return parsed.ok ? parsed.config : DEFAULT_CLUSTER_CONFIG;
}

/**
 * Renders the input like `ai-workloads render` and returns the model, or the problems when
 * render denies (the model would describe objects admission never lets in).
 */
export function buildAccessModel(input: readonly KubeObject[], options: RenderOptions): { model?: AccessModel; problems: Problem[] } {
  const { objects, fromInput, problems } = render(input, options);
  if (denials(problems).length > 0) return { problems };
  const inputObjects = objects.slice(0, fromInput);
  const cluster = clusterConfigOf(inputObjects, options);
  const nsAnnotations = new Map<string, Record<string, string>>();
  for (const o of inputObjects) {
    const name = o.metadata?.name;
    if (o.kind === "Namespace" && name && !nsAnnotations.has(name)) nsAnnotations.set(name, o.metadata?.annotations ?? {});
  }
  const apps = inputObjects
    .filter(o => isDeployment(o) && isManaged(o as V1Deployment))
    .flatMap(o => {
      const d = o as V1Deployment;
      const namespace = d.metadata!.namespace!;
      const ns = resolveNamespace(namespace, nsAnnotations.get(namespace), cluster).settings;
      const settings = resolveWorkload(d, ns, cluster).settings;
      return settings ? [{ namespace, name: settings.app, labels: { ...(d.spec?.template?.metadata?.labels ?? {}) }, settings }] : [];
    })
    .sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
  return { model: { objects: converge(inputObjects, objects.slice(fromInput)), apps }, problems };
}
