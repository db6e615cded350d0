import { describe, expect, it } from "@jest/globals";
import type { V1Container } from "@kubernetes/client-node";
import type { InfraProfile, NamespaceSettings } from "./config";
import { applyDefaults } from "./defaults";
import fc from "fast-check";
import { RouteIndex, checkJwtWithoutRequestAuth, checkRouteClash, checkWorkload, ratchet, routeClashes, routeProblems } from "./policy";
import { type Problem, formatProblem } from "./problems";
import type { V1Deployment } from "./types";
import type { WorkloadSettings } from "./workload";
import { workloadSettings } from "./testing";

const settings = workloadSettings;

function deployment(s: WorkloadSettings, container: Partial<V1Container> = {}): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: s.app, namespace: s.namespace, labels: { "ai-workloads.io/kind": s.kind } },
    spec: {
      selector: { matchLabels: s.selector },
      template: { metadata: { labels: s.selector }, spec: { containers: [{ name: "main", image: "img", ...container }] } },
    },
  };
}

/** The message lines for a Deployment after its defaults, as admission reports them. */
function check(s: WorkloadSettings, container: Partial<V1Container> = {}): string[] {
  return checkWorkload(applyDefaults(deployment(s, container), s), s).map(formatProblem);
}

const fromSecret = (name: string, key: string) => ({ valueFrom: { secretKeyRef: { name, key } } });
const CREDENTIAL_ENV = [
  { name: "OAUTH2_PROXY_CLIENT_ID", ...fromSecret("creds", "client-id") },
  { name: "OAUTH2_PROXY_CLIENT_SECRET", ...fromSecret("creds", "client-secret") },
  { name: "OAUTH2_PROXY_COOKIE_SECRET", ...fromSecret("creds", "cookie-secret") },
];

const proxy = (over: Partial<Omit<WorkloadSettings, "ns" | "kind">> = {}, ns: Partial<NamespaceSettings> = {}) =>
  settings("oauth2-proxy", { upstream: "http://librechat-backend.ai.svc.cluster.local:3000", oauth2Secret: "login-oauth2", ...over }, ns);

const NO_UPSTREAM =
  'ai/login: metadata.annotations[ai-workloads.io/upstream]: oauth2-proxy has no upstream; set ai-workloads.io/upstream to the Service it protects, such as "librechat-backend", or pass --upstream';
const NO_ISSUER =
  "ai/login: spec.template.spec.containers[main].args: oauth2-proxy has no OIDC issuer; set the tenant (ai-workloads.io/aad-tenant-id on the Namespace, or aad.tenantId in the cluster config), or pass --oidc-issuer-url";
const noCredential = (what: string, env: string) =>
  `ai/login: spec.template.spec.containers[main].env: oauth2-proxy has no ${what}; set ai-workloads.io/oauth2-secret to a Secret with keys client-id, client-secret and cookie-secret, or set ${env} from a Secret`;
const NO_CLIENT_ID = noCredential("client id", "OAUTH2_PROXY_CLIENT_ID");
const NO_CLIENT_SECRET = noCredential("client secret", "OAUTH2_PROXY_CLIENT_SECRET");
const NO_COOKIE_SECRET = noCredential("cookie secret", "OAUTH2_PROXY_COOKIE_SECRET");

describe("checkWorkload: clean workloads", () => {
  it("admits a defaulted mlserver with the default profile without problems", () => {
    expect(check(settings("mlserver"))).toEqual([]);
  });

  it("admits a defaulted librechat with MONGO_URI without problems", () => {
    expect(check(settings("librechat"), { env: [{ name: "MONGO_URI", ...fromSecret("mongo", "uri") }] })).toEqual([]);
  });

  it("admits a defaulted oauth2-proxy with upstream, tenant and oauth2-secret without problems", () => {
    expect(check(proxy())).toEqual([]);
  });
});

describe("checkWorkload: oauth2-proxy denials", () => {
  it("denies oauth2-proxy without an upstream", () => {
    expect(check(proxy({ upstream: undefined }))).toEqual([NO_UPSTREAM]);
  });

  it("accepts an upstream given as --upstream=<url>", () => {
    expect(check(proxy({ upstream: undefined }), { args: ["--upstream=http://web.ai.svc.cluster.local:80"] })).toEqual([]);
  });

  it("accepts an upstream given as --upstream <url>", () => {
    expect(check(proxy({ upstream: undefined }), { args: ["--upstream", "http://web.ai.svc.cluster.local:80"] })).toEqual([]);
  });

  it("accepts an upstream given as OAUTH2_PROXY_UPSTREAMS", () => {
    expect(check(proxy({ upstream: undefined }), { env: [{ name: "OAUTH2_PROXY_UPSTREAMS", value: "http://web:80" }] })).toEqual([]);
  });

  it("denies oauth2-proxy without an issuer (no tenant, no --oidc-issuer-url)", () => {
    expect(check(proxy({}, { tenantId: undefined }))).toEqual([NO_ISSUER]);
  });

  it("accepts an issuer given as --oidc-issuer-url without a tenant", () => {
    expect(check(proxy({}, { tenantId: undefined }), { args: ["--oidc-issuer-url=https://login.example.com/"] })).toEqual([]);
  });

  it("accepts an issuer given as OAUTH2_PROXY_OIDC_ISSUER_URL without a tenant", () => {
    expect(
      check(proxy({}, { tenantId: undefined }), { env: [{ name: "OAUTH2_PROXY_OIDC_ISSUER_URL", value: "https://login.example.com/" }] }),
    ).toEqual([]);
  });

  it("denies each missing credential when none is given by any means", () => {
    expect(check(proxy({ oauth2Secret: undefined }))).toEqual([NO_CLIENT_ID, NO_CLIENT_SECRET, NO_COOKIE_SECRET]);
  });

  it("denies only the credential that is missing", () => {
    expect(check(proxy({ oauth2Secret: undefined }), { env: [CREDENTIAL_ENV[0], CREDENTIAL_ENV[2]] })).toEqual([NO_CLIENT_SECRET]);
  });

  it("accepts credentials given as env from a Secret", () => {
    expect(check(proxy({ oauth2Secret: undefined }), { env: CREDENTIAL_ENV })).toEqual([]);
  });

  it("accepts credentials given through envFrom", () => {
    const problems = check(proxy({ oauth2Secret: undefined }), { envFrom: [{ secretRef: { name: "login-oauth2-env" } }] });
    expect(problems.filter(p => !p.startsWith("warning: "))).toEqual([]);
  });

  it("accepts credentials given as args naming files", () => {
    const args = [
      "--client-id=0000aaaa-1111-bbbb-2222-cccc3333dddd",
      "--client-secret-file=/secrets/client-secret",
      "--cookie-secret-file=/secrets/cookie-secret",
    ];
    expect(check(proxy({ oauth2Secret: undefined }), { args })).toEqual([]);
  });

  it("accepts credentials given by oauth2-secret", () => {
    expect(check(proxy({ oauth2Secret: "login-oauth2" }))).toEqual([]);
  });

  it("reports every oauth2-proxy denial at once", () => {
    expect(check(proxy({ upstream: undefined, oauth2Secret: undefined }, { tenantId: undefined }))).toEqual([
      NO_UPSTREAM,
      NO_ISSUER,
      NO_CLIENT_ID,
      NO_CLIENT_SECRET,
      NO_COOKIE_SECRET,
    ]);
  });

  it("gives every denial the deny severity", () => {
    const d = applyDefaults(deployment(proxy({ upstream: undefined })), proxy({ upstream: undefined }));
    expect(checkWorkload(d, proxy({ upstream: undefined })).map(p => p.severity)).toEqual(["deny"]);
  });
});

describe("checkWorkload: literal secret warnings", () => {
  const SECRET = "s3cr3t-VALUE-42";

  it("warns about --client-secret=<value> without echoing the value", () => {
    const lines = check(proxy({ oauth2Secret: undefined }), {
      args: [`--client-secret=${SECRET}`],
      env: [CREDENTIAL_ENV[0], CREDENTIAL_ENV[2]],
    });
    expect(lines).toEqual([
      "warning: ai/login: spec.template.spec.containers[main].args: --client-secret is given as a literal value; move it to a Secret and use ai-workloads.io/oauth2-secret or env valueFrom.secretKeyRef",
    ]);
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("warns about --cookie-secret <value> without echoing the value", () => {
    const lines = check(proxy(), { args: ["--cookie-secret", SECRET] });
    expect(lines).toEqual([
      "warning: ai/login: spec.template.spec.containers[main].args: --cookie-secret is given as a literal value; move it to a Secret and use ai-workloads.io/oauth2-secret or env valueFrom.secretKeyRef",
    ]);
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("warns about a literal OAUTH2_PROXY_COOKIE_SECRET env value without echoing it", () => {
    const lines = check(proxy(), { env: [{ name: "OAUTH2_PROXY_COOKIE_SECRET", value: SECRET }] });
    expect(lines).toEqual([
      "warning: ai/login: spec.template.spec.containers[main].env[OAUTH2_PROXY_COOKIE_SECRET]: is a literal value; use valueFrom.secretKeyRef, or ai-workloads.io/oauth2-secret",
    ]);
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("warns about a literal OAUTH2_PROXY_CLIENT_SECRET env value", () => {
    expect(check(proxy(), { env: [{ name: "OAUTH2_PROXY_CLIENT_SECRET", value: SECRET }] })).toEqual([
      "warning: ai/login: spec.template.spec.containers[main].env[OAUTH2_PROXY_CLIENT_SECRET]: is a literal value; use valueFrom.secretKeyRef, or ai-workloads.io/oauth2-secret",
    ]);
  });

  it("does not warn about a secret from a Secret or a file", () => {
    expect(check(proxy({ oauth2Secret: undefined }), { env: CREDENTIAL_ENV, args: ["--cookie-secret-file=/s/c"] })).toEqual([]);
  });

  it("does not warn about a literal client id", () => {
    expect(check(proxy(), { args: ["--client-id=0000aaaa-1111-bbbb-2222-cccc3333dddd"] })).toEqual([]);
  });

  it("gives literal secrets the warn severity", () => {
    const s = proxy();
    const d = applyDefaults(deployment(s, { args: [`--client-secret=${SECRET}`] }), s);
    expect(checkWorkload(d, s).map(p => p.severity)).toEqual(["warn"]);
  });
});

describe("checkWorkload: librechat", () => {
  const NO_MONGO =
    "warning: ai/chat: spec.template.spec.containers[main].env: MONGO_URI is not set; set MONGO_URI in env or through envFrom (a Secret): LibreChat needs MongoDB";

  it("warns when MONGO_URI is neither in env nor possible through envFrom", () => {
    expect(check(settings("librechat"))).toEqual([NO_MONGO]);
  });

  it("does not warn when the container has envFrom", () => {
    expect(check(settings("librechat"), { envFrom: [{ secretRef: { name: "librechat-env" } }] })).toEqual([]);
  });

  it("does not warn about MONGO_URI for other kinds", () => {
    expect(check(settings("mlserver"))).toEqual([]);
  });
});

describe("checkWorkload: autoscaling without a CPU request", () => {
  const NO_CPU =
    'warning: ai/model: spec.template.spec.containers[main].resources.requests.cpu: is not set, so CPU autoscaling cannot work; set a CPU request, use an infra profile with one, or set ai-workloads.io/autoscale: "off"';
  const memoryOnly: InfraProfile = { resources: { requests: { memory: "1Gi" } } };

  it("warns when autoscale is on and the profile gives no CPU request", () => {
    expect(check(settings("mlserver", { profileName: "memory-only", profile: memoryOnly }))).toEqual([NO_CPU]);
  });

  it("does not warn when the user set a CPU request", () => {
    expect(
      check(settings("mlserver", { profileName: "memory-only", profile: memoryOnly }), { resources: { requests: { cpu: "500m" } } }),
    ).toEqual([]);
  });

  it("does not warn when autoscale is off", () => {
    expect(check(settings("mlserver", { autoscale: "off", profileName: "memory-only", profile: memoryOnly }))).toEqual([]);
  });
});

describe("checkWorkload: app port names", () => {
  it('denies when "http" names another port than the app port', () => {
    expect(check(settings("mlserver"), { ports: [{ name: "http", containerPort: 9000 }] })).toEqual([
      'ai/model: spec.template.spec.containers[main].ports: port name "http" is used by port 9000, not by the app port 8000; set ai-workloads.io/port: "9000", or rename that port',
    ]);
  });

  it("accepts a user port name other than http on the app port", () => {
    expect(check(settings("mlserver"), { ports: [{ name: "web", containerPort: 8000 }] })).toEqual([]);
  });

  it("denies an app port without a name in a Deployment that was not defaulted", () => {
    const s = settings("mlserver");
    const d = deployment(s, { ports: [{ containerPort: 8000 }], resources: { requests: { cpu: "1" } } });
    expect(checkWorkload(d, s).map(formatProblem)).toEqual([
      'ai/model: spec.template.spec.containers[main].ports: port 8000 has no name; name port 8000, such as "http"',
    ]);
  });

  it("checks the primary container named by containerIndex", () => {
    const s = settings("mlserver", { containerIndex: 1 });
    const d: V1Deployment = deployment(s);
    d.spec!.template.spec!.containers = [
      { name: "sidecar", image: "envoy", ports: [{ name: "admin", containerPort: 15000 }] },
      { name: "server", image: "mlserver" },
    ];
    expect(checkWorkload(applyDefaults(d, s), s)).toEqual([]);
  });

  it.each([
    ["containers", "http"],
    ["containers", "grpc"],
    ["initContainers", "metrics"],
  ] as ["containers" | "initContainers", string][])(
    "denies a name the kind uses on a port of another of the pod's %s (%s): a named targetPort resolves to the first container",
    (part, name) => {
      const s = settings("mlserver");
      const d: V1Deployment = deployment(s, { resources: { requests: { cpu: "1" } } });
      d.spec!.template.spec![part] = [
        ...(part === "containers" ? d.spec!.template.spec!.containers : []),
        { name: "shipper", image: "fluent-bit", ports: [{ name, containerPort: 2020 }] },
      ];
      expect(checkWorkload(applyDefaults(d, s), s).map(formatProblem)).toEqual([
        `ai/model: spec.template.spec.${part}[shipper].ports: port name "${name}" is also the primary container's (main); Kubernetes resolves a named targetPort to the first container that has the name; rename that port of "shipper"`,
      ]);
    },
  );
});

describe("checkRouteClash", () => {
  const at = (app: string, path: string, expose = true) => settings("mlserver", { app, path, expose });
  const CLASH =
    'ai/b: metadata.annotations[ai-workloads.io/path-prefix]: route path "/apps/chat" is already used by Deployment "a"; set ai-workloads.io/path-prefix to another path, or ai-workloads.io/expose: "false"';

  it("denies an exposed app whose path another exposed app already uses", () => {
    expect(checkRouteClash(at("b", "/apps/chat"), [at("a", "/apps/chat")]).map(formatProblem)).toEqual([CLASH]);
  });

  it("accepts different paths", () => {
    expect(checkRouteClash(at("b", "/apps/chat2"), [at("a", "/apps/chat")])).toEqual([]);
  });

  it("accepts a nested path under another app's path", () => {
    expect(checkRouteClash(at("b", "/apps/chat/v2"), [at("a", "/apps/chat")])).toEqual([]);
  });

  it("accepts the same path when the new app is not exposed", () => {
    expect(checkRouteClash(at("b", "/apps/chat", false), [at("a", "/apps/chat")])).toEqual([]);
  });

  it("accepts the same path when the other app is not exposed", () => {
    expect(checkRouteClash(at("b", "/apps/chat"), [at("a", "/apps/chat", false)])).toEqual([]);
  });

  it("does not clash with an earlier version of the same Deployment", () => {
    expect(checkRouteClash(at("a", "/apps/chat"), [at("a", "/apps/chat")])).toEqual([]);
  });

  it("accepts any path when there are no other apps", () => {
    expect(checkRouteClash(at("a", "/apps/chat"), [])).toEqual([]);
  });
});

describe("checkRouteClash across namespaces on one host and gateway (SPEC §12.6)", () => {
  const at = (namespace: string, app: string, path: string, ns: Partial<NamespaceSettings> = {}) =>
    settings("mlserver", { app, path, namespace }, { name: namespace, ...ns });

  it("denies an exact path of another namespace's route, naming it <namespace>/<name>", () => {
    expect(checkRouteClash(at("b", "x", "/apps/x"), [at("a", "y", "/apps/x")]).map(formatProblem)).toEqual([
      'b/x: metadata.annotations[ai-workloads.io/path-prefix]: route path "/apps/x" on host "ai.example.com" is already used by Deployment a/y; set ai-workloads.io/path-prefix to another path, or ai-workloads.io/expose: "false": namespaces on one host and gateway share its paths',
    ]);
  });

  it("warns on a path nested under or above another namespace's route", () => {
    const under = checkRouteClash(at("b", "x", "/apps/x/v2"), [at("a", "y", "/apps/x")]);
    const above = checkRouteClash(at("b", "x", "/apps"), [at("a", "y", "/apps/x")]);
    const root = checkRouteClash(at("b", "x", "/"), [at("a", "y", "/apps/x")]);
    for (const problems of [under, above, root])
      expect(problems.map(p => [p.severity, p.what.includes("of Deployment a/y")])).toEqual([["warn", true]]);
  });

  it("ignores namespaces on another host or gateway, and paths that merely share a prefix", () => {
    expect(checkRouteClash(at("b", "x", "/apps/x"), [at("a", "y", "/apps/x", { host: "other.example.com" })])).toEqual([]);
    expect(checkRouteClash(at("b", "x", "/apps/x"), [at("a", "y", "/apps/x", { gateway: "istio-system/other" })])).toEqual([]);
    expect(checkRouteClash(at("b", "x", "/apps/x2"), [at("a", "y", "/apps/x")])).toEqual([]);
  });

  it("routeClashes lists the clashes a set of apps has, to judge a Namespace update by the ones it adds", () => {
    expect(routeClashes([at("b", "x", "/p"), at("b", "z", "/p")], [at("a", "y", "/q")])).toEqual([
      'b/z: route path "/p" is already used by Deployment "x"',
    ]);
    expect(routeClashes([at("b", "x", "/q")], [at("a", "y", "/q")])).toEqual([
      'b/x: route path "/q" on host "ai.example.com" is already used by Deployment a/y',
    ]);
  });
});

describe("checkJwtWithoutRequestAuth (SPEC §12.4)", () => {
  const ns = (over: Partial<NamespaceSettings>): NamespaceSettings => workloadSettings("mlserver", {}, over).ns;

  it("warns when a JWT is required but no RequestAuthentication is generated", () => {
    expect(checkJwtWithoutRequestAuth(ns({ requireJwt: true, requestAuth: false })).map(formatProblem)).toEqual([
      'warning: namespace/ai: metadata.annotations[ai-workloads.io/require-jwt]: a JWT is required, but no RequestAuthentication is generated here (request-auth is not true); set ai-workloads.io/request-auth: "true" and a tenant, or make sure a mesh-wide RequestAuthentication validates the tokens: otherwise callers with only a token are denied',
    ]);
    expect(checkJwtWithoutRequestAuth(ns({ requireJwt: true, requestAuth: true, tenantId: undefined }))[0].what).toContain(
      "no tenant is known",
    );
  });

  it("is quiet when one is generated, or no JWT is required", () => {
    expect(checkJwtWithoutRequestAuth(ns({ requireJwt: true, requestAuth: true }))).toEqual([]);
    expect(checkJwtWithoutRequestAuth(ns({ requireJwt: false }))).toEqual([]);
  });
});

describe("ratchet (SPEC §12.2)", () => {
  const problem = (severity: "deny" | "warn", what: string, field = "metadata.annotations[ai-workloads.io/infra-profile]"): Problem => ({
    severity,
    object: "ai/model",
    field,
    what,
    fix: "use one of default",
  });

  it("turns a denial the stored object already had into a warning marked as present before", () => {
    const now = [problem("deny", '"gone" is not a known infra profile')];
    expect(ratchet(now, now).map(formatProblem)).toEqual([
      'warning: ai/model: metadata.annotations[ai-workloads.io/infra-profile]: "gone" is not a known infra profile; use one of default (present before this change)',
    ]);
  });

  it("counts a problem of the same kind on the same field whatever its quoted values", () => {
    const before = [problem("deny", '"old" is not a known infra profile')];
    expect(ratchet([problem("deny", '"new" is not a known infra profile')], before)[0].severity).toBe("warn");
  });

  it("still denies what the update introduces: another kind, another field, or nothing before", () => {
    const before = [problem("deny", '"old" is not a known infra profile')];
    expect(ratchet([problem("deny", "is malformed")], before)[0].severity).toBe("deny");
    expect(ratchet([problem("deny", '"x" is not a known infra profile', "metadata.name")], before)[0].severity).toBe("deny");
    expect(ratchet([problem("deny", '"x" is not a known infra profile')], [])[0].severity).toBe("deny");
    expect(
      ratchet([problem("deny", '"x" is not a known infra profile')], [problem("warn", '"x" is not a known infra profile')])[0].severity,
    ).toBe("deny");
  });
});

describe("checkWorkload: what the module cannot see or add (SPEC §13.2)", () => {
  const proxy = (over: Partial<V1Container>) => {
    const s = settings("oauth2-proxy", { upstream: undefined, oauth2Secret: undefined }, { tenantId: undefined });
    return checkWorkload(applyDefaults(deployment(s, over), s), s).map(formatProblem);
  };

  it("with envFrom or --config warns naming the flags added and left out, and denies no issuer or credential", () => {
    const [line, ...rest] = proxy({ envFrom: [{ secretRef: { name: "proxy-env" } }] });
    expect(rest).toEqual([]);
    expect(line).toBe(
      "warning: ai/login: spec.template.spec.containers[main].args: envFrom or --config can hold settings admission cannot see, so only the wiring flags --http-address, --upstream, --redirect-url are added where missing; left out: --provider=oidc --email-domain=* --reverse-proxy=true --cookie-secure=true --skip-provider-button=true --scope=openid profile email; set those in your config or env yourself, or pass them as args: a flag would override your own setting",
    );
    expect(proxy({ args: ["--config=/etc/oauth2-proxy.cfg"] })).toHaveLength(1);
  });

  it("under a shell warns naming every flag it would have added", () => {
    expect(proxy({ command: ["sh", "-c", "exec oauth2-proxy"] })).toEqual([
      "warning: ai/login: spec.template.spec.containers[main].command: runs a shell, so no flags were added (appended args would become the shell's positional parameters): --http-address=0.0.0.0:4180 --provider=oidc --redirect-url=https://ai.example.com/apps/login/oauth2/callback --email-domain=* --reverse-proxy=true --cookie-secure=true --skip-provider-button=true --scope=openid profile email; add the flags the app needs to the command line the shell runs",
    ]);
  });
});

describe("checkWorkload: smaller rules (SPEC §13.1, §13.3)", () => {
  it("counts a CPU limit without a request as a request: no autoscale warning", () => {
    const s = settings("mlserver", { profile: {} });
    const problems = checkWorkload(applyDefaults(deployment(s, { resources: { limits: { cpu: "2" } } }), s), s);
    expect(problems.filter(p => p.field.endsWith("resources.requests.cpu"))).toEqual([]);
  });

  it("warns on a public path written as seen from outside", () => {
    const s = settings("mlserver", { publicPaths: ["/apps/model/docs", "/docs"], profile: {} });
    expect(checkWorkload(applyDefaults(deployment(s, { resources: { requests: { cpu: "1" } } }), s), s).map(formatProblem)).toEqual([
      'warning: ai/model: metadata.annotations[ai-workloads.io/public-paths]: "/apps/model/docs" is written as seen from outside, but public paths are matched after the route rewrites "/apps/model/" to "/", so no request reaches the app with it; write "/docs"',
    ]);
  });

  it("does not warn for an app routed at /", () => {
    const s = settings("mlserver", { path: "/", publicPaths: ["/docs"], profile: {} });
    expect(checkWorkload(applyDefaults(deployment(s, { resources: { requests: { cpu: "1" } } }), s), s)).toEqual([]);
  });
});

describe("RouteIndex: route clashes judged from an index, as a pass over every app would judge them", () => {
  const PATHS = ["/", "/apps", "/apps/a", "/apps/a/b", "/apps/ab", "/apps/b", "/x/", "/x/y"];
  const app = fc.record({
    app: fc.constantFrom("a", "b", "c"),
    namespace: fc.constantFrom("n1", "n2", "n3"),
    path: fc.constantFrom(...PATHS),
    expose: fc.boolean(),
    host: fc.constantFrom<string | undefined>("h1", "h2", undefined),
    gateway: fc.constantFrom<string | undefined>("gw/g", undefined),
  });
  const settings = (a: { app: string; namespace: string; path: string; expose: boolean; host?: string; gateway?: string }) =>
    workloadSettings(
      "mlserver",
      { app: a.app, namespace: a.namespace, path: a.path, expose: a.expose },
      { host: a.host, gateway: a.gateway },
    );

  it("gives the same problems, in the same order, as the pairwise pass (fast-check, 300 runs)", () => {
    fc.assert(
      fc.property(app, fc.array(app, { maxLength: 25 }), (s, others) => {
        const target = settings(s);
        const list = others.map(settings);
        const pass = target.expose ? list.flatMap(o => routeProblems(target, o)) : [];
        expect(checkRouteClash(target, new RouteIndex(list))).toEqual(pass);
        expect(checkRouteClash(target, list)).toEqual(pass);
      }),
      { numRuns: 300, seed: 20261202 },
    );
  });

  it("keeps the order of adding, whatever the index's buckets: a later clash comes after an earlier warning", () => {
    const s = workloadSettings("mlserver", { app: "s", namespace: "n1", path: "/apps/a" });
    const nestedFirst = workloadSettings("mlserver", { app: "o1", namespace: "n2", path: "/apps" });
    const sameLater = workloadSettings("mlserver", { app: "o2", namespace: "n3", path: "/apps/a" });
    const problems = checkRouteClash(s, new RouteIndex([nestedFirst, sameLater]));
    expect(problems.map(p => p.severity)).toEqual(["warn", "deny"]);
  });
});
