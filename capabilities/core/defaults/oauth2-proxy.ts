import type { V1Container } from "@kubernetes/client-node";
import type { WorkloadSettings } from "../workload";
import { LIVENESS, READINESS, ensureEnv, ensureNamedPort, ensureProbe, flagValue, hasEnv, hasFlag, httpProbe } from "./container";

/** oauth2-proxy reads each flag from `OAUTH2_PROXY_<FLAG>`; a few list flags take a plural name. */
const ENV_NAMES: Record<string, string[]> = {
  upstream: ["OAUTH2_PROXY_UPSTREAMS", "OAUTH2_PROXY_UPSTREAM"],
  "email-domain": ["OAUTH2_PROXY_EMAIL_DOMAINS", "OAUTH2_PROXY_EMAIL_DOMAIN"],
};

export const envNamesOf = (flag: string): string[] => ENV_NAMES[flag] ?? [`OAUTH2_PROXY_${flag.toUpperCase().replace(/-/g, "_")}`];

/** Given as an arg or as its environment variable (envFrom cannot be seen at admission). */
export const flagGiven = (c: V1Container, flag: string): boolean => hasFlag(c, flag) || envNamesOf(flag).some(name => hasEnv(c, name));

export const issuerUrl = (tenantId: string): string => `https://login.microsoftonline.com/${tenantId}/v2.0`;

/** oauth2-proxy's `--proxy-prefix` (arg or env), default `/oauth2`: its callback is `<prefix>/callback`. */
export function proxyPrefix(c: V1Container): string {
  const given = flagValue(c, "proxy-prefix") ?? (c.env ?? []).find(e => e.name === "OAUTH2_PROXY_PROXY_PREFIX")?.value;
  return given === undefined || given === "" ? "/oauth2" : given.replace(/\/+$/, "");
}

/**
 * The OAuth callback under the app's route. A wildcard host cannot be written into a URL:
 * a path-only redirect URL makes oauth2-proxy take the host from the request.
 */
export function redirectUrl(host: string, path: string, prefix: string): string {
  const callback = `${path === "/" ? "" : path}${prefix}/callback`;
  return host.startsWith("*.") ? callback : `https://${host}${callback}`;
}

/** Flags the route and annotations decide: added even when the module cannot see the rest of the settings. */
export const WIRING_FLAGS: readonly string[] = ["http-address", "upstream", "redirect-url"];

/** `envFrom` or `--config` can hold any setting, unseen at admission (SPEC §13.2). */
export const hasUnseenSettings = (c: V1Container): boolean => (c.envFrom ?? []).length > 0 || flagGiven(c, "config");

/** A shell command line: args appended would become the shell's positional parameters, not flags. */
export function runsShell(c: V1Container): boolean {
  const words = [...(c.command ?? []), ...(c.args ?? [])];
  const shell = (words[0] ?? "").split("/").pop() ?? "";
  return /^(ba|da|a|z|k|mk)?sh$/.test(shell) && words.some(w => /^-[a-z]*c[a-z]*$/.test(w));
}

/** Flags in the order they are appended; undefined values are not known here and are skipped. */
export function oauth2ProxyFlags(s: WorkloadSettings, c: V1Container): [string, string | undefined][] {
  return [
    ["http-address", `0.0.0.0:${s.port}`],
    ["provider", "oidc"],
    ["oidc-issuer-url", s.ns.tenantId ? issuerUrl(s.ns.tenantId) : undefined],
    ["upstream", s.upstream],
    ["redirect-url", s.expose && s.ns.host ? redirectUrl(s.ns.host, s.path, proxyPrefix(c)) : undefined],
    ["email-domain", "*"],
    ["reverse-proxy", "true"],
    ["cookie-secure", "true"],
    ["skip-provider-button", "true"],
    ["scope", "openid profile email"],
  ];
}

/**
 * The flags the module adds to this container, and those it would add but leaves out: all of
 * them under a shell, every non-wiring flag when settings are unseen (a flag beats env and a
 * config file, so adding `--email-domain=*` could widen a team's own setting).
 */
export function oauth2ProxyArgs(s: WorkloadSettings, c: V1Container): { added: string[]; leftOut: string[] } {
  const missing = oauth2ProxyFlags(s, c)
    .filter(([flag, value]) => value !== undefined && !flagGiven(c, flag))
    .map(([flag, value]) => ({ flag, arg: `--${flag}=${value}` }));
  const shell = runsShell(c);
  const unseen = hasUnseenSettings(c);
  const adds = (flag: string) => !shell && (!unseen || WIRING_FLAGS.includes(flag));
  return { added: missing.filter(m => adds(m.flag)).map(m => m.arg), leftOut: missing.filter(m => !adds(m.flag)).map(m => m.arg) };
}

/** The credentials oauth2-proxy needs, with the Secret key each comes from and the flags that also give it. */
export const CREDENTIALS = [
  { env: "OAUTH2_PROXY_CLIENT_ID", key: "client-id", flags: ["client-id"] },
  { env: "OAUTH2_PROXY_CLIENT_SECRET", key: "client-secret", flags: ["client-secret", "client-secret-file"] },
  { env: "OAUTH2_PROXY_COOKIE_SECRET", key: "cookie-secret", flags: ["cookie-secret", "cookie-secret-file"] },
] as const;

export function applyOauth2ProxyDefaults(c: V1Container, s: WorkloadSettings): void {
  const { added } = oauth2ProxyArgs(s, c);
  if (added.length > 0) c.args = [...(c.args ?? []), ...added];
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
