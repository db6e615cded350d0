import { describe, expect, it } from "@jest/globals";
import type { V1Container, V1EnvVar } from "@kubernetes/client-node";
import type { NamespaceSettings } from "../config";
import type { V1Deployment } from "../types";
import type { WorkloadSettings } from "../workload";
import { applyDefaults } from "./index";
import { applyOauth2ProxyDefaults } from "./oauth2-proxy";
import { workloadSettings } from "../testing";

const TENANT = "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01";
const UPSTREAM = "http://librechat-backend.ai.svc.cluster.local:3000";
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

const settings = (over: Partial<Omit<WorkloadSettings, "ns">> = {}, ns: Partial<NamespaceSettings> = {}): WorkloadSettings =>
  workloadSettings("oauth2-proxy", { profile: {}, upstream: UPSTREAM, ...over }, ns);

const container = (over: Partial<V1Container> = {}): V1Container => ({
  name: "proxy",
  image: "quay.io/oauth2-proxy/oauth2-proxy:v7.12.0",
  ...over,
});

function run(c: V1Container, s: WorkloadSettings = settings()): V1Container {
  const copy = structuredClone(c);
  applyOauth2ProxyDefaults(copy, s);
  return copy;
}

const argsOf = (c: V1Container): string[] => c.args ?? [];
const flagsIn = (c: V1Container, flag: string): string[] => argsOf(c).filter(a => a === `--${flag}` || a.startsWith(`--${flag}=`));

function deployment(c: V1Container): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "login", namespace: "ai", labels: { "ai-workloads.io/kind": "oauth2-proxy" } },
    spec: { selector: { matchLabels: { app: "login" } }, template: { metadata: { labels: { app: "login" } }, spec: { containers: [c] } } },
  };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object") {
    Object.values(o as object).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}

const secretEnv = (env: string, secret: string, key: string): V1EnvVar => ({
  name: env,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

describe("oauth2-proxy defaults", () => {
  it("adds every SPEC §4 flag, in order, when tenant, upstream, host and exposure are known", () => {
    expect(run(container()).args).toEqual([
      "--http-address=0.0.0.0:4180",
      "--provider=oidc",
      `--oidc-issuer-url=${ISSUER}`,
      `--upstream=${UPSTREAM}`,
      "--redirect-url=https://ai.example.com/apps/login/oauth2/callback",
      "--email-domain=*",
      "--reverse-proxy=true",
      "--cookie-secure=true",
      "--skip-provider-button=true",
      "--scope=openid profile email",
    ]);
  });

  it("adds port http and the /ping and /ready probes", () => {
    const c = run(container());
    expect(c.ports).toEqual([{ name: "http", containerPort: 4180 }]);
    expect(c.livenessProbe?.httpGet).toEqual({ path: "/ping", port: "http" });
    expect(c.readinessProbe?.httpGet).toEqual({ path: "/ready", port: "http" });
  });

  it("listens on the annotated port", () => {
    const c = run(container(), settings({ port: 8080 }));
    expect(flagsIn(c, "http-address")).toEqual(["--http-address=0.0.0.0:8080"]);
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080 }]);
  });

  it("adds no issuer flag without a tenant", () => {
    expect(flagsIn(run(container(), settings({}, { tenantId: undefined })), "oidc-issuer-url")).toEqual([]);
  });

  it("adds no upstream flag without an upstream", () => {
    expect(flagsIn(run(container(), settings({ upstream: undefined })), "upstream")).toEqual([]);
  });

  it("adds no redirect-url when the app is not exposed", () => {
    expect(flagsIn(run(container(), settings({ expose: false })), "redirect-url")).toEqual([]);
  });

  it("adds no redirect-url without a host", () => {
    expect(flagsIn(run(container(), settings({}, { host: undefined })), "redirect-url")).toEqual([]);
  });

  it("builds the redirect-url from the route path", () => {
    expect(flagsIn(run(container(), settings({ path: "/chat" })), "redirect-url")).toEqual([
      "--redirect-url=https://ai.example.com/chat/oauth2/callback",
    ]);
  });

  it("builds the redirect-url without a double slash for the route path /", () => {
    expect(flagsIn(run(container(), settings({ path: "/" })), "redirect-url")).toEqual([
      "--redirect-url=https://ai.example.com/oauth2/callback",
    ]);
  });

  it("keeps the user's args first and appends only the missing flags", () => {
    const c = run(container({ args: ["--provider=azure", "--upstream=http://web:80", "--scope=openid"] }));
    expect(c.args).toEqual([
      "--provider=azure",
      "--upstream=http://web:80",
      "--scope=openid",
      "--http-address=0.0.0.0:4180",
      `--oidc-issuer-url=${ISSUER}`,
      "--redirect-url=https://ai.example.com/apps/login/oauth2/callback",
      "--email-domain=*",
      "--reverse-proxy=true",
      "--cookie-secure=true",
      "--skip-provider-button=true",
    ]);
  });

  it("does not add --upstream when given as --upstream=x", () => {
    expect(flagsIn(run(container({ args: ["--upstream=http://web:80"] })), "upstream")).toEqual(["--upstream=http://web:80"]);
  });

  it("does not add --upstream when given as --upstream x", () => {
    const c = run(container({ args: ["--upstream", "http://web:80"] }));
    expect(flagsIn(c, "upstream")).toEqual(["--upstream"]);
    expect(argsOf(c).slice(0, 2)).toEqual(["--upstream", "http://web:80"]);
  });

  it("does not add --upstream when given in the command", () => {
    expect(flagsIn(run(container({ command: ["oauth2-proxy", "--upstream=http://web:80"] })), "upstream")).toEqual([]);
  });

  it.each([
    ["upstream", "OAUTH2_PROXY_UPSTREAMS"],
    ["upstream", "OAUTH2_PROXY_UPSTREAM"],
    ["http-address", "OAUTH2_PROXY_HTTP_ADDRESS"],
    ["provider", "OAUTH2_PROXY_PROVIDER"],
    ["oidc-issuer-url", "OAUTH2_PROXY_OIDC_ISSUER_URL"],
    ["redirect-url", "OAUTH2_PROXY_REDIRECT_URL"],
    ["email-domain", "OAUTH2_PROXY_EMAIL_DOMAINS"],
    ["reverse-proxy", "OAUTH2_PROXY_REVERSE_PROXY"],
    ["cookie-secure", "OAUTH2_PROXY_COOKIE_SECURE"],
    ["skip-provider-button", "OAUTH2_PROXY_SKIP_PROVIDER_BUTTON"],
    ["scope", "OAUTH2_PROXY_SCOPE"],
  ])("does not add --%s when its env var %s is set", (flag, env) => {
    const c = run(container({ env: [{ name: env, value: "x" }] }));
    expect(flagsIn(c, flag)).toEqual([]);
    expect(c.env).toEqual([{ name: env, value: "x" }]);
  });

  it("adds the three credentials from the oauth2-secret's keys", () => {
    expect(run(container(), settings({ oauth2Secret: "login-oauth2" })).env).toEqual([
      secretEnv("OAUTH2_PROXY_CLIENT_ID", "login-oauth2", "client-id"),
      secretEnv("OAUTH2_PROXY_CLIENT_SECRET", "login-oauth2", "client-secret"),
      secretEnv("OAUTH2_PROXY_COOKIE_SECRET", "login-oauth2", "cookie-secret"),
    ]);
  });

  it("adds no credential env without an oauth2-secret", () => {
    expect(run(container()).env).toBeUndefined();
  });

  it("keeps the user's credential env var and adds only the others", () => {
    const mine = secretEnv("OAUTH2_PROXY_CLIENT_ID", "app-registration", "id");
    expect(run(container({ env: [mine] }), settings({ oauth2Secret: "login-oauth2" })).env).toEqual([
      mine,
      secretEnv("OAUTH2_PROXY_CLIENT_SECRET", "login-oauth2", "client-secret"),
      secretEnv("OAUTH2_PROXY_COOKIE_SECRET", "login-oauth2", "cookie-secret"),
    ]);
  });

  it("does not add a credential as env when it is given as a flag", () => {
    const c = run(
      container({
        args: ["--client-id=my-client", "--client-secret-file=/secrets/client-secret", "--cookie-secret-file", "/secrets/cookie"],
      }),
      settings({ oauth2Secret: "login-oauth2" }),
    );
    expect(c.env ?? []).toEqual([]);
  });

  it("does not add the cookie secret as env when --cookie-secret is given", () => {
    const env = run(container({ args: ["--cookie-secret=abc"] }), settings({ oauth2Secret: "login-oauth2" })).env ?? [];
    expect(env.map(e => e.name)).toEqual(["OAUTH2_PROXY_CLIENT_ID", "OAUTH2_PROXY_CLIENT_SECRET"]);
  });

  it('keeps a user port named "web" on the app port and points the probes at "web"', () => {
    const c = run(container({ ports: [{ name: "web", containerPort: 4180 }] }));
    expect(c.ports).toEqual([{ name: "web", containerPort: 4180 }]);
    expect(c.livenessProbe?.httpGet?.port).toBe("web");
    expect(c.readinessProbe?.httpGet?.port).toBe("web");
  });

  it("keeps the user's probes", () => {
    const live = { httpGet: { path: "/healthz", port: 4180 } };
    const ready = { tcpSocket: { port: 4180 } };
    const c = run(container({ livenessProbe: live, readinessProbe: ready }));
    expect([c.livenessProbe, c.readinessProbe]).toEqual([live, ready]);
  });

  it("does not mutate the input Deployment (applyDefaults)", () => {
    const input = deployment(container({ args: ["--provider=azure"], env: [{ name: "A", value: "1" }] }));
    const copy = structuredClone(input);
    deepFreeze(input);
    applyDefaults(input, settings({ oauth2Secret: "login-oauth2" }));
    expect(input).toEqual(copy);
  });

  it("applying the defaults twice equals applying them once", () => {
    const s = settings({ oauth2Secret: "login-oauth2" });
    const once = applyDefaults(deployment(container({ args: ["--upstream", "http://web:80"] })), s);
    expect(applyDefaults(once, s)).toEqual(once);
  });
});

describe("oauth2-proxy: never widen access silently (SPEC §13.2)", () => {
  const WIRING = [
    "--http-address=0.0.0.0:4180",
    `--upstream=${UPSTREAM}`,
    "--redirect-url=https://ai.example.com/apps/login/oauth2/callback",
  ];

  it("with envFrom adds only the wiring flags: a flag would override the team's own email domains or provider", () => {
    expect(run(container({ envFrom: [{ secretRef: { name: "proxy-env" } }] })).args).toEqual(WIRING);
  });

  it("with a --config arg adds only the wiring flags", () => {
    expect(run(container({ args: ["--config=/etc/oauth2-proxy.cfg"] })).args).toEqual(["--config=/etc/oauth2-proxy.cfg", ...WIRING]);
  });

  it("adds no args at all to a shell command: they would become the shell's positional parameters", () => {
    for (const c of [
      container({ command: ["sh", "-c", "exec oauth2-proxy --upstream=x"] }),
      container({ command: ["/bin/bash"], args: ["-c", "exec oauth2-proxy"] }),
    ]) {
      expect(run(c).args).toEqual(c.args);
    }
  });

  it("honours --proxy-prefix (arg or env) in --redirect-url", () => {
    expect(flagsIn(run(container({ args: ["--proxy-prefix=/auth"] })), "redirect-url")).toEqual([
      "--redirect-url=https://ai.example.com/apps/login/auth/callback",
    ]);
    expect(flagsIn(run(container({ env: [{ name: "OAUTH2_PROXY_PROXY_PREFIX", value: "/sso/" }] })), "redirect-url")).toEqual([
      "--redirect-url=https://ai.example.com/apps/login/sso/callback",
    ]);
  });

  it("gives a path-only --redirect-url for a wildcard host: oauth2-proxy takes the host from the request", () => {
    expect(flagsIn(run(container(), settings({}, { host: "*.example.com" })), "redirect-url")).toEqual([
      "--redirect-url=/apps/login/oauth2/callback",
    ]);
    expect(flagsIn(run(container(), settings({ path: "/" }, { host: "*.example.com" })), "redirect-url")).toEqual([
      "--redirect-url=/oauth2/callback",
    ]);
  });
});
