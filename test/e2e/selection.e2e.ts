// What reaches the module, and what does not depend on it (SPEC §2, §6.4), seen from the API
// server: its audit log (mutation annotations, writes per user) and its webhook metrics.
import {
  DEPLOYMENT_WEBHOOK,
  KIND_LABEL,
  type Obj,
  applyYaml,
  auditEvents,
  auditMark,
  denial,
  freshNamespace,
  getObject,
  kubectl,
  mutationAnnotations,
  outputObjects,
  setClusterConfig,
  startModule,
  state,
  stopModule,
  subsetMismatches,
  webhookCallCounts,
  expectModuleAlive,
} from "./harness";
import { renderObjects } from "./render";

jest.setTimeout(180_000);

// A module process that dies during the suite fails it (the watcher can crash on a failing watch).
afterAll(() => expectModuleAlive());

const NS_WEBHOOK = "namespaces.pepr-ai-workloads.pepr.dev";
const CONFIG_WEBHOOK = "config.pepr-ai-workloads.pepr.dev";

let configFile: string;
beforeAll(async () => {
  configFile = await setClusterConfig("");
});

function deployment(namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string> = {}): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels, annotations },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "registry.example.com/app:1" }] } },
    },
  };
}

const createsOf = (mark: number, resource: string, namespace: string | undefined, name: string) =>
  auditEvents(mark).filter(
    e => e.verb === "create" && e.objectRef?.resource === resource && e.objectRef.namespace === namespace && e.objectRef.name === name,
  );

const delta = (before: Record<string, number>, after: Record<string, number>, name: string): number =>
  (after[name] ?? 0) - (before[name] ?? 0);

describe("an unlabelled Deployment", () => {
  it("is stored untouched and never sent to the module, even with ai-workloads.io annotations", async () => {
    const ns = "e2e-unlabelled";
    await freshNamespace(ns);
    // Annotations the module would refuse on a labelled Deployment.
    const input = deployment(ns, "plain", { team: "a" }, { "ai-workloads.io/port": "not-a-port", "ai-workloads.io/autoscale": "9-1" });
    const mark = auditMark();
    const r = await applyYaml([input]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);

    const stored = (await getObject<Obj & { spec: { template: { metadata: unknown; spec: { containers: Record<string, unknown>[] } } } }>(
      "deployment",
      "plain",
      ns,
    ))!;
    expect(subsetMismatches(stored, input)).toEqual([]);
    expect(stored.metadata.labels).toEqual(input.metadata.labels);
    expect(stored.spec.template.metadata).toEqual({ labels: { app: "plain" } });
    // Only what the API server itself defaults, nothing the module would add (ports, probes, env, command, resources).
    expect(Object.keys(stored.spec.template.spec.containers[0]).sort()).toEqual([
      "image",
      "imagePullPolicy",
      "name",
      "resources",
      "terminationMessagePath",
      "terminationMessagePolicy",
    ]);
    expect(stored.spec.template.spec.containers[0].resources).toEqual({});

    const creates = createsOf(mark, "deployments", ns, "plain");
    expect(creates).toHaveLength(1);
    expect(mutationAnnotations(creates[0])).toEqual([]);
  });
});

describe("Namespaces and ConfigMaps", () => {
  it("only those with ai-workloads.io annotations, or named ai-workloads-config, are sent to the module", async () => {
    const before = await webhookCallCounts();
    await freshNamespace("e2e-select-plain", { team: "a" });
    expect(
      (
        await applyYaml([
          { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "e2e-select-plain" }, data: { a: "b" } },
        ])
      ).code,
    ).toBe(0);
    const middle = await webhookCallCounts();
    expect([delta(before, middle, NS_WEBHOOK), delta(before, middle, CONFIG_WEBHOOK)]).toEqual([0, 0]);

    await freshNamespace("e2e-select-annotated", { "ai-workloads.io/base-path": "/teams" });
    const cm = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ai-workloads-config", namespace: "e2e-select-annotated" },
      data: { "config.yaml": "istio:\n  basePath: /x\n" },
    };
    expect((await applyYaml([cm])).code).toBe(0);
    const after = await webhookCallCounts();
    expect([delta(middle, after, NS_WEBHOOK), delta(middle, after, CONFIG_WEBHOOK)]).toEqual([1, 1]);
  });
});

describe("with the module stopped", () => {
  const ns = "e2e-module-down";
  let stopped = false;

  beforeAll(async () => {
    await freshNamespace(ns);
    await stopModule();
    stopped = true;
  });

  afterAll(async () => {
    if (stopped) await startModule();
  });

  it("an unlabelled Deployment is still admitted", async () => {
    const r = await applyYaml([deployment(ns, "plain", { team: "a" })]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await getObject("deployment", "plain", ns)).toBeDefined();
  });

  it("a labelled Deployment is refused (fail closed)", async () => {
    const r = await applyYaml([deployment(ns, "model", { [KIND_LABEL]: "mlserver" })]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`failed calling webhook "${DEPLOYMENT_WEBHOOK}"`);
    expect(await getObject("deployment", "model", ns)).toBeUndefined();
  });

  it("Namespaces and ConfigMaps, even ones the module checks, are admitted (fail open)", async () => {
    const plain = await applyYaml([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "e2e-module-down-plain" } }]);
    expect(plain.code).toBe(0);
    // Malformed: the module would refuse it; with the module down it gets in (and is caught below).
    const annotated = await applyYaml([
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "e2e-module-down-annotated", annotations: { "ai-workloads.io/request-auth": "perhaps" } },
      },
    ]);
    expect(annotated.stderr).toBe("");
    expect(annotated.code).toBe(0);
    const cm = await applyYaml([
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "ai-workloads-config", namespace: ns },
        data: { "config.yaml": "istio: {host: ai.example.com}\n" },
      },
    ]);
    expect(cm.stderr).toBe("");
    expect(cm.code).toBe(0);
  });
});

describe("once the module is back", () => {
  it("a labelled Deployment in a Namespace whose malformed annotation got in while it was down is refused with the Namespace's lines", async () => {
    const nsObject = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "e2e-module-down-annotated", annotations: { "ai-workloads.io/request-auth": "perhaps" } },
    };
    const object = deployment("e2e-module-down-annotated", "model", { [KIND_LABEL]: "mlserver" });
    const expected = renderObjects([nsObject, object], configFile);
    expect(expected.code).toBe(1);
    const r = await applyYaml([object]);
    expect(denial(r.stderr)).toEqual({ webhook: DEPLOYMENT_WEBHOOK, message: expected.denied.join("\n") });
  });
});

describe("kubectl apply --dry-run=server of a labelled Deployment", () => {
  it("returns the mutated object, and neither the module nor anyone else stores anything", async () => {
    const ns = "e2e-dry-run";
    await freshNamespace(ns);
    const input = deployment(ns, "model", { [KIND_LABEL]: "mlserver" }, { "ai-workloads.io/autoscale": "2-4" });
    const mark = auditMark();
    const r = await kubectl(["apply", "--dry-run=server", "-o", "json", "-f", "-"], { input: JSON.stringify(input) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);

    const expected = renderObjects([{ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, input], configFile);
    expect(expected.code).toBe(0);
    const want = expected.objects.find(o => o.kind === "Deployment")!;
    const got = outputObjects(r.stdout)[0];
    expect(subsetMismatches(got, want)).toEqual([]);

    expect(await getObject("deployment", "model", ns)).toBeUndefined();
    const events = auditEvents(mark);
    // Every request about this Deployment was a dry run...
    const about = events.filter(
      e => e.objectRef?.resource === "deployments" && e.objectRef.name === "model" && e.objectRef.namespace === ns,
    );
    expect(about.length).toBeGreaterThan(0);
    expect(about.filter(e => !/[?&]dryRun=All/.test(e.requestURI)).map(e => `${e.user.username} ${e.verb} ${e.requestURI}`)).toEqual([]);
    // ...and the module wrote nothing for it: no request by its ServiceAccount in this namespace or about this name.
    const { user } = state().serviceAccount;
    const byModule = events.filter(e => e.user.username === user && (e.objectRef?.namespace === ns || e.objectRef?.name === "model"));
    expect(byModule.map(e => `${e.verb} ${e.requestURI}`)).toEqual([]);
  });
});
