// The bundled examples and the exact `ai-workloads render` arguments their READMEs show.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../capabilities/core/types";

const SEED_DIR = join(__dirname, "..", "..", "examples", "mlserver-openai-librechat");

/** The seed example's manifests (SPEC §9), file by file in name order. */
export const seedExample = (): KubeObject[] =>
  readdirSync(SEED_DIR)
    .filter(f => f.endsWith(".yaml"))
    .sort()
    .flatMap(f => parseAllDocuments(readFileSync(join(SEED_DIR, f), "utf8")).map(d => d.toJS() as KubeObject))
    .filter(o => o);
export interface Example {
  name: string;
  args: string[];
}

export const EXAMPLES: Example[] = [
  { name: "mlserver-openai-librechat", args: ["-f", "examples/mlserver-openai-librechat"] },
  { name: "gpu-model", args: ["-f", "examples/gpu-model"] },
  { name: "cluster-config", args: ["-f", "examples/cluster-config/manifests", "--config", "examples/cluster-config/config.yaml"] },
];
