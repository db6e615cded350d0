// How the module is served: the post-processed manifest is what the API server gets, the
// webhooks are the post-processed ones (only clientConfig differs), and the module runs as its
// ServiceAccount under the emitted RBAC.
import { readFileSync } from "node:fs";
import {
  type Obj,
  auditEvents,
  expectModuleAlive,
  forbiddenWrites,
  kubectl,
  kubectlOk,
  parseYamlObjects,
  state,
  subsetMismatches,
} from "./harness";

jest.setTimeout(120_000);

// A module process that dies during the suite fails it (the watcher can crash on a failing watch).
afterAll(() => expectModuleAlive());

type Webhook = {
  name: string;
  failurePolicy: string;
  objectSelector?: unknown;
  matchConditions?: { name: string; expression: string }[];
  clientConfig: { url?: string; service?: { path: string }; caBundle?: string };
  rules: { resources: string[] }[];
};
type WebhookConfig = Obj & { webhooks: Webhook[] };

const manifest = (): Obj[] => parseYamlObjects(readFileSync(state().manifest, "utf8"));
const emitted = (kind: string): WebhookConfig => manifest().find(o => o.kind === kind) as WebhookConfig;

describe("the post-processed build", () => {
  it("is accepted by the API server as a whole (server-side dry run of every object)", async () => {
    const r = await kubectl([
      "apply",
      "--server-side",
      "--force-conflicts",
      "--field-manager=ai-workloads-e2e",
      "--dry-run=server",
      "-f",
      state().manifest,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(manifest().length);
  });

  it.each(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])(
    "%s is served as emitted, with clientConfig pointing at the module on 127.0.0.1",
    async kind => {
      const want = emitted(kind);
      const got = JSON.parse(await kubectlOk(["get", kind, want.metadata.name, "-o", "json"])) as WebhookConfig;
      const port = state().controllers.find(c => c.role === "admission")!.port;
      expect(got.webhooks.map(w => w.name)).toEqual(want.webhooks.map(w => w.name));
      got.webhooks.forEach((w, i) => {
        const { clientConfig, ...rest } = want.webhooks[i];
        expect(subsetMismatches(w, rest)).toEqual([]);
        expect(w.clientConfig.url).toBe(`https://127.0.0.1:${port}${clientConfig.service!.path}`);
        expect(w.clientConfig.service).toBeUndefined();
      });
    },
  );

  it("selects labelled Deployments (fail closed), annotated Namespaces and the config ConfigMap (fail open)", () => {
    const validating = emitted("ValidatingWebhookConfiguration").webhooks;
    const mutating = emitted("MutatingWebhookConfiguration").webhooks;
    const summary = (ws: Webhook[]): unknown[] =>
      ws.map(w => ({
        name: w.name,
        resources: w.rules.flatMap(r => r.resources),
        failurePolicy: w.failurePolicy,
        selected: !!w.objectSelector || !!w.matchConditions,
      }));
    expect(summary(mutating)).toEqual([
      { name: "deployments.pepr-ai-workloads.pepr.dev", resources: ["deployments"], failurePolicy: "Fail", selected: true },
    ]);
    expect(summary(validating)).toEqual([
      { name: "deployments.pepr-ai-workloads.pepr.dev", resources: ["deployments"], failurePolicy: "Fail", selected: true },
      { name: "namespaces.pepr-ai-workloads.pepr.dev", resources: ["namespaces"], failurePolicy: "Ignore", selected: true },
      { name: "config.pepr-ai-workloads.pepr.dev", resources: ["configmaps"], failurePolicy: "Ignore", selected: true },
    ]);
  });
});

describe("the emitted RBAC", () => {
  it("names only resources the API server serves (a misspelt plural is a watch that can never start)", async () => {
    const role = manifest().find(o => o.kind === "ClusterRole") as Obj & { rules: { apiGroups: string[]; resources: string[] }[] };
    const served = new Set(
      (await kubectlOk(["api-resources", "-o", "name"]))
        .trim()
        .split("\n")
        .map(n => (n.includes(".") ? n : `${n}.`)),
    );
    const named = role.rules.flatMap(r => r.apiGroups.flatMap(g => r.resources.map(res => `${res.split("/")[0]}.${g}`)));
    expect(named.filter(n => !served.has(n))).toEqual([]);
  });
});

describe("the module's identity", () => {
  it("is its ServiceAccount: its writes (PeprStore CRD and stores) are made as that user, and RBAC has refused none so far", () => {
    const { user } = state().serviceAccount;
    const writes = auditEvents().filter(e => e.user.username === user);
    const what = new Set(writes.map(e => `${e.objectRef?.resource}/${e.objectRef?.name}`));
    expect(what).toContain("customresourcedefinitions/peprstores.pepr.dev");
    expect(what).toContain("peprstores/pepr-ai-workloads-store");
    // Refused by RBAC (not e.g. by NamespaceLifecycle in a terminating namespace).
    expect(forbiddenWrites().map(e => `${e.verb} ${e.requestURI}: ${e.responseStatus?.message}`)).toEqual([]);
  });

  it("has no more than the emitted ClusterRole grants (it may not write Deployments, Namespaces or ConfigMaps)", async () => {
    const { kubeconfig, namespace } = state().serviceAccount;
    const can = async (verb: string, resource: string, ns?: string): Promise<boolean> =>
      (await kubectl(["auth", "can-i", verb, resource, ...(ns ? ["-n", ns] : ["--all-namespaces"])], { kubeconfig })).stdout.trim() ===
      "yes";
    for (const [verb, resource] of [
      ["get", "namespaces"],
      ["list", "deployments.apps"],
      ["watch", "deployments.apps"],
      ["get", "configmaps"],
      ["patch", "peprstores.pepr.dev"],
    ]) {
      expect(`${verb} ${resource}: ${await can(verb, resource, resource.startsWith("pepr") ? namespace : undefined)}`).toBe(
        `${verb} ${resource}: true`,
      );
    }
    for (const [verb, resource] of [
      ["create", "deployments.apps"],
      ["update", "deployments.apps"],
      ["patch", "namespaces"],
      ["create", "configmaps"],
      ["delete", "secrets"],
    ]) {
      expect(`${verb} ${resource}: ${await can(verb, resource)}`).toBe(`${verb} ${resource}: false`);
    }
  });
});
