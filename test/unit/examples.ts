// The bundled examples and the exact `ai-workloads render` arguments their READMEs show.
export interface Example {
  name: string;
  args: string[];
}

export const EXAMPLES: Example[] = [
  { name: "mlserver-openai-librechat", args: ["-f", "examples/mlserver-openai-librechat"] },
  { name: "gpu-model", args: ["-f", "examples/gpu-model"] },
  { name: "cluster-config", args: ["-f", "examples/cluster-config/manifests", "--config", "examples/cluster-config/config.yaml"] },
];
