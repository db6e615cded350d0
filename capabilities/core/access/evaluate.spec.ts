// Truth tables from Istio's documentation. Sources:
//  [ref]   istio.io/latest/docs/reference/config/security/authorization-policy/
//  [conc]  istio.io/latest/docs/concepts/security/#authorization (value matching, exclusion matching,
//          allow-nothing / deny-all / allow-all, policy target)
//  [cond]  istio.io/latest/docs/reference/config/security/conditions/
import type { KubeObject } from "../types";
import { type RequestClass, type Workload, decide, securityObjects } from "./evaluate";
import { type NamespaceSet, pathSetOf } from "./match";

const workload: Workload = { namespace: "foo", labels: { app: "httpbin", version: "v1" } };

const ap = (name: string, spec: Record<string, unknown>, namespace = "foo", annotations?: Record<string, string>): KubeObject => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
  spec,
});

const ra = (name: string, spec: Record<string, unknown> = {}, namespace = "foo"): KubeObject => ({
  apiVersion: "security.istio.io/v1",
  kind: "RequestAuthentication",
  metadata: { name, namespace },
  spec: { jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/keys" }], ...spec },
});

const req = (source: NamespaceSet | string, path = "/", jwt = false): RequestClass => ({
  source: typeof source === "string" ? { exact: source } : source,
  jwt,
  path: pathSetOf(path),
});

const run = (objects: KubeObject[], r: RequestClass, w: Workload = workload) => decide(w, r, securityObjects(objects));
const outcome = (objects: KubeObject[], r: RequestClass, w: Workload = workload): string => run(objects, r, w).outcome;

describe("evaluation order [ref]: CUSTOM, DENY, then ALLOW", () => {
  it("allows everything when no policy applies ([conc] 'For workloads without authorization policies applied, Istio allows all requests')", () => {
    expect(run([], req("bar"))).toEqual({ outcome: "allow", decidedBy: "no policy" });
  });

  it("allow-nothing `spec: {}` denies every request ([ref] rules 'If not set, the match will never occur'; [conc] allow-nothing)", () => {
    const policies = [ap("allow-nothing", {})];
    expect(run(policies, req("foo"))).toEqual({ outcome: "deny", decidedBy: "AuthorizationPolicy foo/allow-nothing" });
    expect(outcome(policies, req("bar", "/", true))).toBe("deny");
    expect(outcome([ap("allow-nothing", { action: "ALLOW", rules: [] })], req("foo"))).toBe("deny");
  });

  it("allow-all `rules: [{}]` allows every request ([conc] allow-all: 'This matches everything')", () => {
    expect(run([ap("allow-all", { action: "ALLOW", rules: [{}] })], req("bar"))).toEqual({
      outcome: "allow",
      decidedBy: "AuthorizationPolicy foo/allow-all",
    });
  });

  it("deny-all `action: DENY, rules: [{}]` wins over allow-all ([conc] deny-all: 'It will always deny the request even if there is another ALLOW policy')", () => {
    const policies = [ap("allow-all", { action: "ALLOW", rules: [{}] }), ap("deny-all", { action: "DENY", rules: [{}] })];
    expect(run(policies, req("foo"))).toEqual({ outcome: "deny", decidedBy: "AuthorizationPolicy foo/deny-all" });
  });

  it("a DENY policy alone does not switch on deny-by-default ([conc] 'the deny by default behavior applies only if the workload has at least one authorization policy with the ALLOW action')", () => {
    expect(run([ap("deny-dev", { action: "DENY", rules: [{ from: [{ source: { namespaces: ["dev"] } }] }] })], req("bar"))).toEqual({
      outcome: "allow",
      decidedBy: "no policy",
    });
  });

  it("ALLOW and DENY together: DENY from not-foo, ALLOW from foo or dev ([conc] httpbin / httpbin-deny)", () => {
    const policies = [
      ap("httpbin", {
        selector: { matchLabels: { app: "httpbin", version: "v1" } },
        action: "ALLOW",
        rules: [{ from: [{ source: { namespaces: ["foo"] } }, { source: { namespaces: ["dev"] } }] }],
      }),
      ap("httpbin-deny", {
        selector: { matchLabels: { app: "httpbin", version: "v1" } },
        action: "DENY",
        rules: [{ from: [{ source: { notNamespaces: ["foo"] } }] }],
      }),
    ];
    // From foo: not denied, allowed by the first source.
    expect(run(policies, req("foo"))).toEqual({ outcome: "allow", decidedBy: "AuthorizationPolicy foo/httpbin" });
    // From dev: the ALLOW would match, but DENY is evaluated first.
    expect(run(policies, req("dev"))).toEqual({ outcome: "deny", decidedBy: "AuthorizationPolicy foo/httpbin-deny" });
    // Any namespace but foo is "not foo": certain, though the namespace itself is not known.
    expect(run(policies, req({ except: "foo" }))).toEqual({ outcome: "deny", decidedBy: "AuthorizationPolicy foo/httpbin-deny" });
  });

  it("AUDIT never changes the decision ([ref] 'AUDIT policies do not affect whether requests are allowed or denied')", () => {
    expect(run([ap("audit-all", { action: "AUDIT", rules: [{}] })], req("bar"))).toEqual({ outcome: "allow", decidedBy: "no policy" });
  });

  it("a dry-run policy is not enforced ([conc] Dry Run: annotation istio.io/dry-run)", () => {
    expect(outcome([ap("deny-all", { action: "DENY", rules: [{}] }, "foo", { "istio.io/dry-run": "true" })], req("foo"))).toBe("allow");
  });

  it("CUSTOM delegates to an external authorizer: unknown when it may match, no effect when it cannot", () => {
    expect(
      run(
        [ap("ext", { action: "CUSTOM", provider: { name: "opa" }, rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] })],
        req("foo", "/admin"),
      ),
    ).toEqual({
      outcome: "unknown",
      decidedBy: "AuthorizationPolicy foo/ext: spec.action (CUSTOM)",
    });
    expect(
      outcome(
        [ap("ext", { action: "CUSTOM", provider: { name: "opa" }, rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] })],
        req("foo", "/docs"),
      ),
    ).toBe("allow");
  });

  it("a certain DENY match decides even when another DENY is unknown; an unknown DENY alone is unknown", () => {
    const unknownDeny = ap("a-by-ip", { action: "DENY", rules: [{ from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }] }] });
    const denyAll = ap("b-deny-all", { action: "DENY", rules: [{}] });
    expect(run([unknownDeny, denyAll], req("foo"))).toEqual({ outcome: "deny", decidedBy: "AuthorizationPolicy foo/b-deny-all" });
    expect(run([unknownDeny], req("foo"))).toEqual({
      outcome: "unknown",
      decidedBy: "AuthorizationPolicy foo/a-by-ip: spec.rules[0].from[0].source.ipBlocks",
    });
  });
});

describe("policy target [conc]", () => {
  it("a policy whose selector matches nothing does not apply", () => {
    expect(run([ap("allow-nothing-other", { selector: { matchLabels: { app: "other" } } })], req("foo"))).toEqual({
      outcome: "allow",
      decidedBy: "no policy",
    });
    expect(
      outcome(
        [ap("deny-other", { selector: { matchLabels: { app: "httpbin", version: "v2" } }, action: "DENY", rules: [{}] })],
        req("foo"),
      ),
    ).toBe("allow");
  });

  it("a selector applies when the pod labels include all of it", () => {
    expect(outcome([ap("deny", { selector: { matchLabels: { app: "httpbin" } }, action: "DENY", rules: [{}] })], req("foo"))).toBe("deny");
  });

  it("policies in the root namespace apply mesh-wide; in another namespace not at all ('If set to any other namespace, the policy only applies to the specified namespace')", () => {
    expect(run([ap("deny-all", { action: "DENY", rules: [{}] }, "istio-system")], req("foo"))).toEqual({
      outcome: "deny",
      decidedBy: "AuthorizationPolicy istio-system/deny-all",
    });
    expect(
      outcome(
        [ap("deny-httpbin", { selector: { matchLabels: { app: "httpbin" } }, action: "DENY", rules: [{}] }, "istio-system")],
        req("foo"),
      ),
    ).toBe("deny");
    expect(outcome([ap("deny-all", { action: "DENY", rules: [{}] }, "bar")], req("foo"))).toBe("allow");
  });

  it("targetRef(s) are not modelled", () => {
    expect(
      run(
        [ap("gw", { targetRefs: [{ kind: "Gateway", group: "gateway.networking.k8s.io", name: "gw" }], action: "DENY", rules: [{}] })],
        req("foo"),
      ),
    ).toEqual({
      outcome: "unknown",
      decidedBy: "AuthorizationPolicy foo/gw: spec.targetRefs",
    });
  });
});

describe("paths [conc] value matching: the tester policy, paths ['/test/*', '*/info']", () => {
  const tester = [
    ap("tester", {
      selector: { matchLabels: { app: "httpbin" } },
      action: "ALLOW",
      rules: [{ to: [{ operation: { paths: ["/test/*", "*/info"] } }] }],
    }),
  ];
  it.each([
    ["/test/abc", "allow"],
    ["/test/", "allow"],
    ["/test", "deny"],
    ["/a/info", "allow"],
    ["/info", "allow"],
    ["/information", "deny"],
    // A row that stands for many paths: all of /test/x/* is under /test/*; only part of /* is.
    ["/test/x/*", "allow"],
    ["/*", "unknown"],
  ])("%s → %s", (path, expected) => {
    expect(outcome(tester, req("foo", path))).toBe(expected);
  });

  it("names the field when a row's paths are only partly matched", () => {
    expect(run(tester, req("foo", "/*")).decidedBy).toBe("AuthorizationPolicy foo/tester: spec.rules[0].to[0].operation.paths");
  });

  it("presence `*` matches every path", () => {
    expect(outcome([ap("any", { rules: [{ to: [{ operation: { paths: ["*"] } }] }] })], req("foo", "/anything"))).toBe("allow");
  });
});

describe("exclusion matching [conc]", () => {
  // disable-jwt-for-healthz: ALLOW { to: notPaths [/healthz], from: requestPrincipals [*] }.
  const healthz = [
    ap("disable-jwt-for-healthz", {
      selector: { matchLabels: { app: "httpbin" } },
      action: "ALLOW",
      rules: [{ to: [{ operation: { notPaths: ["/healthz"] } }], from: [{ source: { requestPrincipals: ["*"] } }] }],
    }),
    ra("jwt"),
  ];
  it.each([
    ["/api", true, "allow"],
    ["/api", false, "deny"],
    // The rule does not match /healthz at all, so with this ALLOW policy alone it is denied by default.
    ["/healthz", true, "deny"],
    ["/healthz", false, "deny"],
  ])("notPaths: %s with JWT %s → %s", (path, jwt, expected) => {
    expect(outcome(healthz, req("foo", path, jwt))).toBe(expected);
  });

  // enable-jwt-for-admin: DENY { to: paths [/admin], from: notRequestPrincipals [*] } — "denies the request to the /admin path for requests without request principals".
  const admin = [
    ap("enable-jwt-for-admin", {
      selector: { matchLabels: { app: "httpbin" } },
      action: "DENY",
      rules: [{ to: [{ operation: { paths: ["/admin"] } }], from: [{ source: { notRequestPrincipals: ["*"] } }] }],
    }),
    ra("jwt"),
  ];
  it.each([
    ["/admin", false, "deny"],
    ["/admin", true, "allow"],
    ["/other", false, "allow"],
  ])("notRequestPrincipals: %s with JWT %s → %s", (path, jwt, expected) => {
    expect(outcome(admin, req("foo", path, jwt))).toBe(expected);
  });

  it("notNamespaces: ALLOW from any namespace but dev", () => {
    const p = [ap("not-dev", { rules: [{ from: [{ source: { notNamespaces: ["dev"] } }] }] })];
    expect(outcome(p, req("foo"))).toBe("allow");
    expect(outcome(p, req("dev"))).toBe("deny");
    // "any namespace but foo" may be dev or not.
    expect(run(p, req({ except: "foo" }))).toEqual({
      outcome: "unknown",
      decidedBy: "AuthorizationPolicy foo/not-dev: spec.rules[0].from[0].source.notNamespaces",
    });
    // "any namespace but dev" is certainly not dev.
    expect(outcome(p, req({ except: "dev" }))).toBe("allow");
  });
});

describe("request principals come from a RequestAuthentication [ref] requestPrincipals: 'derived from JWT'", () => {
  const requireJwt = ap("require-jwt", { rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] });
  it("a JWT without a RequestAuthentication on the workload is no principal", () => {
    expect(outcome([requireJwt], req("istio-system", "/", true))).toBe("deny");
    expect(outcome([requireJwt, ra("jwt", {}, "bar")], req("istio-system", "/", true))).toBe("deny");
    expect(outcome([requireJwt, ra("jwt", { selector: { matchLabels: { app: "other" } } })], req("istio-system", "/", true))).toBe("deny");
  });
  it("a RequestAuthentication in the namespace, on the pod, or in the root namespace validates it", () => {
    expect(outcome([requireJwt, ra("jwt")], req("istio-system", "/", true))).toBe("allow");
    expect(outcome([requireJwt, ra("jwt", { selector: { matchLabels: { app: "httpbin" } } })], req("istio-system", "/", true))).toBe(
      "allow",
    );
    expect(outcome([requireJwt, ra("jwt", {}, "istio-system")], req("istio-system", "/", true))).toBe("allow");
  });
  it("a specific principal cannot be known for a caller class", () => {
    const specific = ap("alice", { rules: [{ from: [{ source: { requestPrincipals: ["https://issuer.example/alice"] } }] }] });
    expect(run([specific, ra("jwt")], req("foo", "/", true))).toEqual({
      outcome: "unknown",
      decidedBy: "AuthorizationPolicy foo/alice: spec.rules[0].from[0].source.requestPrincipals",
    });
    // Without a token there is no principal at all: certainly no match.
    expect(outcome([specific, ra("jwt")], req("foo", "/", false))).toBe("deny");
  });
});

describe("internet callers arrive from the ingress gateway's namespace", () => {
  it("namespaces: [istio-system] matches them", () => {
    const p = [ap("from-ingress", { rules: [{ from: [{ source: { namespaces: ["istio-system"] } }] }] })];
    expect(outcome(p, req("istio-system"))).toBe("allow");
    expect(outcome(p, req("foo"))).toBe("deny");
  });
});

describe("fields not modelled yield unknown, never a guess", () => {
  it.each([
    [{ rules: [{ when: [{ key: "request.auth.claims[groups]", values: ["admins"] }] }] }, "spec.rules[0].when"],
    [{ rules: [{ from: [{ source: { ipBlocks: ["1.2.3.4"] } }] }] }, "spec.rules[0].from[0].source.ipBlocks"],
    [{ rules: [{ from: [{ source: { remoteIpBlocks: ["1.2.3.4"] } }] }] }, "spec.rules[0].from[0].source.remoteIpBlocks"],
    [{ rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/curl"] } }] }] }, "spec.rules[0].from[0].source.principals"],
    [{ rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }, "spec.rules[0].to[0].operation.methods"],
    [{ rules: [{ to: [{ operation: { hosts: ["httpbin.com"] } }] }] }, "spec.rules[0].to[0].operation.hosts"],
    [{ rules: [{ to: [{ operation: { ports: ["8000"] } }] }] }, "spec.rules[0].to[0].operation.ports"],
    [{ rules: [{ to: [{ operation: { paths: ["/api/{*}/x"] } }] }] }, "spec.rules[0].to[0].operation.paths"],
    [{ rules: [{ to: [{ operation: { paths: ["/api/*/x"] } }] }] }, "spec.rules[0].to[0].operation.paths"],
  ])("%j → unknown at %s", (spec, field) => {
    expect(run([ap("p", spec)], req("foo", "/x"))).toEqual({ outcome: "unknown", decidedBy: `AuthorizationPolicy foo/p: ${field}` });
  });

  it("an unmodelled field does not matter when another part of the rule certainly fails", () => {
    const p = [ap("p", { rules: [{ from: [{ source: { namespaces: ["dev"] } }], when: [{ key: "request.headers[x]", values: ["1"] }] }] })];
    expect(run(p, req("foo"))).toEqual({ outcome: "deny", decidedBy: "AuthorizationPolicy foo/p" });
  });

  it("principals ['*'] only needs a peer identity, which every mTLS caller has", () => {
    expect(outcome([ap("p", { rules: [{ from: [{ source: { principals: ["*"] } }] }] })], req("foo"))).toBe("allow");
  });
});
