import { seedExample } from "../../../test/unit/examples";
import type { KubeObject } from "../types";
import { type AccessRow, accessMatrix, formatMatrix } from "./matrix";
import { buildAccessModel, converge } from "./model";

const matrixOf = (input: KubeObject[]): AccessRow[] => {
  const { model, problems } = buildAccessModel(input, { defaultNamespace: "default" });
  if (!model) throw new Error(`render denied: ${JSON.stringify(problems)}`);
  return accessMatrix(model).rows;
};

/** `caller → outcome` for one app and path. */
const cells = (rows: AccessRow[], app: string, path: string): Record<string, string> =>
  Object.fromEntries(rows.filter(r => r.app === app && r.path === path).map(r => [r.caller, r.outcome]));

const cell = (rows: AccessRow[], app: string, path: string, caller: string): AccessRow | undefined =>
  rows.find(r => r.app === app && r.path === path && r.caller === caller);

const policy = (name: string, spec: Record<string, unknown>, namespace = "ai"): KubeObject => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name, namespace },
  spec,
});

const withNamespaceAnnotations = (objects: KubeObject[], annotations: Record<string, string>): KubeObject[] =>
  objects.map(o =>
    o.kind === "Namespace" ? { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata?.annotations, ...annotations } } } : o,
  );

describe("the seed example's access matrix", () => {
  const rows = matrixOf(seedExample());

  it("runtime-openai on /: a JWT is needed from the internet, the namespace itself is exempt", () => {
    expect(cells(rows, "runtime-openai", "/")).toEqual({
      internet: "deny",
      "internet+jwt": "allow",
      "same-namespace": "allow",
      "other-namespace": "deny",
    });
    expect(cell(rows, "runtime-openai", "/", "internet")?.decidedBy).toBe("AuthorizationPolicy ai/ai-workloads-require-jwt");
  });

  it("runtime-openai on /docs: public", () => {
    expect(cells(rows, "runtime-openai", "/docs")).toEqual({
      internet: "allow",
      "internet+jwt": "allow",
      "same-namespace": "allow",
      "other-namespace": "allow",
    });
    expect(cell(rows, "runtime-openai", "/docs", "internet")?.decidedBy).toBe("AuthorizationPolicy ai/runtime-openai-public");
  });

  it("librechat (oauth2-proxy) on / and /*: public, oauth2-proxy does its own login", () => {
    const all = { internet: "allow", "internet+jwt": "allow", "same-namespace": "allow", "other-namespace": "allow" };
    expect(cells(rows, "librechat", "/")).toEqual(all);
    expect(cells(rows, "librechat", "/*")).toEqual(all);
    expect(cell(rows, "librechat", "/*", "internet")?.decidedBy).toBe("AuthorizationPolicy ai/librechat-public");
  });

  it("librechat-backend: not routed from the gateway, reachable from its namespace only", () => {
    expect(cells(rows, "librechat-backend", "/")).toEqual({
      internet: "not-routed",
      "internet+jwt": "not-routed",
      "same-namespace": "allow",
      "other-namespace": "deny",
    });
    expect(cell(rows, "librechat-backend", "/", "internet")?.decidedBy).toBe("no route");
  });

  it("orders rows by namespace, app, path (/ first, then public paths), caller", () => {
    expect(rows.map(r => `${r.app} ${r.path} ${r.caller}`).slice(0, 5)).toEqual([
      "librechat / internet",
      "librechat / internet+jwt",
      "librechat / same-namespace",
      "librechat / other-namespace",
      "librechat /* internet",
    ]);
    expect(rows).toHaveLength(20);
  });
});

describe("a team's own policies change the answer", () => {
  it("a user DENY overrides the generated ALLOW", () => {
    const input = [
      ...seedExample(),
      policy("block-docs", {
        selector: { matchLabels: { "app.kubernetes.io/name": "runtime-openai" } },
        action: "DENY",
        rules: [{ to: [{ operation: { paths: ["/docs"] } }] }],
      }),
    ];
    const rows = matrixOf(input);
    expect(cells(rows, "runtime-openai", "/docs")).toEqual({
      internet: "deny",
      "internet+jwt": "deny",
      "same-namespace": "deny",
      "other-namespace": "deny",
    });
    expect(cell(rows, "runtime-openai", "/docs", "internet")?.decidedBy).toBe("AuthorizationPolicy ai/block-docs");
    // Other paths and apps are untouched.
    expect(cells(rows, "runtime-openai", "/")).toEqual({
      internet: "deny",
      "internet+jwt": "allow",
      "same-namespace": "allow",
      "other-namespace": "deny",
    });
  });

  it("a mesh-wide DENY in the root namespace applies to every app", () => {
    const rows = matrixOf([...seedExample(), policy("deny-all", { action: "DENY", rules: [{}] }, "istio-system")]);
    expect(
      rows
        .filter(r => r.outcome !== "not-routed")
        .every(r => r.outcome === "deny" && r.decidedBy === "AuthorizationPolicy istio-system/deny-all"),
    ).toBe(true);
  });

  it("an unmodelled field yields unknown, naming it", () => {
    const rows = matrixOf([
      ...seedExample(),
      policy("partners", { action: "ALLOW", rules: [{ from: [{ source: { ipBlocks: ["203.0.113.0/24"] } }] }] }),
    ]);
    expect(cell(rows, "runtime-openai", "/", "internet")).toMatchObject({
      outcome: "unknown",
      decidedBy: "AuthorizationPolicy ai/partners: spec.rules[0].from[0].source.ipBlocks",
    });
    // A certain ALLOW still decides: the unknown policy cannot take access away.
    expect(cell(rows, "runtime-openai", "/", "same-namespace")).toMatchObject({
      outcome: "allow",
      decidedBy: "AuthorizationPolicy ai/ai-workloads-require-jwt",
    });
  });
});

describe("RequestAuthentication decides whether a JWT counts", () => {
  it("without one, internet+jwt is the same as internet", () => {
    const rows = matrixOf(withNamespaceAnnotations(seedExample(), { "ai-workloads.io/request-auth": "false" }));
    expect(cells(rows, "runtime-openai", "/")).toEqual({
      internet: "deny",
      "internet+jwt": "deny",
      "same-namespace": "allow",
      "other-namespace": "deny",
    });
  });

  it("without require-jwt nothing is denied", () => {
    const rows = matrixOf(withNamespaceAnnotations(seedExample(), { "ai-workloads.io/require-jwt": "false" }));
    expect(cell(rows, "runtime-openai", "/", "other-namespace")).toMatchObject({ outcome: "allow", decidedBy: "no policy" });
    expect(cell(rows, "librechat-backend", "/", "internet")).toMatchObject({ outcome: "not-routed", decidedBy: "no route" });
  });

  it("allow-same-namespace false: the namespace needs a JWT too", () => {
    const rows = matrixOf(withNamespaceAnnotations(seedExample(), { "ai-workloads.io/allow-same-namespace": "false" }));
    expect(cell(rows, "librechat-backend", "/", "same-namespace")?.outcome).toBe("deny");
  });
});

describe("objects the module manages are taken as generated now (SPEC §7)", () => {
  const generated: KubeObject = {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "x", namespace: "ai" },
  };
  it("drops managed objects from the input, keeps unmanaged ones over generated ones of the same name", () => {
    const managed = {
      ...generated,
      metadata: { ...generated.metadata, labels: { "app.kubernetes.io/managed-by": "ai-workloads" } },
      spec: { old: true },
    };
    const unmanaged = { ...generated, spec: { mine: true } };
    expect(converge([managed], [{ ...generated, spec: { now: true } }])).toEqual([{ ...generated, spec: { now: true } }]);
    expect(converge([unmanaged], [{ ...generated, spec: { now: true } }])).toEqual([unmanaged]);
  });

  it("a re-rendered stream (render output fed back) yields the same matrix", () => {
    const { model } = buildAccessModel(seedExample(), { defaultNamespace: "default" });
    const once = accessMatrix(model!);
    const rendered = model!.objects;
    const again = buildAccessModel(rendered, { defaultNamespace: "default" });
    expect(accessMatrix(again.model!)).toEqual(once);
  });
});

describe("formats", () => {
  const m = { apiVersion: "ai-workloads.io/v1" as const, kind: "AccessMatrix" as const, rows: matrixOf(seedExample()) };
  it("table: aligned columns", () => {
    const lines = formatMatrix(m, "table").trimEnd().split("\n");
    const at = lines[0].indexOf("CALLER");
    expect(lines.slice(1).every(l => l[at - 1] === " " && l[at] !== " ")).toBe(true);
    expect(lines[0]).toMatch(/^NAMESPACE +APP +PATH +CALLER +OUTCOME +DECIDED BY$/);
  });
  it("markdown: one line per app path, one column per caller", () => {
    const md = formatMatrix(m, "markdown");
    expect(md).toContain("| namespace | app | path | internet | internet+jwt | same-namespace | other-namespace |");
    expect(md).toContain(
      "| ai | librechat-backend | `/` | not-routed | not-routed | allow `ai/ai-workloads-require-jwt` | deny `ai/ai-workloads-require-jwt` |",
    );
  });
});
