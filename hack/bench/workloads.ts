// Realistic inputs for the benchmarks: the seed example's Deployments, cloned under new names
// across namespaces, as teams would write them.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../capabilities/core/types";

// The bench runs from the repository root (npm run bench).
const SEED = join(process.cwd(), "examples", "mlserver-openai-librechat");

export const seedObjects = (): KubeObject[] =>
  readdirSync(SEED)
    .filter(f => f.endsWith(".yaml"))
    .sort()
    .flatMap(f => parseAllDocuments(readFileSync(join(SEED, f), "utf8")).map(d => d.toJS() as KubeObject));

/** `count` labelled Deployments over `namespaces` namespaces, each namespace annotated like the seed's. */
export function workloads(count: number, namespaces: number): KubeObject[] {
  const seed = seedObjects();
  const ns = seed.find(o => o.kind === "Namespace")!;
  const templates = seed.filter(o => o.kind === "Deployment");
  const out: KubeObject[] = [];
  for (let n = 0; n < namespaces; n++)
    out.push({ ...structuredClone(ns), metadata: { ...structuredClone(ns.metadata), name: `team-${n}` } });
  for (let i = 0; i < count; i++) {
    const t = structuredClone(templates[i % templates.length]);
    const name = `${t.metadata!.name}-${i}`;
    t.metadata = { ...t.metadata, name, namespace: `team-${i % namespaces}` };
    const spec = t.spec as {
      selector: { matchLabels: Record<string, string> };
      template: { metadata: { labels: Record<string, string> } };
    };
    spec.selector.matchLabels = { "app.kubernetes.io/name": name };
    spec.template.metadata.labels = { "app.kubernetes.io/name": name };
    // References point at this copy's partners, as in the seed.
    const annotations = t.metadata.annotations ?? {};
    if (annotations["ai-workloads.io/upstream"]) annotations["ai-workloads.io/upstream"] = `librechat-backend-${i - 1}`;
    if (annotations["ai-workloads.io/openai-backend"]) annotations["ai-workloads.io/openai-backend"] = `runtime-openai-${i - 1}`;
    out.push(t);
  }
  return out;
}
