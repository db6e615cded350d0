import { REQUEST_AUTHENTICATION_NAME } from "../constants";
import type { NamespaceSettings } from "../config";
import { audiencesFor } from "../parse";
import type { JwtRule, RequestAuthentication } from "../types";
import { companionLabels } from "./common";

export const entraIssuers = (tenantId: string): string[] => [
  `https://login.microsoftonline.com/${tenantId}/v2.0`,
  `https://sts.windows.net/${tenantId}/`,
];

/** Namespace-wide; trusts both Entra ID token versions (v1 tokens carry the sts.windows.net issuer). */
export function generateRequestAuthentication(ns: NamespaceSettings): RequestAuthentication | undefined {
  if (!ns.requestAuth || !ns.tenantId) return undefined;
  const jwksUri = `https://login.microsoftonline.com/${ns.tenantId}/discovery/v2.0/keys`;
  const jwtRules: JwtRule[] = entraIssuers(ns.tenantId).map(issuer => ({
    issuer,
    jwksUri,
    ...(ns.audience ? { audiences: audiencesFor(ns.audience) } : {}),
    forwardOriginalToken: true,
  }));
  return {
    apiVersion: "security.istio.io/v1",
    kind: "RequestAuthentication",
    metadata: { name: REQUEST_AUTHENTICATION_NAME, namespace: ns.name, labels: companionLabels() },
    spec: { jwtRules },
  };
}
