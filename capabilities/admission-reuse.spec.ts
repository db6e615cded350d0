// Validate takes Mutate's problems only for the very inputs Mutate judged: the same object (Pepr's
// status annotation aside), the same request, and the same config, Namespace, stored Deployments
// and neighbouring apps by identity. Any difference means a judgement of its own.
import { DEFAULT_CLUSTER_CONFIG, resolveNamespace } from "./core/config";
import { type Problem, deny } from "./core/problems";
import type { V1Deployment } from "./core/types";
import type { WorkloadSettings } from "./core/workload";
import { type JudgementInputs, MutateJudgements, keptCopy, sameForJudgement, sameJson } from "./admission-reuse";

const STATUS = "ai-workloads.pepr.dev/workload-admission";

const deployment = (status?: string): V1Deployment => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "model",
    namespace: "ai",
    labels: { "ai-workloads.io/kind": "mlserver" },
    annotations: { "ai-workloads.io/port": "8080", ...(status !== undefined && { [STATUS]: status }) },
  },
  spec: {
    selector: { matchLabels: { app: "model" } },
    template: {
      metadata: { labels: { app: "model" } },
      spec: { containers: [{ name: "m", image: "seldonio/mlserver:1.6.1", env: [{ name: "A", value: "1" }] }] },
    },
  },
});

const ns = resolveNamespace("ai", {}, DEFAULT_CLUSTER_CONFIG);
const stored = [deployment()];
const elsewhere: WorkloadSettings[] = [];
const inputs = (overrides: Partial<JudgementInputs> = {}): JudgementInputs => ({
  operation: "CREATE",
  namespace: "ai",
  object: deployment("started"),
  oldObject: undefined,
  config: DEFAULT_CLUSTER_CONFIG,
  ns,
  stored,
  elsewhere,
  ...overrides,
});
const problems: Problem[] = [deny("ai/model", { field: "metadata.name", what: "is taken", fix: "rename it" })];

describe("sameJson", () => {
  it("compares parsed JSON deeply", () => {
    expect(sameJson({ a: [1, { b: "x" }], c: null }, { c: null, a: [1, { b: "x" }] })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJson({ a: "1" }, { a: 1 })).toBe(false);
    expect(sameJson([], {})).toBe(false);
  });
});

describe("sameForJudgement", () => {
  it("sets Pepr's status annotation aside: started, succeeded or absent", () => {
    expect(sameForJudgement(deployment("started"), deployment("succeeded"))).toBe(true);
    expect(sameForJudgement(deployment("started"), deployment())).toBe(true);
  });

  it("sets the generation aside (the API server raises it between Mutate and Validate of an update)", () => {
    const before = { ...deployment("started"), metadata: { ...deployment("started").metadata, generation: 1 } };
    const after = { ...deployment("succeeded"), metadata: { ...deployment("succeeded").metadata, generation: 2 } };
    expect(sameForJudgement(before, after)).toBe(true);
    expect(sameForJudgement(deployment(), after)).toBe(true);
  });

  it("sees any other difference, deep in the spec or in the metadata", () => {
    const image = deployment();
    image.spec!.template.spec!.containers[0].image = "seldonio/mlserver:1.7.0";
    const env = deployment();
    env.spec!.template.spec!.containers[0].env![0].value = "2";
    const annotation = deployment();
    annotation.metadata!.annotations!["ai-workloads.io/port"] = "9090";
    const label = deployment();
    label.metadata!.labels!.team = "a";
    for (const changed of [image, env, annotation, label]) expect(sameForJudgement(deployment(), changed)).toBe(false);
  });

  it("counts a status annotation that is not a string as a difference (the shape check reads it)", () => {
    const odd = deployment();
    (odd.metadata!.annotations as Record<string, unknown>)[STATUS] = 1;
    expect(sameForJudgement(deployment(), odd)).toBe(false);
  });
});

describe("MutateJudgements", () => {
  it("hands Mutate's problems to the Validate of the same inputs, once", () => {
    const kept = new MutateJudgements();
    kept.keep("k", inputs(), problems);
    expect(kept.take("k", inputs({ object: deployment("succeeded") })).problems).toBe(problems);
    expect(kept.take("k", inputs()).problems).toBeUndefined();
  });

  it.each<[string, Partial<JudgementInputs>]>([
    ["the object", { object: { ...deployment(), spec: { ...deployment().spec!, replicas: 2 } } }],
    ["the operation", { operation: "UPDATE" }],
    ["the request's namespace", { namespace: undefined }],
    ["the old object", { oldObject: deployment() }],
    ["the config (a new object)", { config: { ...DEFAULT_CLUSTER_CONFIG } }],
    ["the Namespace (a new resolution)", { ns: resolveNamespace("ai", {}, DEFAULT_CLUSTER_CONFIG) }],
    ["a stored Deployment (a new object from the watch)", { stored: [deployment()] }],
    ["the stored Deployments (one more)", { stored: [...stored, deployment()] }],
    ["the apps of other namespaces", { elsewhere: [{} as WorkloadSettings] }],
  ])("judges again when %s differs", (_, change) => {
    const kept = new MutateJudgements();
    kept.keep("k", inputs(), problems);
    expect(kept.take("k", inputs(change)).problems).toBeUndefined();
    // Used up: a retry of the Validate judges as well.
    expect(kept.take("k", inputs()).problems).toBeUndefined();
  });

  it("judges again for an UPDATE whose old object changed", () => {
    const kept = new MutateJudgements();
    kept.keep("k", inputs({ operation: "UPDATE", oldObject: deployment() }), problems);
    const older = deployment();
    older.spec!.template.spec!.containers[0].image = "seldonio/mlserver:1.5.0";
    expect(kept.take("k", inputs({ operation: "UPDATE", oldObject: older })).problems).toBeUndefined();
  });

  it("hands over the warnings Mutate carried even when Validate judges again (it sees the kept replicas)", () => {
    const kept = new MutateJudgements();
    const warning = "warning: ai/model: spec.replicas: 1 was not applied";
    kept.keep("k", inputs(), problems, [warning]);
    expect(kept.take("k", inputs({ object: { ...deployment(), spec: { ...deployment().spec!, replicas: 3 } } }))).toEqual({
      problems: undefined,
      carried: [warning],
    });
  });

  it("has nothing for a request Mutate did not judge here (another replica served it)", () => {
    const kept = new MutateJudgements();
    kept.keep("k", inputs(), problems);
    expect(kept.take("other", inputs())).toEqual({ carried: [] });
  });

  it("keeps at most its bound, dropping the oldest", () => {
    const kept = new MutateJudgements(2);
    kept.keep("a", inputs(), problems);
    kept.keep("b", inputs(), problems);
    kept.keep("c", inputs(), problems);
    expect(kept.size).toBe(2);
    expect(kept.take("a", inputs()).problems).toBeUndefined();
    expect(kept.take("c", inputs()).problems).toBe(problems);
  });
});

describe("keptCopy (the admission watch copy)", () => {
  const stored = (over: { replicas?: number; rv?: string; status?: object; image?: string; label?: string } = {}): V1Deployment => {
    const d = deployment("succeeded");
    d.metadata = { ...d.metadata, resourceVersion: over.rv ?? "1", generation: 1, managedFields: [{ manager: "kube-controller-manager" }] };
    if (over.label) d.metadata.labels = { ...d.metadata.labels, team: over.label };
    if (over.image) d.spec!.template.spec!.containers[0].image = over.image;
    if (over.replicas !== undefined) d.spec!.replicas = over.replicas;
    d.status = { observedGeneration: 1, ...over.status };
    return d;
  };

  it("keeps the held object when a status write came in (new status, resourceVersion, managedFields)", () => {
    const held = stored();
    const incoming = { ...stored({ rv: "2", status: { replicas: 1, readyReplicas: 1 } }) };
    incoming.metadata = { ...incoming.metadata, managedFields: [{ manager: "kube-controller-manager", operation: "Update" }] };
    expect(keptCopy(held, incoming)).toBe(held);
  });

  it("takes the incoming object for anything else: the spec, the labels, the replicas", () => {
    const held = stored();
    for (const incoming of [
      stored({ rv: "2", image: "seldonio/mlserver:1.7.0" }),
      stored({ rv: "2", label: "a" }),
      stored({ rv: "2", replicas: 3 }),
    ])
      expect(keptCopy(held, incoming)).toBe(incoming);
  });

  it("takes the incoming object when nothing is held", () => {
    const incoming = stored();
    expect(keptCopy(undefined, incoming)).toBe(incoming);
  });
});
