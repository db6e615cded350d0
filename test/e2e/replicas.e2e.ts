// SPEC §14.2 on the real API server: the module's HPA owns the replica count, so a GitOps sync
// or `kubectl apply` of a manifest with `replicas: 1` no longer resets the scale the HPA chose.
import {
  KIND_LABEL,
  type Obj,
  applyYaml,
  deleteNamespaces,
  expectModuleAlive,
  freshNamespace,
  getObject,
  kubectlOk,
  kubectlWarnings,
} from "./harness";

jest.setTimeout(180_000);
afterAll(() => expectModuleAlive());

const NS = "replicas";

const manifest = (replicas: number, autoscale: string): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "model", namespace: NS, labels: { [KIND_LABEL]: "mlserver" }, annotations: { "ai-workloads.io/autoscale": autoscale } },
  spec: {
    replicas,
    selector: { matchLabels: { app: "model" } },
    template: { metadata: { labels: { app: "model" } }, spec: { containers: [{ name: "main", image: "seldonio/mlserver:1.6.1" }] } },
  },
});

const storedReplicas = async (): Promise<number | undefined> =>
  (await getObject<{ spec: { replicas?: number } }>("deployment", "model", NS))?.spec.replicas;

beforeAll(() => freshNamespace(NS));
afterAll(() => deleteNamespaces([NS]));

describe("the HPA owns the replica count", () => {
  it.each(["apply", "apply-server"] as const)(
    "an apply (%s) of replicas: 1 after the HPA scaled to 3 keeps 3, with a warning",
    async verb => {
      await kubectlOk(["delete", "deployment", "model", "-n", NS, "--ignore-not-found", "--wait"]);
      // Created with 2, so that the later apply of 1 is a change for the three-way merge too.
      const created = await applyYaml([manifest(2, "1-10")], { verb });
      expect(created.code).toBe(0);
      // As the HPA does: through the scale subresource, which the webhook does not see.
      await kubectlOk(["scale", "deployment/model", "-n", NS, "--replicas=3"]);
      expect(await storedReplicas()).toBe(3);

      const again = await applyYaml([manifest(1, "1-10")], { verb });
      expect(again.code).toBe(0);
      expect(await storedReplicas()).toBe(3);
      const warnings = kubectlWarnings(again.stderr);
      console.log(`replicas (${verb}): scaled to 3, applied 1, stored ${await storedReplicas()}; warnings: ${JSON.stringify(warnings)}`);
      expect(warnings).toContain(
        `warning: ${NS}/model: spec.replicas: 1 was not applied: HorizontalPodAutoscaler ${NS}/model owns the replica count (now 3); leave replicas out of the manifests of autoscaled apps; kubectl scale changes it`,
      );
    },
  );

  it("without autoscaling the manifest's replicas apply as sent", async () => {
    await kubectlOk(["delete", "deployment", "model", "-n", NS, "--ignore-not-found", "--wait"]);
    expect((await applyYaml([manifest(2, "off")], { verb: "apply" })).code).toBe(0);
    await kubectlOk(["scale", "deployment/model", "-n", NS, "--replicas=3"]);
    const again = await applyYaml([manifest(1, "off")], { verb: "apply" });
    expect(again.code).toBe(0);
    expect(kubectlWarnings(again.stderr)).toEqual([]);
    expect(await storedReplicas()).toBe(1);
  });
});
