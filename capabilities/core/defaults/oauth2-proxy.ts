import type { V1Container } from "@kubernetes/client-node";
import type { WorkloadSettings } from "../workload";
import { LIVENESS, READINESS, ensureEnv, ensureNamedPort, ensureProbe, hasEnv, hasFlag, httpProbe } from "./container";

/** oauth2-proxy reads each flag from `OAUTH2_PROXY_<FLAG>`; a few list flags take a plural name. */
const ENV_NAMES: Record<string, string[]> = {
  upstream: ["OAUTH2_PROXY_UPSTREAMS", "OAUTH2_PROXY_UPSTREAM"],
  "email-domain": ["OAUTH2_PROXY_EMAIL_DOMAINS", "OAUTH2_PROXY_EMAIL_DOMAIN"],
};

export const envNamesOf = (flag: string): string[] => ENV_NAMES[flag] ?? [`OAUTH2_PROXY_${flag.toUpperCase().replace(/-/g, "_")}`];

/** Given as an arg or as its environment variable (envFrom cannot be seen at admission). */
export const flagGiven = (c: V1Container, flag: string): boolean => hasFlag(c, flag) || envNamesOf(flag).some(name => hasEnv(c, name));

export const issuerUrl = (tenantId: string): string => `https://login.microsoftonline.com/${tenantId}/v2.0`;

export const redirectUrl = (host: string, path: string): string => `https://${host}${path === "/" ? "" : path}/oauth2/callback`;

/** Flags in the order they are appended; undefined values are not known here and are skipped. */
export function oauth2ProxyFlags(s: WorkloadSettings): [string, string | undefined][] {
  return [
    ["http-address", `0.0.0.0:${s.port}`],
    ["provider", "oidc"],
    ["oidc-issuer-url", s.ns.tenantId ? issuerUrl(s.ns.tenantId) : undefined],
    ["upstream", s.upstream],
    ["redirect-url", s.expose && s.ns.host ? redirectUrl(s.ns.host, s.path) : undefined],
    ["email-domain", "*"],
    ["reverse-proxy", "true"],
    ["cookie-secure", "true"],
    ["skip-provider-button", "true"],
    ["scope", "openid profile email"],
  ];
}

/** The credentials oauth2-proxy needs, with the Secret key each comes from and the flags that also give it. */
export const CREDENTIALS = [
  { env: "OAUTH2_PROXY_CLIENT_ID", key: "client-id", flags: ["client-id"] },
  { env: "OAUTH2_PROXY_CLIENT_SECRET", key: "client-secret", flags: ["client-secret", "client-secret-file"] },
  { env: "OAUTH2_PROXY_COOKIE_SECRET", key: "cookie-secret", flags: ["cookie-secret", "cookie-secret-file"] },
] as const;

export function applyOauth2ProxyDefaults(c: V1Container, s: WorkloadSettings): void {
  const missing = oauth2ProxyFlags(s).filter(([flag, value]) => value !== undefined && !flagGiven(c, flag));
  if (missing.length > 0) c.args = [...(c.args ?? []), ...missing.map(([flag, value]) => `--${flag}=${value}`)];
  if (s.oauth2Secret) {
    for (const cred of CREDENTIALS) {
      if (cred.flags.some(f => hasFlag(c, f))) continue;
      ensureEnv(c, { name: cred.env, valueFrom: { secretKeyRef: { name: s.oauth2Secret, key: cred.key } } });
    }
  }
  const http = ensureNamedPort(c, s.port, "http");
  if (http) {
    ensureProbe(c, "livenessProbe", httpProbe("/ping", http, LIVENESS));
    ensureProbe(c, "readinessProbe", httpProbe("/ready", http, READINESS));
  }
}
