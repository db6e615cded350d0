import { REQUIRE_JWT_POLICY_NAME, publicPolicyName } from "../constants";
import type { NamespaceSettings } from "../config";
import type { AuthorizationPolicy, PolicyRule } from "../types";
import type { WorkloadSettings } from "../workload";
import { type Owner, companionLabels, ownerReferences } from "./common";

/** ALLOW with a JWT, or (allow-same-namespace) from the namespace itself; everything else is denied. */
export function generateRequireJwtPolicy(ns: NamespaceSettings): AuthorizationPolicy | undefined {
  if (!ns.requireJwt) return undefined;
  const rules: PolicyRule[] = [{ from: [{ source: { requestPrincipals: ["*"] } }] }];
  if (ns.allowSameNamespace) rules.push({ from: [{ source: { namespaces: [ns.name] } }] });
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: REQUIRE_JWT_POLICY_NAME, namespace: ns.name, labels: companionLabels() },
    spec: { action: "ALLOW", rules },
  };
}

/**
 * A separate ALLOW with no `from`: ALLOW policies are ORed, so these paths need no JWT.
 * (Adding paths to the JWT rule, as the seed chart did, keeps them behind the JWT.)
 */
export function generatePublicPolicy(s: WorkloadSettings, owner?: Owner): AuthorizationPolicy | undefined {
  if (!s.ns.requireJwt || s.publicPaths.length === 0) return undefined;
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: publicPolicyName(s.app), namespace: s.namespace, labels: companionLabels(s.app), ...ownerReferences(owner) },
    spec: {
      action: "ALLOW",
      selector: { matchLabels: { ...s.selector } },
      rules: [{ to: [{ operation: { paths: [...s.publicPaths] } }] }],
    },
  };
}
