import { describe, expect, it } from "@jest/globals";
import type { NamespaceSettings } from "../config";
import { generateRequestAuthentication } from "./request-authentication";

const TENANT = "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01";
const CLIENT = "3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab";

function namespace(over: Partial<NamespaceSettings> = {}): NamespaceSettings {
  return {
    name: "ai",
    basePath: "/apps",
    tenantId: TENANT,
    audience: `api://${CLIENT}`,
    requestAuth: true,
    requireJwt: false,
    allowSameNamespace: true,
    activatedByNamespace: false,
    ...over,
  };
}

const JWKS = `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`;

describe("generateRequestAuthentication", () => {
  it("trusts both Entra ID issuers with the tenant's JWKS, the api:// audience and its bare GUID", () => {
    expect(generateRequestAuthentication(namespace())).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "RequestAuthentication",
      metadata: { name: "ai-workloads-aad", namespace: "ai", labels: { "app.kubernetes.io/managed-by": "ai-workloads" } },
      spec: {
        jwtRules: [
          {
            issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
            jwksUri: JWKS,
            audiences: [`api://${CLIENT}`, CLIENT],
            forwardOriginalToken: true,
          },
          {
            issuer: `https://sts.windows.net/${TENANT}/`,
            jwksUri: JWKS,
            audiences: [`api://${CLIENT}`, CLIENT],
            forwardOriginalToken: true,
          },
        ],
      },
    });
  });

  it("has no selector: it is namespace-wide", () => {
    expect(generateRequestAuthentication(namespace())?.spec).not.toHaveProperty("selector");
  });

  it("has no ownerReferences", () => {
    expect(generateRequestAuthentication(namespace())?.metadata).not.toHaveProperty("ownerReferences");
  });

  it("gives a bare GUID audience alone", () => {
    const rules = generateRequestAuthentication(namespace({ audience: CLIENT }))?.spec.jwtRules ?? [];
    expect(rules.map(r => r.audiences)).toEqual([[CLIENT], [CLIENT]]);
  });

  it("gives a non-api audience alone", () => {
    const rules = generateRequestAuthentication(namespace({ audience: "https://chat.example.com" }))?.spec.jwtRules ?? [];
    expect(rules.map(r => r.audiences)).toEqual([["https://chat.example.com"], ["https://chat.example.com"]]);
  });

  it("has no audiences field without an audience", () => {
    const rules = generateRequestAuthentication(namespace({ audience: undefined }))?.spec.jwtRules ?? [];
    expect(rules).toHaveLength(2);
    rules.forEach(r => expect(r).not.toHaveProperty("audiences"));
  });

  it("gives nothing when request-auth is false", () => {
    expect(generateRequestAuthentication(namespace({ requestAuth: false }))).toBeUndefined();
  });

  it("gives nothing without a tenant", () => {
    expect(generateRequestAuthentication(namespace({ tenantId: undefined }))).toBeUndefined();
  });

  it("is placed in the namespace it is for", () => {
    expect(generateRequestAuthentication(namespace({ name: "team" }))?.metadata.namespace).toBe("team");
  });
});
