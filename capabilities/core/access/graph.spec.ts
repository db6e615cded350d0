import type { KubeObject } from "../types";
import { securityObjects } from "./evaluate";
import { type Graph, jwtRequirement, toDot, toMermaid } from "./graph";
import type { App } from "./model";

const app = (publicPaths: string[] = []): App =>
  ({ namespace: "team", name: "api", labels: { app: "api" }, settings: { publicPaths } }) as unknown as App;

const ap = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name, namespace: "team" },
  spec,
});
const ra: KubeObject = {
  apiVersion: "security.istio.io/v1",
  kind: "RequestAuthentication",
  metadata: { name: "aad", namespace: "team" },
  spec: { jwtRules: [{ issuer: "i" }] },
};
const requireJwt = (sameNamespace: boolean) =>
  ap("require-jwt", {
    rules: [
      { from: [{ source: { requestPrincipals: ["*"] } }] },
      ...(sameNamespace ? [{ from: [{ source: { namespaces: ["team"] } }] }] : []),
    ],
  });

describe("jwtRequirement: what a caller needs at /", () => {
  it.each([
    ["no policy", [], "JWT: not required"],
    ["require-jwt with the namespace exempt", [requireJwt(true), ra], "JWT: required, same namespace exempt"],
    ["require-jwt", [requireJwt(false), ra], "JWT: required"],
    ["require-jwt without a RequestAuthentication", [requireJwt(false)], "JWT: does not help (denied from the gateway)"],
    [
      "a condition",
      [ap("p", { rules: [{ when: [{ key: "request.headers[x]", values: ["1"] }] }] })],
      "JWT: unknown (see ai-workloads access)",
    ],
  ])("%s → %s", (_, objects, expected) => {
    expect(jwtRequirement(app(), securityObjects(objects as KubeObject[]))).toBe(expected);
  });
});

describe("writers", () => {
  const g: Graph = {
    namespaces: ["a-b", "a.b"],
    nodes: [
      { key: "svc:a-b/x", shape: "service", namespace: "a-b", lines: ['say "hi"', "<b>"] },
      { key: "svc:a.b/x", shape: "service", namespace: "a.b", lines: ["x"] },
    ],
    edges: [{ from: "svc:a-b/x", to: "svc:a.b/x", label: 'a "b"', dashed: true }],
  };

  it("mermaid: distinct ids for keys that read alike, entity codes in labels", () => {
    expect(toMermaid(g)).toBe(
      [
        "flowchart LR",
        '  subgraph ns_a_b["namespace a-b"]',
        '    svc_a_b_x["say #quot;hi#quot;<br/>#lt;b#gt;"]',
        "  end",
        '  subgraph ns_a_b_2["namespace a.b"]',
        '    svc_a_b_x_2["x"]',
        "  end",
        '  svc_a_b_x -.->|"a #quot;b#quot;"| svc_a_b_x_2',
        "",
      ].join("\n"),
    );
  });

  it("dot: quoted ids and escaped labels", () => {
    const dot = toDot(g);
    expect(dot).toContain('"svc:a-b/x" [shape=box, label="say \\"hi\\"\\n<b>"];');
    expect(dot).toContain('"svc:a-b/x" -> "svc:a.b/x" [label="a \\"b\\"", style=dashed];');
  });
});
