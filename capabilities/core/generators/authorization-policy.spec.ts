import { describe, expect, it } from "@jest/globals";
import type { NamespaceSettings } from "../config";
import type { WorkloadSettings } from "../workload";
import { generatePublicPolicy, generateRequireJwtPolicy } from "./authorization-policy";
import { namespaceSettings, workloadSettings } from "../testing";

const namespace = (over: Partial<NamespaceSettings> = {}): NamespaceSettings =>
  namespaceSettings({ host: undefined, gateway: undefined, tenantId: undefined, requestAuth: true, requireJwt: true, ...over });

const app = (
  name: string,
  over: Partial<Omit<WorkloadSettings, "ns" | "app">> = {},
  ns: Partial<NamespaceSettings> = {},
): WorkloadSettings => ({
  ...workloadSettings("mlserver", { app: name, publicPaths: ["/docs"], autoscale: "off", profile: {}, ...over }),
  ns: namespace(ns),
});

describe("generateRequireJwtPolicy", () => {
  it("allows callers with a JWT, or from the same namespace when allow-same-namespace", () => {
    expect(generateRequireJwtPolicy(namespace())).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "ai-workloads-require-jwt", namespace: "ai", labels: { "app.kubernetes.io/managed-by": "ai-workloads" } },
      spec: {
        action: "ALLOW",
        rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }, { from: [{ source: { namespaces: ["ai"] } }] }],
      },
    });
  });

  it("has only the JWT rule when allow-same-namespace is false", () => {
    expect(generateRequireJwtPolicy(namespace({ allowSameNamespace: false }))?.spec.rules).toEqual([
      { from: [{ source: { requestPrincipals: ["*"] } }] },
    ]);
  });

  it("has no selector: it is namespace-wide", () => {
    expect(generateRequireJwtPolicy(namespace())?.spec).not.toHaveProperty("selector");
  });

  it("names its own namespace in the same-namespace rule", () => {
    expect(generateRequireJwtPolicy(namespace({ name: "team" }))?.spec.rules?.[1]).toEqual({
      from: [{ source: { namespaces: ["team"] } }],
    });
  });

  it("gives nothing when require-jwt is false", () => {
    expect(generateRequireJwtPolicy(namespace({ requireJwt: false }))).toBeUndefined();
  });
});

describe("generatePublicPolicy", () => {
  it("allows the public paths to anyone: one rule with only to.operation.paths, selecting the app's pods", () => {
    expect(generatePublicPolicy(app("runtime-openai"))).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: {
        name: "runtime-openai-public",
        namespace: "ai",
        labels: { "app.kubernetes.io/managed-by": "ai-workloads", "ai-workloads.io/app": "runtime-openai" },
      },
      spec: {
        action: "ALLOW",
        selector: { matchLabels: { app: "runtime-openai" } },
        rules: [{ to: [{ operation: { paths: ["/docs"] } }] }],
      },
    });
  });

  it('gives oauth2-proxy\'s "/*" as its paths', () => {
    expect(generatePublicPolicy(app("librechat", { kind: "oauth2-proxy", publicPaths: ["/*"] }))?.spec.rules).toEqual([
      { to: [{ operation: { paths: ["/*"] } }] },
    ]);
  });

  it("keeps every public path in order", () => {
    expect(
      generatePublicPolicy(app("a", { publicPaths: ["/docs", "/static/*", "*.js"] }))?.spec.rules?.[0].to?.[0].operation.paths,
    ).toEqual(["/docs", "/static/*", "*.js"]);
  });

  it("selects by every matchLabel of the Deployment", () => {
    expect(generatePublicPolicy(app("a", { selector: { app: "a", tier: "web" } }))?.spec.selector).toEqual({
      matchLabels: { app: "a", tier: "web" },
    });
  });

  it("has no ownerReferences without an owner", () => {
    expect(generatePublicPolicy(app("a"))?.metadata).not.toHaveProperty("ownerReferences");
  });

  it("carries a controller ownerReference to its Deployment when the owner is known", () => {
    expect(generatePublicPolicy(app("a"), { name: "a", uid: "u-a" })?.metadata.ownerReferences).toEqual([
      { apiVersion: "apps/v1", kind: "Deployment", name: "a", uid: "u-a", controller: true, blockOwnerDeletion: true },
    ]);
  });

  it("gives nothing without public paths", () => {
    expect(generatePublicPolicy(app("a", { publicPaths: [] }))).toBeUndefined();
  });

  it("gives nothing when require-jwt is false", () => {
    expect(generatePublicPolicy(app("a", {}, { requireJwt: false }))).toBeUndefined();
  });
});
