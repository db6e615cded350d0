// Istio's own validation (SPEC §13.4). hack/controlplane/up.sh runs istiod's validating webhook
// (hack/istio-validation: istio.io/istio's pkg/webhooks/validation/server at the pinned
// ISTIO_VERSION) and registers it as `istio-validation` for every Istio API group, failurePolicy
// Fail, so every Istio object any suite creates, and every one the module's reconciler writes, is
// checked by the code a real istiod runs. This file shows that the check refuses what istiod
// refuses, with istiod's message; that the Istio objects `ai-workloads render` prints for every
// example pass it; and prints the counts.
import { readFileSync, readdirSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { EXAMPLES } from "../unit/examples";
import { readPlaneEnv } from "./environment";
import {
  type Obj,
  REPO,
  applyYaml,
  clone,
  deleteNamespaces,
  denial,
  expectModuleAlive,
  freshNamespace,
  getObject,
  kubectl,
  kubectlOk,
  kubectlWarnings,
  state,
} from "./harness";
import { render } from "./render";

jest.setTimeout(300_000);

/** The webhook's name in the API server's messages, as istiod's base chart names its validator. */
const WEBHOOK = "validation.istio.io";
const NS = "e2e-istio-validation";

interface Stats {
  validated: number;
  rejected: number;
  kinds: Record<string, { validated: number; rejected: number }>;
  rejections: string[];
}

/** Where up.sh serves it ($AI_WORKLOADS_RUN/env), and the plane's CA that signed its certificate. */
function endpoint(): { url: string; ca: Buffer } {
  const env = readPlaneEnv(state().cpRun);
  if (!env.CP_ISTIO_VALIDATION_URL)
    throw new Error(`istio-validation is not running: hack/controlplane/up.sh starts it with the Istio CRDs (ISTIO_CRDS= skips both)`);
  return { url: env.CP_ISTIO_VALIDATION_URL, ca: readFileSync(env.CP_CA_FILE) };
}

/** GET /stats: objects validated and rejected since up.sh registered it, per kind. */
function stats(): Promise<Stats> {
  const { url, ca } = endpoint();
  return new Promise((resolvePromise, reject) => {
    const req = request(`${url}/stats`, { ca, timeout: 5_000 }, res => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () =>
        res.statusCode === 200 ? resolvePromise(JSON.parse(body) as Stats) : reject(new Error(`/stats: HTTP ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("/stats: timeout")));
    req.end();
  });
}

const kindCount = (s: Stats, kind: string): { validated: number; rejected: number } => s.kinds[kind] ?? { validated: 0, rejected: 0 };
/** `VirtualService.networking.istio.io`, as /stats names kinds. */
const kindOf = (o: Obj): string => `${o.kind}.${o.apiVersion.split("/")[0]}`;
const isIstio = (o: Obj): boolean => o.apiVersion.split("/")[0].endsWith(".istio.io");

afterAll(async () => {
  expectModuleAlive();
  // The counts of the whole run so far (the suites that ran before this file included).
  const s = await stats();
  const kinds = Object.entries(s.kinds)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v.validated}/${v.rejected}`);
  console.log(
    `istio-validation: ${s.validated} objects validated, ${s.rejected} rejected (validated/rejected per kind: ${kinds.join(", ")})`,
  );
});

const virtualService = (name: string, spec: Record<string, unknown>): Obj => ({
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: { name, namespace: NS },
  spec: { hosts: ["ai.example.com"], gateways: ["istio-system/ingress"], ...spec },
});
const route = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  match: [{ uri: { prefix: "/apps/chat/" } }],
  rewrite: { uri: "/" },
  route: [{ destination: { host: "chat.e2e-istio-validation.svc.cluster.local", port: { number: 8080 } } }],
  ...extra,
});

/**
 * Objects the CRD schemas (OpenAPI and CEL) accept and only Istio's validation refuses, each with
 * (part of) istiod's message. The API server validates against the schema before it calls
 * validating webhooks, so a denial by `validation.istio.io` means the schema let it through.
 */
const INVALID: { name: string; object: Obj; message: string }[] = [
  {
    name: "a VirtualService HTTP route with neither a destination nor a redirect",
    object: virtualService("invalid-no-destination", { http: [{ match: [{ uri: { prefix: "/apps/chat/" } }] }] }),
    message: "HTTP route, redirect or direct_response is required",
  },
  {
    name: "a VirtualService request header with an unterminated Envoy variable (%REQ(:PATH) without its closing %)",
    object: virtualService("invalid-header-variable", {
      http: [route({ headers: { request: { set: { "X-Auth-Request-Redirect": "%REQ(:PATH)" } } } })],
    }),
    message: "invalid header configuration. Un-terminated variable expression '%REQ(:PATH)'",
  },
  {
    name: "a VirtualService rewrite with both uri and uriRegexRewrite",
    object: virtualService("invalid-rewrite", {
      http: [route({ rewrite: { uri: "/", uriRegexRewrite: { match: "^/apps/chat/", rewrite: "/" } } })],
    }),
    message: "rewrite may only contain one of URI or UriRegexRewrite",
  },
  {
    name: "an AuthorizationPolicy with an empty path",
    object: {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "invalid-empty-path", namespace: NS },
      spec: { action: "ALLOW", selector: { matchLabels: { app: "chat" } }, rules: [{ to: [{ operation: { paths: ["/healthz", ""] } }] }] },
    },
    message: "empty value not allowed, found in Paths",
  },
  {
    name: "a RequestAuthentication whose inline jwks is not a JWK set",
    object: {
      apiVersion: "security.istio.io/v1",
      kind: "RequestAuthentication",
      metadata: { name: "invalid-jwks", namespace: NS },
      spec: { jwtRules: [{ issuer: "https://login.example.com/", jwks: "not json" }] },
    },
    message: "jwks parse error",
  },
];

describe("istiod's validating webhook in the test control plane", () => {
  beforeAll(async () => {
    await freshNamespace(NS);
  });
  afterAll(async () => {
    await deleteNamespaces([NS]);
  });

  it("is registered for CREATE and UPDATE of every Istio API group, failurePolicy Fail, sideEffects None", async () => {
    type Config = Obj & {
      webhooks: {
        name: string;
        rules: { operations: string[]; apiGroups: string[]; resources: string[] }[];
        failurePolicy: string;
        sideEffects: string;
      }[];
    };
    const config = await getObject<Config>("validatingwebhookconfiguration", "istio-validation");
    expect(config).toBeDefined();
    expect(
      config!.webhooks.map(w => ({
        name: w.name,
        rules: w.rules.map(r => ({ operations: r.operations, apiGroups: r.apiGroups, resources: r.resources })),
        failurePolicy: w.failurePolicy,
        sideEffects: w.sideEffects,
      })),
    ).toEqual([
      {
        name: WEBHOOK,
        rules: [
          {
            operations: ["CREATE", "UPDATE"],
            apiGroups: ["security.istio.io", "networking.istio.io", "telemetry.istio.io", "extensions.istio.io"],
            resources: ["*"],
          },
        ],
        failurePolicy: "Fail",
        sideEffects: "None",
      },
    ]);
  });

  it.each(INVALID.map(c => [c.name, c] as const))("refuses %s, with istiod's message", async (_, c) => {
    const before = await stats();
    const r = await applyYaml([c.object]);
    expect(r.code).not.toBe(0);
    const d = denial(r.stderr);
    expect({ webhook: d?.webhook, stderr: r.stderr }).toEqual({ webhook: WEBHOOK, stderr: expect.stringContaining(c.message) as unknown });
    // istiod's handler's own wording.
    expect(d!.message).toMatch(/^configuration is invalid: /);
    expect(await getObject(kindOf(c.object), c.object.metadata.name, NS)).toBeUndefined();
    const after = await stats();
    expect(kindCount(after, kindOf(c.object)).rejected).toBe(kindCount(before, kindOf(c.object)).rejected + 1);
  });

  it("refuses an UPDATE that makes a stored VirtualService invalid, and keeps the stored one", async () => {
    const valid = virtualService("chat", {
      http: [route({ headers: { request: { set: { "X-Auth-Request-Redirect": "%REQ(:PATH)%" } } } })],
    });
    const created = await applyYaml([valid]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const invalid = clone(valid);
    delete (invalid.spec as { http: Record<string, unknown>[] }).http[0].route;
    const r = await kubectl(["replace", "-f", "-", "-o", "json"], { input: JSON.stringify(invalid) });
    expect(r.code).not.toBe(0);
    expect(denial(r.stderr)).toEqual({
      webhook: WEBHOOK,
      message: expect.stringContaining("HTTP route, redirect or direct_response is required") as unknown,
    });
    const stored = await getObject<Obj & { spec: unknown }>("virtualservice.networking.istio.io", "chat", NS);
    expect(stored?.spec).toEqual(valid.spec);
  });

  it("lets through what it does not validate: DELETE", async () => {
    expect(await kubectlOk(["delete", "virtualservice.networking.istio.io", "chat", "-n", NS])).toMatch(/deleted/);
  });
});

it("the examples rendered below are every folder under examples/", () => {
  const folders = readdirSync(join(REPO, "examples"), { withFileTypes: true })
    .filter(d => d.isDirectory())
    .map(d => d.name);
  expect(EXAMPLES.map(e => e.name).sort()).toEqual(folders.sort());
});

describe.each(EXAMPLES.map(e => [e.name, e] as const))("the Istio objects `ai-workloads render` prints for example %s", (_, example) => {
  const rendered = render(example.args);
  const istio = rendered.objects.filter(isIstio);
  const namespaces = [...new Set(istio.map(o => o.metadata.namespace!))].sort();
  const created: string[] = [];

  beforeAll(async () => {
    expect(rendered.code).toBe(0);
    // Namespaced objects need their namespace, even for a dry run; make the missing ones.
    for (const ns of namespaces) {
      if (await getObject("namespace", ns)) continue;
      await kubectlOk(["create", "namespace", ns]);
      created.push(ns);
    }
  });
  afterAll(async () => {
    await deleteNamespaces(created);
  });

  it("pass istiod's validation: a server-side dry run accepts each one, without a warning", async () => {
    expect(istio.map(kindOf).sort()).toEqual(expect.arrayContaining(["VirtualService.networking.istio.io"]));
    const before = await stats();
    // Server-side apply: a create, or an update of what another suite (or the reconciler) stored.
    const r = await applyYaml(istio, { verb: "apply-server", dryRun: true });
    expect(kubectlWarnings(r.stderr)).toEqual([]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // Each one was sent to the webhook and none was refused.
    const after = await stats();
    const sent = new Map<string, number>();
    for (const o of istio) sent.set(kindOf(o), (sent.get(kindOf(o)) ?? 0) + 1);
    for (const [kind, n] of sent) {
      expect({ kind, validated: kindCount(after, kind).validated - kindCount(before, kind).validated }).toEqual({ kind, validated: n });
      expect({ kind, rejected: kindCount(after, kind).rejected }).toEqual({ kind, rejected: kindCount(before, kind).rejected });
    }
  });
});

describe("over the run", () => {
  it("refused no Istio object but the deliberately invalid ones above", async () => {
    const ours = new Set(
      INVALID.map(c => `${kindOf(c.object)} ${NS}/${c.object.metadata.name}`).concat(`VirtualService.networking.istio.io ${NS}/chat`),
    );
    const others = (await stats()).rejections.filter(line => !ours.has(line.split(": ")[0]));
    expect(others).toEqual([]);
  });
});
