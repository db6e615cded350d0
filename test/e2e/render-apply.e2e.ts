// Everything `ai-workloads render` prints for every example is accepted by a real API server
// (built-in schemas, Istio's CRD schemas and CEL rules), and the rendered Deployments, sent
// through the webhooks once more, are admitted unchanged (mutation is idempotent, SPEC §4).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EXAMPLES } from "../unit/examples";
import {
  DEPLOYMENT_WEBHOOK,
  KIND_LABEL,
  type Obj,
  REPO,
  applyYaml,
  clone,
  kubectl,
  outputObjects,
  auditEvents,
  auditMark,
  deleteNamespaces,
  getObject,
  kubectlWarnings,
  mutationAnnotations,
  setClusterConfig,
  subsetMismatches,
  expectModuleAlive,
} from "./harness";
import { render } from "./render";

jest.setTimeout(300_000);

// A module process that dies during the suite fails it (the watcher can crash on a failing watch).
afterAll(async () => {
  expectModuleAlive();
  // The suites share one cluster config: the next one starts from the built-in defaults.
  await setClusterConfig("");
});

const CLUSTER_SCOPED = new Set(["Namespace"]);
const REVISION = "deployment.kubernetes.io/revision";
const PEPR_STATUS = "ai-workloads.pepr.dev/workload-admission";

/** kubectl's fully qualified type for an object: `Service`, `HorizontalPodAutoscaler.autoscaling`, `VirtualService.networking.istio.io`. */
const resourceOf = (o: Obj): string => (o.apiVersion.includes("/") ? `${o.kind}.${o.apiVersion.split("/")[0]}` : o.kind);

describe.each(EXAMPLES.map(e => [e.name, e] as const))("render output of example %s", (_, example) => {
  const rendered = render(example.args);
  const objects = rendered.objects;
  const namespaces = [
    ...new Set(objects.flatMap(o => (o.kind === "Namespace" ? [o.metadata.name] : o.metadata.namespace ? [o.metadata.namespace] : []))),
  ].sort();

  beforeAll(async () => {
    expect(rendered.code).toBe(0);
    // Fresh namespaces: nothing left from another suite, and a cluster config equal to the render's.
    await deleteNamespaces(namespaces);
    const configArg = example.args.indexOf("--config");
    await setClusterConfig(configArg >= 0 ? readFileSync(join(REPO, example.args[configArg + 1]), "utf8") : "");
    const declared = new Set(objects.filter(o => o.kind === "Namespace").map(o => o.metadata.name));
    const implicit = namespaces.filter(n => !declared.has(n)).map(name => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
    const r = await applyYaml([...objects.filter(o => o.kind === "Namespace"), ...implicit]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("the Deployments go through the webhooks again and are admitted unchanged", async () => {
    const deployments = objects.filter(o => o.kind === "Deployment");
    expect(deployments.length).toBeGreaterThan(0);
    // What the API server alone makes of each rendered Deployment: the same object without the
    // kind label is not sent to the module (dry run, nothing stored).
    const baseline = new Map<string, Obj>();
    for (const d of deployments) {
      const unlabelled = clone(d);
      delete unlabelled.metadata.labels![KIND_LABEL];
      const r = await applyYaml([unlabelled], { dryRun: true });
      expect(r.stderr).toBe("");
      baseline.set(d.metadata.name, outputObjects(r.stdout)[0]);
    }

    const mark = auditMark();
    const r = await applyYaml(deployments);
    expect(kubectlWarnings(r.stderr)).toEqual(rendered.warned);
    expect(r.code).toBe(0);
    for (const want of deployments) {
      const name = `${want.metadata.namespace}/${want.metadata.name}`;
      const stored = (await getObject<Obj & { spec: unknown }>("deployment", want.metadata.name, want.metadata.namespace))!;
      // The spec is exactly what the API server makes of the rendered one: the module added nothing.
      expect({ name, spec: stored.spec }).toEqual({ name, spec: baseline.get(want.metadata.name)!.spec });
      expect({ name, labels: stored.metadata.labels }).toEqual({ name, labels: want.metadata.labels });
      // Annotations: the rendered ones, plus the deployment controller's revision and Pepr's
      // record that the capability ran (Pepr sets it on every mutation; render does not).
      const { [REVISION]: revision, [PEPR_STATUS]: status, ...annotations } = stored.metadata.annotations ?? {};
      expect({ name, annotations, status }).toEqual({ name, annotations: want.metadata.annotations ?? {}, status: "succeeded" });
      void revision;
      // The API server's record: each create went through the module's mutating webhook.
      const creates = auditEvents(mark).filter(
        e =>
          e.verb === "create" &&
          e.objectRef?.resource === "deployments" &&
          e.objectRef.namespace === want.metadata.namespace &&
          e.objectRef.name === want.metadata.name,
      );
      expect(creates.map(e => mutationAnnotations(e).map(a => a.webhook))).toEqual([[DEPLOYMENT_WEBHOOK]]);
    }
  });

  it("sent once more, a stored Deployment yields no patch at all (SPEC §4: idempotent)", async () => {
    const want = objects.filter(o => o.kind === "Deployment");
    const mark = auditMark();
    for (const d of want) {
      const stored = (await getObject<Obj>("deployment", d.metadata.name, d.metadata.namespace))!;
      // Unconditional (no resourceVersion): the deployment controller may have updated the status meanwhile.
      delete stored.metadata.resourceVersion;
      const r = await kubectl(["replace", "--dry-run=server", "-o", "json", "-f", "-"], { input: JSON.stringify(stored) });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    const replaces = auditEvents(mark).filter(
      e => e.verb === "update" && e.objectRef?.resource === "deployments" && /[?&]dryRun=All/.test(e.requestURI),
    );
    expect(replaces).toHaveLength(want.length);
    expect(replaces.map(e => mutationAnnotations(e))).toEqual(
      want.map(() => [{ configuration: "pepr-ai-workloads", webhook: DEPLOYMENT_WEBHOOK, mutated: false }]),
    );
  });

  it("every other object is accepted by the API server and stored as rendered", async () => {
    const rest = objects.filter(o => o.kind !== "Deployment" && !CLUSTER_SCOPED.has(o.kind));
    // Server-side apply: the module's reconciler may already have created the companions from the
    // Deployments above; applying takes them over field by field, creating what is missing.
    const r = await applyYaml(rest, { verb: "apply-server" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const want of rest) {
      const stored = await getObject<Obj>(resourceOf(want), want.metadata.name, want.metadata.namespace);
      expect({ object: `${want.kind}/${want.metadata.name}`, mismatches: subsetMismatches(stored, want) }).toEqual({
        object: `${want.kind}/${want.metadata.name}`,
        mismatches: [],
      });
    }
  });
});
