import { DEFAULT_CLUSTER_CONFIG, resolveNamespace } from "./config";
import { formatProblem } from "./problems";
import { annotationsShape, deploymentShape } from "./shape";
import type { V1Deployment } from "./types";
import { resolveWorkload } from "./workload";

const good = (): Record<string, any> => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "m", labels: { "ai-workloads.io/kind": "mlserver" }, annotations: { "ai-workloads.io/port": "8000" } },
  spec: {
    selector: { matchLabels: { app: "m" } },
    template: { metadata: { labels: { app: "m" } }, spec: { containers: [{ name: "c", image: "i" }] } },
  },
});

describe("deploymentShape", () => {
  it("finds nothing wrong with a well-formed Deployment", () => {
    expect(deploymentShape(good())).toEqual([]);
  });

  it("asks for quotes around an unquoted number annotation, the most common YAML slip", () => {
    const d = good();
    d.metadata.annotations["ai-workloads.io/port"] = 8000;
    expect(deploymentShape(d)).toEqual([
      {
        field: "metadata.annotations[ai-workloads.io/port]",
        what: "is not a string",
        fix: 'quote the value, such as "8000" or "true": Kubernetes takes only strings here',
      },
    ]);
  });

  it.each([
    [["spec", "template", "spec", "containers"], false, "spec.template.spec.containers", "is not a list"],
    [["spec", "template", "spec", "containers", 0], "c", "spec.template.spec.containers[0]", "is not a mapping"],
    [["spec", "template", "spec", "containers", 0, "args"], "--x", "spec.template.spec.containers[0].args", "is not a list"],
    [["spec", "selector", "matchLabels"], [1], "spec.selector.matchLabels", "is not a mapping"],
    [["metadata", "name"], 5, "metadata.name", "is not a string"],
    [["spec"], null, "spec", "is not a mapping"],
    [
      ["spec", "template", "spec", "containers", 0, "ports"],
      [{ containerPort: "8000" }],
      "spec.template.spec.containers[0].ports[0].containerPort",
      "must be an integer",
    ],
    [
      ["spec", "template", "spec", "containers", 0, "ports"],
      [{ name: "http" }],
      "spec.template.spec.containers[0].ports[0].containerPort",
      "is missing",
    ],
    [
      ["spec", "template", "spec", "initContainers"],
      [{ name: "i", ports: [{ containerPort: 1, name: 2 }] }],
      "spec.template.spec.initContainers[0].ports[0].name",
      "is not a string",
    ],
  ])("reports %j set to %j at %s", (path, value, field, what) => {
    const d = good();
    let at: any = d;
    for (const k of (path as (string | number)[]).slice(0, -1)) at = at[k];
    at[(path as (string | number)[])[(path as unknown[]).length - 1]] = value;
    expect(deploymentShape(d).map(f => [f.field, f.what])).toEqual([[field, what]]);
  });

  it("makes resolveWorkload deny with those findings instead of reading the bad fields", () => {
    const d = good();
    d.spec.template.spec.containers = "nope";
    const { settings, problems } = resolveWorkload(
      d as V1Deployment,
      resolveNamespace("t", {}, DEFAULT_CLUSTER_CONFIG).settings,
      DEFAULT_CLUSTER_CONFIG,
    );
    expect(settings).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual(["t/m: spec.template.spec.containers: is not a list; write a list"]);
  });
});

describe("annotationsShape", () => {
  it("reports a Namespace annotation that is not a string, and resolveNamespace ignores the annotations", () => {
    expect(annotationsShape({ "ai-workloads.io/require-jwt": true }).map(f => f.field)).toEqual([
      "metadata.annotations[ai-workloads.io/require-jwt]",
    ]);
    const { settings, problems } = resolveNamespace("t", { "ai-workloads.io/require-jwt": true } as never, DEFAULT_CLUSTER_CONFIG);
    expect(settings.requireJwt).toBe(false);
    expect(problems.map(formatProblem)).toEqual([
      'namespace/t: metadata.annotations[ai-workloads.io/require-jwt]: is not a string; quote the value, such as "8000" or "true": Kubernetes takes only strings here',
    ]);
  });
});
