// Admission through the API server: the seed example gets its defaults, every deny case of
// SPEC §6.1 is refused with exactly the lines the offline CLI prints for the same manifest
// (SPEC §6.3), and warnings reach the client.
import {
  DEPLOYMENT_WEBHOOK,
  KIND_LABEL,
  type Obj,
  applyYaml,
  auditEvents,
  auditMark,
  deleteNamespaces,
  denial,
  freshNamespace,
  getObject,
  kubectl,
  kubectlOk,
  kubectlWarnings,
  mutationAnnotations,
  setClusterConfig,
  subsetMismatches,
  waitFor,
  expectModuleAlive,
} from "./harness";
import { TEST_TENANT } from "../../capabilities/core/testing";
import { render, renderObjects } from "./render";

jest.setTimeout(180_000);

// A module process that dies during the suite fails it (the watcher can crash on a failing watch).
afterAll(() => expectModuleAlive());

let configFile: string;
beforeAll(async () => {
  configFile = await setClusterConfig("");
});

type Container = { name: string; image: string; args?: string[]; env?: { name: string; value?: string }[]; [k: string]: unknown };

function deployment(
  namespace: string,
  name: string,
  kind: string,
  annotations: Record<string, string> = {},
  containers?: Container[],
): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { [KIND_LABEL]: kind }, annotations },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: containers ?? [{ name: "main", image: "registry.example.com/app:1" }] },
      },
    },
  };
}

const namespaceObject = (name: string, annotations: Record<string, string> = {}): Obj => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, annotations },
});

describe("the seed example (examples/mlserver-openai-librechat)", () => {
  const example = "examples/mlserver-openai-librechat";

  it("is stored with the defaults the offline render shows", async () => {
    await deleteNamespaces(["ai"]);
    const mark = auditMark();
    const r = await kubectl(["apply", "-f", example]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);

    const rendered = render(["-f", example, "--config", configFile]);
    expect(rendered.code).toBe(0);
    const wanted = rendered.objects.filter(o => o.kind === "Deployment");
    expect(wanted.map(o => o.metadata.name)).toEqual(["runtime-openai", "librechat-backend", "librechat"]);
    for (const want of wanted) {
      const stored = await getObject("deployment", want.metadata.name, "ai");
      expect({ name: want.metadata.name, mismatches: subsetMismatches(stored, want) }).toEqual({
        name: want.metadata.name,
        mismatches: [],
      });
    }

    // The API server's own record: each create went through the module's mutating webhook and was changed.
    const creates = auditEvents(mark).filter(
      e => e.verb === "create" && e.objectRef?.resource === "deployments" && e.objectRef.namespace === "ai",
    );
    expect(creates.map(e => [e.objectRef?.name, mutationAnnotations(e)])).toEqual(
      wanted.map(w => [w.metadata.name, [{ configuration: "pepr-ai-workloads", webhook: DEPLOYMENT_WEBHOOK, mutated: true }]]),
    );
  });

  it("has the SPEC §9 values filled in", async () => {
    type D = {
      spec: {
        template: {
          spec: {
            containers: {
              command?: string[];
              args?: string[];
              env?: { name: string; value?: string }[];
              ports?: { name: string; containerPort: number }[];
              startupProbe?: unknown;
            }[];
          };
        };
      };
    };
    const get = async (name: string): Promise<D["spec"]["template"]["spec"]["containers"][0]> =>
      (await getObject<D>("deployment", name, "ai"))!.spec.template.spec.containers[0];
    const runtime = await get("runtime-openai");
    expect(runtime.command).toEqual(["mlserver", "start", "/mnt/models"]);
    expect(runtime.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: "http", containerPort: 8000 })]));
    expect(runtime.startupProbe).toBeDefined();
    const backend = await get("librechat-backend");
    expect(backend.env).toEqual(
      expect.arrayContaining([{ name: "OPENAI_API_BASE", value: "http://runtime-openai.ai.svc.cluster.local:8000/v1" }]),
    );
    const proxy = await get("librechat");
    expect(proxy.args).toContain("--upstream=http://librechat-backend.ai.svc.cluster.local:3000");
  });
});

interface DenyCase {
  name: string;
  /** Annotations of the case's namespace. */
  ns?: Record<string, string>;
  /** Admitted first (e.g. the app already using a route). */
  before?: (ns: string) => Obj[];
  object: (ns: string) => Obj;
}

const DEPLOYMENT_DENIALS: DenyCase[] = [
  { name: "unknown kind", object: ns => deployment(ns, "app", "tensorflow") },
  { name: "unknown infra profile", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/infra-profile": "gpu-huge" }) },
  { name: "malformed port", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/port": "http" }) },
  { name: "port out of range", object: ns => deployment(ns, "app", "librechat", { "ai-workloads.io/port": "70000" }) },
  { name: "malformed autoscale", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/autoscale": "lots" }) },
  { name: "malformed autoscale-cpu", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/autoscale-cpu": "150" }) },
  { name: "malformed expose", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/expose": "yes" }) },
  { name: "malformed path-prefix", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/path-prefix": "/models/my model" }) },
  { name: "malformed public-paths", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/public-paths": "/docs,/a*b" }) },
  {
    name: "malformed openai-backend reference",
    object: ns => deployment(ns, "app", "librechat", { "ai-workloads.io/openai-backend": "Runtime_OpenAI" }),
  },
  {
    name: "malformed upstream reference",
    ns: { "ai-workloads.io/aad-tenant-id": TEST_TENANT },
    object: ns =>
      deployment(ns, "app", "oauth2-proxy", { "ai-workloads.io/upstream": "chat:99999", "ai-workloads.io/oauth2-secret": "chat-oauth2" }),
  },
  { name: "autoscale min > max", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/autoscale": "5-2" }) },
  { name: "autoscale min < 1", object: ns => deployment(ns, "app", "mlserver", { "ai-workloads.io/autoscale": "0-3" }) },
  {
    name: "named primary container absent",
    object: ns =>
      deployment(ns, "app", "mlserver", { "ai-workloads.io/container": "server" }, [
        { name: "main", image: "x:1" },
        { name: "sidecar", image: "y:1" },
      ]),
  },
  {
    name: "oauth2-proxy without upstream",
    ns: { "ai-workloads.io/aad-tenant-id": TEST_TENANT },
    object: ns => deployment(ns, "app", "oauth2-proxy", { "ai-workloads.io/oauth2-secret": "app-oauth2" }),
  },
  {
    name: "oauth2-proxy without issuer",
    object: ns =>
      deployment(ns, "app", "oauth2-proxy", { "ai-workloads.io/upstream": "chat", "ai-workloads.io/oauth2-secret": "app-oauth2" }),
  },
  {
    name: "oauth2-proxy without credentials",
    ns: { "ai-workloads.io/aad-tenant-id": TEST_TENANT },
    object: ns => deployment(ns, "app", "oauth2-proxy", { "ai-workloads.io/upstream": "chat" }),
  },
  {
    name: "a route path already used by another app",
    before: ns => [deployment(ns, "first", "mlserver", { "ai-workloads.io/path-prefix": "/shared" })],
    object: ns => deployment(ns, "second", "librechat", { "ai-workloads.io/path-prefix": "/shared" }),
  },
];

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);

describe("a labelled Deployment that breaks policy is refused with the CLI's lines (SPEC §6.1, §6.3)", () => {
  it.each(DEPLOYMENT_DENIALS.map(c => [c.name, c] as const))("%s", async (_, c) => {
    const ns = `e2e-deny-${slug(c.name)}`;
    await freshNamespace(ns, c.ns ?? {});
    for (const o of c.before?.(ns) ?? []) {
      const r = await applyYaml([o]);
      expect(r.stderr.replace(/^Warning: .*\n/gm, "")).toBe("");
    }
    const object = c.object(ns);
    const expected = renderObjects([namespaceObject(ns, c.ns ?? {}), ...(c.before?.(ns) ?? []), object], configFile);
    expect(expected.code).toBe(1);
    expect(expected.denied.length).toBeGreaterThan(0);

    const r = await applyYaml([object]);
    expect(r.code).not.toBe(0);
    expect(denial(r.stderr)).toEqual({ webhook: DEPLOYMENT_WEBHOOK, message: expected.denied.join("\n") });
    expect(await getObject("deployment", object.metadata.name, ns)).toBeUndefined();
  });
});

describe("a route clash across namespaces on one host and gateway (SPEC §12.6), as the cluster changes", () => {
  // Admission reads other namespaces from its watch copies and keeps what it gathered from them
  // until a copy changes: each change below must reach the next admission. Server-side dry runs
  // ask admission without storing anything, so each step can be polled until the copies caught up.
  const SHARED = { "ai-workloads.io/host": "shared.example.com", "ai-workloads.io/gateway": "istio-system/ai-workloads-gateway" };
  const [first, second] = ["e2e-clash-first", "e2e-clash-second"];
  const holder = (path: string): Obj => deployment(first, "holder", "mlserver", { "ai-workloads.io/path-prefix": path });
  const newcomer = deployment(second, "newcomer", "librechat", { "ai-workloads.io/path-prefix": "/shared" });
  const dryRun = async (): Promise<string | undefined> => {
    const r = await applyYaml([newcomer], { dryRun: true });
    return r.code === 0 ? "admitted" : (denial(r.stderr)?.message ?? r.stderr);
  };
  /** What the CLI says of the holder on /shared and the newcomer together: the newcomer's denial. */
  const renderedClash = (): ReturnType<typeof renderObjects> =>
    renderObjects([namespaceObject(first, SHARED), namespaceObject(second, SHARED), holder("/shared"), newcomer], configFile);
  const admittedNext = (what: string): Promise<string> =>
    waitFor(what, async () => (await dryRun()) === "admitted" && "admitted", { timeoutMs: 20_000 });

  beforeAll(async () => {
    await freshNamespace(first, SHARED);
    await freshNamespace(second, SHARED);
  });
  afterAll(() => deleteNamespaces([first, second]));

  it("is refused while another namespace's app holds the path, and admitted once the Namespace, the holder or its path changes", async () => {
    expect((await applyYaml([holder("/shared")])).code).toBe(0);
    const expected = renderedClash();
    expect(expected.denied).toHaveLength(1);
    expect(
      await waitFor("the newcomer refused", async () => (await dryRun()) === expected.denied[0] && "refused", { timeoutMs: 20_000 }),
    ).toBe("refused");

    // The newcomer's Namespace moves to another host: nothing is shared any more.
    await kubectlOk(["annotate", "namespace", second, "--overwrite", "ai-workloads.io/host=other.example.com"]);
    await admittedNext("the newcomer admitted on another host");
    await kubectlOk(["annotate", "namespace", second, "--overwrite", "ai-workloads.io/host=shared.example.com"]);
    await waitFor("the newcomer refused again", async () => (await dryRun()) === expected.denied[0], { timeoutMs: 20_000 });

    // The holder moves to another path.
    expect((await applyYaml([holder("/elsewhere")], { verb: "apply" })).code).toBe(0);
    await admittedNext("the newcomer admitted once the holder moved");
    expect((await applyYaml([holder("/shared")], { verb: "apply" })).code).toBe(0);
    await waitFor("the newcomer refused again", async () => (await dryRun()) === expected.denied[0], { timeoutMs: 20_000 });

    // The holder is deleted.
    await kubectlOk(["delete", "deployment", "holder", "-n", first, "--wait=true"]);
    await admittedNext("the newcomer admitted once the holder is gone");
  });

  it.each(["create", "apply", "apply-server"] as const)(
    "is refused when the holder comes in the same kubectl %s, just before it (the watch copies keep up with requests sent one after another)",
    async verb => {
      const expected = renderedClash();
      expect(expected.denied).toHaveLength(1);
      const r = await applyYaml([holder("/shared"), newcomer], { verb });
      expect(r.code).not.toBe(0);
      expect(denial(r.stderr)).toEqual({ webhook: DEPLOYMENT_WEBHOOK, message: expected.denied[0] });
      expect(await getObject("deployment", "holder", first)).toBeDefined();
      expect(await getObject("deployment", "newcomer", second)).toBeUndefined();
      await kubectlOk(["delete", "deployment", "holder", "-n", first, "--wait=true"]);
    },
  );
});

describe("settings objects that break policy are refused with the CLI's lines", () => {
  const NS_WEBHOOK = "namespaces.pepr-ai-workloads.pepr.dev";
  const CONFIG_WEBHOOK = "config.pepr-ai-workloads.pepr.dev";

  it("a new Namespace with a malformed ai-workloads.io/* annotation", async () => {
    const ns = namespaceObject("e2e-deny-namespace-create", {
      "ai-workloads.io/require-jwt": "maybe",
      "ai-workloads.io/host": "not a host",
    });
    const expected = renderObjects([ns], configFile);
    expect(expected.code).toBe(1);
    const r = await applyYaml([ns]);
    expect(r.code).not.toBe(0);
    expect(denial(r.stderr)).toEqual({ webhook: NS_WEBHOOK, message: expected.denied.join("\n") });
    expect(await getObject("namespace", ns.metadata.name)).toBeUndefined();
  });

  it("an existing Namespace annotated with a malformed value (UPDATE)", async () => {
    const name = "e2e-deny-namespace-update";
    await freshNamespace(name, { "ai-workloads.io/base-path": "/ok" });
    const r = await kubectl(["annotate", "namespace", name, "ai-workloads.io/gateway=no-slash"]);
    const expected = renderObjects(
      [namespaceObject(name, { "ai-workloads.io/base-path": "/ok", "ai-workloads.io/gateway": "no-slash" })],
      configFile,
    );
    expect(expected.code).toBe(1);
    expect(r.code).not.toBe(0);
    expect(denial(r.stderr)).toEqual({ webhook: NS_WEBHOOK, message: expected.denied.join("\n") });
    // Removing every ai-workloads.io annotation is never refused (the webhook is not even called).
    const removed = await kubectl(["annotate", "namespace", name, "ai-workloads.io/base-path-"]);
    expect(removed.stderr).toBe("");
    expect(removed.code).toBe(0);
  });

  it.each([
    ["an invalid value", "istio:\n  host: not a host\naad:\n  requireJwt: sometimes\n"],
    ["an unknown key", "istio:\n  hostname: ai.example.com\n"],
    ["a YAML syntax error", "istio:\n  host: [ai.example.com\n"],
  ])("the ai-workloads-config ConfigMap with %s in config.yaml, in a namespace the webhook sees", async (_, text) => {
    const ns = `e2e-deny-config-${slug(_)}`;
    await freshNamespace(ns);
    const cm: Obj = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ai-workloads-config", namespace: ns },
      data: { "config.yaml": text },
    };
    const expected = renderObjects([cm], configFile);
    expect(expected.code).toBe(1);
    const r = await applyYaml([cm]);
    expect(r.code).not.toBe(0);
    expect(denial(r.stderr)).toEqual({ webhook: CONFIG_WEBHOOK, message: expected.denied.join("\n") });
    expect(await getObject("configmap", "ai-workloads-config", ns)).toBeUndefined();
  });
});

describe("an admitted Deployment with a warning (SPEC §6.2)", () => {
  it.each([
    ["librechat without MONGO_URI", (ns: string) => deployment(ns, "chat", "librechat")],
    [
      "oauth2-proxy with a literal cookie secret and client secret",
      (ns: string) =>
        deployment(ns, "login", "oauth2-proxy", { "ai-workloads.io/upstream": "chat" }, [
          {
            name: "proxy",
            image: "quay.io/oauth2-proxy/oauth2-proxy:v7.7.1",
            args: [
              "--cookie-secret=0123456789abcdef0123456789abcdef",
              `--oidc-issuer-url=https://login.microsoftonline.com/${TEST_TENANT}/v2.0`,
            ],
            env: [
              { name: "OAUTH2_PROXY_CLIENT_ID", value: "id" },
              { name: "OAUTH2_PROXY_CLIENT_SECRET", value: "hunter2" },
            ],
          },
        ]),
    ],
  ])("%s: kubectl prints the CLI's warning lines and the object is stored", async (name, make) => {
    const ns = `e2e-warn-${slug(name)}`;
    await freshNamespace(ns);
    const object = make(ns);
    const expected = renderObjects([namespaceObject(ns), object], configFile);
    expect(expected.code).toBe(0);
    expect(expected.warned.length).toBeGreaterThan(0);
    const r = await applyYaml([object]);
    expect(r.code).toBe(0);
    expect(kubectlWarnings(r.stderr)).toEqual(expected.warned);
    expect(await getObject("deployment", object.metadata.name, ns)).toBeDefined();
  });
});
