import { describe, expect, it } from "@jest/globals";
import type { V1Container } from "@kubernetes/client-node";
import { BUILT_IN_PROFILES, type ClusterConfig, type NamespaceSettings, resolveNamespace } from "./config";
import { type PlannedApp, admitDeployment, planNamespace, render } from "./plan";
import { formatProblem } from "./problems";
import type { KubeObject, V1Deployment } from "./types";
import { resolveWorkload } from "./workload";

const TENANT = "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01";
const CLIENT = "3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab";
const MANAGED = { "app.kubernetes.io/managed-by": "ai-workloads" };

function cluster(over: { istio?: Partial<ClusterConfig["istio"]>; aad?: Partial<ClusterConfig["aad"]> } = {}): ClusterConfig {
  return {
    istio: { basePath: "/apps", ...over.istio },
    aad: { requestAuth: false, requireJwt: false, allowSameNamespace: true, ...over.aad },
    infraProfiles: { ...BUILT_IN_PROFILES },
  };
}

function namespace(over: Partial<NamespaceSettings> = {}): NamespaceSettings {
  return {
    name: "ai",
    host: "ai.example.com",
    gateway: "istio-system/ai-workloads-gateway",
    basePath: "/apps",
    tenantId: TENANT,
    audience: `api://${CLIENT}`,
    requestAuth: true,
    requireJwt: true,
    allowSameNamespace: true,
    activatedByNamespace: true,
    ...over,
  };
}

/** The seed's Namespace annotations (SPEC §9). */
const SEED_NAMESPACE_ANNOTATIONS = {
  "ai-workloads.io/host": "ai.example.com",
  "ai-workloads.io/gateway": "istio-system/ai-workloads-gateway",
  "ai-workloads.io/base-path": "/apps",
  "ai-workloads.io/aad-tenant-id": TENANT,
  "ai-workloads.io/aad-audience": `api://${CLIENT}`,
  "ai-workloads.io/request-auth": "true",
  "ai-workloads.io/require-jwt": "true",
  "ai-workloads.io/allow-same-namespace": "true",
};

function namespaceObject(name: string, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, ...(annotations ? { annotations } : {}) } };
}

interface DeploymentOptions {
  name: string;
  namespace?: string | null;
  kind?: string | null;
  annotations?: Record<string, string>;
  container?: Partial<V1Container>;
}

function deployment({ name, namespace: ns = "ai", kind = "mlserver", annotations, container }: DeploymentOptions): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      ...(ns === null ? {} : { namespace: ns }),
      ...(kind === null ? {} : { labels: { "ai-workloads.io/kind": kind } }),
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "img", ...container }] } },
    },
  };
}

const MONGO = { env: [{ name: "MONGO_URI", valueFrom: { secretKeyRef: { name: "mongo", key: "uri" } } }] };

function seedDeployments(): V1Deployment[] {
  return [
    deployment({
      name: "runtime-openai",
      kind: "mlserver",
      annotations: { "ai-workloads.io/public-paths": "/docs", "ai-workloads.io/autoscale": "1-10" },
    }),
    deployment({
      name: "librechat-backend",
      kind: "librechat",
      annotations: { "ai-workloads.io/expose": "false", "ai-workloads.io/openai-backend": "runtime-openai" },
      container: MONGO,
    }),
    deployment({
      name: "librechat",
      kind: "oauth2-proxy",
      annotations: { "ai-workloads.io/upstream": "librechat-backend", "ai-workloads.io/oauth2-secret": "librechat-oauth2" },
    }),
  ];
}

type Named = { kind?: string; metadata?: { name?: string; namespace?: string } };
const ids = (objects: readonly Named[]): string[] => objects.map(o => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`);

function planned(d: V1Deployment, ns: NamespaceSettings, owner?: { name: string; uid: string }): PlannedApp {
  const admission = admitDeployment(d, ns, cluster(), []);
  if (!admission.settings) throw new Error(admission.problems.map(formatProblem).join("\n"));
  return { settings: admission.settings, deployment: admission.mutated, ...(owner ? { owner } : {}) };
}

describe("admitDeployment", () => {
  it("returns the Deployment with its kind's defaults, its settings and no problems", () => {
    const admission = admitDeployment(deployment({ name: "runtime-openai" }), namespace(), cluster(), []);
    expect(admission.problems).toEqual([]);
    expect(admission.settings?.app).toBe("runtime-openai");
    const c = admission.mutated.spec!.template.spec!.containers[0];
    expect(c.command).toEqual(["mlserver", "start", "/mnt/models"]);
    expect(c.resources).toEqual({ requests: { cpu: "100m", memory: "256Mi" } });
    expect(admission.mutated.spec!.template.metadata?.annotations).toEqual({ "ai-workloads.io/infra-profile": "default" });
  });

  it("does not mutate the input Deployment", () => {
    const input = deployment({ name: "runtime-openai" });
    const copy = structuredClone(input);
    admitDeployment(input, namespace(), cluster(), []);
    expect(input).toEqual(copy);
  });

  it("returns the input unchanged with its problems when it cannot be resolved", () => {
    const input = deployment({ name: "x", kind: "triton" });
    const admission = admitDeployment(input, namespace(), cluster(), []);
    expect(admission.mutated).toBe(input);
    expect(admission.settings).toBeUndefined();
    expect(admission.problems.map(formatProblem)).toEqual([
      'ai/x: metadata.labels[ai-workloads.io/kind]: "triton" is not a known kind; use one of mlserver, librechat, oauth2-proxy',
    ]);
  });

  it("denies a route path a sibling already uses", () => {
    const sibling = deployment({ name: "a", annotations: { "ai-workloads.io/path-prefix": "chat" } });
    const d = deployment({ name: "b", annotations: { "ai-workloads.io/path-prefix": "/apps/chat" } });
    expect(admitDeployment(d, namespace(), cluster(), [sibling]).problems.map(formatProblem)).toEqual([
      'ai/b: metadata.annotations[ai-workloads.io/path-prefix]: route path "/apps/chat" is already used by Deployment "a"; set ai-workloads.io/path-prefix to another path, or ai-workloads.io/expose: "false"',
    ]);
  });

  it("does not clash with the stored version of the same Deployment", () => {
    const d = deployment({ name: "a" });
    expect(admitDeployment(d, namespace(), cluster(), [d]).problems).toEqual([]);
  });

  it("ignores siblings that cannot be resolved", () => {
    const broken = deployment({ name: "a", kind: "triton", annotations: { "ai-workloads.io/path-prefix": "/apps/b" } });
    expect(admitDeployment(deployment({ name: "b" }), namespace(), cluster(), [broken]).problems).toEqual([]);
  });

  it("reports policy warnings of the defaulted Deployment", () => {
    expect(
      admitDeployment(deployment({ name: "chat", kind: "librechat" }), namespace(), cluster(), []).problems.map(formatProblem),
    ).toEqual([
      "warning: ai/chat: spec.template.spec.containers[main].env: MONGO_URI is not set; set MONGO_URI in env or through envFrom (a Secret): LibreChat needs MongoDB",
    ]);
  });
});

describe("planNamespace", () => {
  it("gives nothing for a namespace without managed Deployments that does not ask for objects itself", () => {
    expect(planNamespace(namespace({ activatedByNamespace: false }), [])).toEqual([]);
  });

  it("gives the namespace objects, and no per-app ones, to a namespace activated by its annotations only", () => {
    const { settings } = resolveNamespace(
      "edge",
      {
        "ai-workloads.io/aad-tenant-id": TENANT,
        "ai-workloads.io/request-auth": "true",
        "ai-workloads.io/require-jwt": "true",
        "ai-workloads.io/allow-same-namespace": "false",
      },
      cluster(),
    );
    expect(planNamespace(settings, [])).toEqual([
      {
        apiVersion: "security.istio.io/v1",
        kind: "RequestAuthentication",
        metadata: { name: "ai-workloads-aad", namespace: "edge", labels: MANAGED },
        spec: {
          jwtRules: [
            {
              issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
              jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
              forwardOriginalToken: true,
            },
            {
              issuer: `https://sts.windows.net/${TENANT}/`,
              jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
              forwardOriginalToken: true,
            },
          ],
        },
      },
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "ai-workloads-require-jwt", namespace: "edge", labels: MANAGED },
        spec: { action: "ALLOW", rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] },
      },
    ]);
  });

  it("gives only the require-jwt policy to a namespace activated by require-jwt alone", () => {
    const { settings } = resolveNamespace("edge", { "ai-workloads.io/require-jwt": "true" }, cluster());
    expect(ids(planNamespace(settings, []))).toEqual(["AuthorizationPolicy edge/ai-workloads-require-jwt"]);
  });

  it("does not activate an empty namespace from the cluster config's require-jwt and request-auth", () => {
    const config = cluster({ aad: { tenantId: TENANT, requestAuth: true, requireJwt: true } });
    const { settings } = resolveNamespace("empty", {}, config);
    expect(planNamespace(settings, [])).toEqual([]);
  });

  it("applies the cluster config's require-jwt to a namespace with a managed Deployment", () => {
    const config = cluster({ aad: { requireJwt: true } });
    const { settings } = resolveNamespace("team", {}, config);
    const app = planned(deployment({ name: "m", namespace: "team" }), settings);
    expect(ids(planNamespace(settings, [app]))).toEqual([
      "Service team/m",
      "HorizontalPodAutoscaler team/m",
      "AuthorizationPolicy team/ai-workloads-require-jwt",
    ]);
  });

  it("gives the seed namespace its companions in canonical order: kind, then name", () => {
    const ns = namespace();
    const apps = seedDeployments().map(d => planned(d, ns));
    expect(ids(planNamespace(ns, apps))).toEqual([
      "Service ai/librechat",
      "Service ai/librechat-backend",
      "Service ai/runtime-openai",
      "HorizontalPodAutoscaler ai/runtime-openai",
      "VirtualService ai/ai-workloads",
      "RequestAuthentication ai/ai-workloads-aad",
      "AuthorizationPolicy ai/ai-workloads-require-jwt",
      "AuthorizationPolicy ai/librechat-public",
      "AuthorizationPolicy ai/runtime-openai-public",
    ]);
  });

  it("routes only the exposed seed apps, the longer path first", () => {
    const ns = namespace();
    const vs = planNamespace(
      ns,
      seedDeployments().map(d => planned(d, ns)),
    ).find(o => o.kind === "VirtualService") as unknown as KubeObject;
    const http = (vs.spec as { http: { name: string; match: unknown[] }[] }).http;
    expect(http.map(r => [r.name, r.match])).toEqual([
      ["runtime-openai", [{ uri: { prefix: "/apps/runtime-openai/" } }, { uri: { exact: "/apps/runtime-openai" } }]],
      ["librechat", [{ uri: { prefix: "/apps/librechat/" } }, { uri: { exact: "/apps/librechat" } }]],
    ]);
  });

  it("gives per-app objects an ownerReference when the owner is known, and namespace objects none", () => {
    const ns = namespace();
    const app = planned(deployment({ name: "m", annotations: { "ai-workloads.io/public-paths": "/docs" } }), ns, {
      name: "m",
      uid: "uid-m",
    });
    const owned = planNamespace(ns, [app]).map(o => [
      `${o.kind}/${o.metadata?.name}`,
      o.metadata?.ownerReferences?.map(r => r.uid) ?? null,
    ]);
    expect(owned).toEqual([
      ["Service/m", ["uid-m"]],
      ["HorizontalPodAutoscaler/m", ["uid-m"]],
      ["VirtualService/ai-workloads", null],
      ["RequestAuthentication/ai-workloads-aad", null],
      ["AuthorizationPolicy/ai-workloads-require-jwt", null],
      ["AuthorizationPolicy/m-public", ["uid-m"]],
    ]);
  });

  it("targets the Service at the container port named http after defaults", () => {
    const ns = namespace({ requestAuth: false, requireJwt: false });
    const svc = planNamespace(ns, [planned(deployment({ name: "m" }), ns)]).find(o => o.kind === "Service") as unknown as KubeObject;
    expect(svc.spec).toEqual({
      type: "ClusterIP",
      selector: { app: "m" },
      ports: [
        { name: "http", port: 8000, targetPort: "http", protocol: "TCP", appProtocol: "http" },
        { name: "grpc", port: 8081, targetPort: "grpc", protocol: "TCP", appProtocol: "grpc" },
      ],
    });
  });
});

describe("render", () => {
  const seedInput = (): KubeObject[] => [namespaceObject("ai", SEED_NAMESPACE_ANNOTATIONS), ...(seedDeployments() as KubeObject[])];

  it("renders the seed example: input objects first, then the companions in canonical order, no problems", () => {
    const { objects, problems } = render(seedInput(), { defaultNamespace: "default" });
    expect(problems.map(formatProblem)).toEqual([]);
    expect(ids(objects)).toEqual([
      "Namespace /ai",
      "Deployment ai/runtime-openai",
      "Deployment ai/librechat-backend",
      "Deployment ai/librechat",
      "Service ai/librechat",
      "Service ai/librechat-backend",
      "Service ai/runtime-openai",
      "HorizontalPodAutoscaler ai/runtime-openai",
      "VirtualService ai/ai-workloads",
      "RequestAuthentication ai/ai-workloads-aad",
      "AuthorizationPolicy ai/ai-workloads-require-jwt",
      "AuthorizationPolicy ai/librechat-public",
      "AuthorizationPolicy ai/runtime-openai-public",
    ]);
  });

  it("wires the seed's references: OPENAI_API_BASE to runtime-openai:8000/v1 and --upstream to librechat-backend:3000", () => {
    const { objects } = render(seedInput(), { defaultNamespace: "default" });
    const container = (name: string) =>
      (objects.find(o => o.kind === "Deployment" && o.metadata?.name === name) as V1Deployment).spec!.template.spec!.containers[0];
    expect(container("librechat-backend").env).toContainEqual({
      name: "OPENAI_API_BASE",
      value: "http://runtime-openai.ai.svc.cluster.local:8000/v1",
    });
    expect(container("librechat-backend").env).toContainEqual({
      name: "OPENAI_REVERSE_PROXY",
      value: "http://runtime-openai.ai.svc.cluster.local:8000/v1",
    });
    expect(container("librechat").args).toContain("--upstream=http://librechat-backend.ai.svc.cluster.local:3000");
  });

  it("gives the seed's Services ports 8000, 3000 and 4180 and its HPA 1-10 at 60% CPU", () => {
    const { objects } = render(seedInput(), { defaultNamespace: "default" });
    const port = (name: string) =>
      (objects.find(o => o.kind === "Service" && o.metadata?.name === name)?.spec as { ports: { port: number }[] }).ports[0].port;
    expect([port("runtime-openai"), port("librechat-backend"), port("librechat")]).toEqual([8000, 3000, 4180]);
    const hpa = objects.find(o => o.kind === "HorizontalPodAutoscaler")?.spec as {
      minReplicas: number;
      maxReplicas: number;
      metrics: { resource: { target: { averageUtilization: number } } }[];
    };
    expect([hpa.minReplicas, hpa.maxReplicas, hpa.metrics[0].resource.target.averageUtilization]).toEqual([1, 10, 60]);
  });

  it("omits ownerReferences everywhere offline", () => {
    const { objects } = render(seedInput(), { defaultNamespace: "default" });
    expect(objects.filter(o => o.metadata?.ownerReferences !== undefined)).toEqual([]);
  });

  it("does not mutate its input", () => {
    const input = seedInput();
    const copy = structuredClone(input);
    render(input, { defaultNamespace: "default" });
    expect(input).toEqual(copy);
  });

  it("given its own output, replaces the companions in it by the generated ones, never duplicating them (SPEC §13.3)", () => {
    const once = render(seedInput(), { defaultNamespace: "default" }).objects;
    expect(render(once, { defaultNamespace: "default" }).objects).toEqual(once);
    // A companion no longer generated is dropped, not kept.
    const unexposed = once.map(o =>
      o.kind === "Deployment"
        ? { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata?.annotations, "ai-workloads.io/expose": "false" } } }
        : o,
    );
    expect(ids(render(unexposed, { defaultNamespace: "default" }).objects).filter(id => id.startsWith("VirtualService"))).toEqual([]);
  });

  it("applies the route rules across namespaces on one host and gateway (SPEC §12.6)", () => {
    const onHost = (name: string) =>
      namespaceObject(name, {
        "ai-workloads.io/host": "ai.example.com",
        "ai-workloads.io/gateway": "istio-system/gw",
        "ai-workloads.io/base-path": "/apps",
      });
    const input = [
      onHost("a"),
      onHost("b"),
      deployment({ name: "x", namespace: "a" }) as KubeObject,
      deployment({ name: "x", namespace: "b" }) as KubeObject,
    ];
    expect(render(input, { defaultNamespace: "default" }).problems.map(formatProblem)).toContain(
      'b/x: metadata.annotations[ai-workloads.io/path-prefix]: route path "/apps/x" on host "ai.example.com" is already used by Deployment a/x; set ai-workloads.io/path-prefix to another path, or ai-workloads.io/expose: "false": namespaces on one host and gateway share its paths',
    );
  });

  it("warns once per namespace that requires a JWT without generating a RequestAuthentication (SPEC §12.4)", () => {
    const input = [
      namespaceObject("t", { "ai-workloads.io/require-jwt": "true" }),
      deployment({ name: "m", namespace: "t" }) as KubeObject,
      deployment({ name: "n", namespace: "t" }) as KubeObject,
    ];
    const lines = render(input, { defaultNamespace: "default" })
      .problems.map(formatProblem)
      .filter(l => l.includes("no RequestAuthentication"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: namespace\/t: metadata.annotations\[ai-workloads.io\/require-jwt\]: /);
  });

  it("is deterministic", () => {
    const a = render(seedInput(), { defaultNamespace: "default" });
    const b = render(seedInput(), { defaultNamespace: "default" });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it("gives namespaced objects without a namespace the default namespace, and cluster-scoped ones none", () => {
    const input: KubeObject[] = [
      namespaceObject("team"),
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "reader" } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { a: "1" } },
      { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } },
      deployment({ name: "m", namespace: null }) as KubeObject,
    ];
    const { objects } = render(input, { defaultNamespace: "team" });
    expect(ids(objects).slice(0, 5)).toEqual([
      "Namespace /team",
      "ClusterRole /reader",
      "ConfigMap team/settings",
      "Widget team/w",
      "Deployment team/m",
    ]);
    expect(ids(objects).slice(5)).toEqual(["Service team/m", "HorizontalPodAutoscaler team/m"]);
  });

  it("keeps an object's own namespace", () => {
    const { objects } = render([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "other" } }], {
      defaultNamespace: "team",
    });
    expect(objects).toEqual([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "other" } }]);
  });

  it("passes unlabelled Deployments and other objects through unchanged and generates nothing for them", () => {
    const plain = deployment({ name: "web", kind: null }) as KubeObject;
    const secret: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "ai" }, stringData: { k: "v" } };
    const { objects, problems } = render([plain, secret], { defaultNamespace: "default" });
    expect(objects).toEqual([
      deployment({ name: "web", kind: null }),
      { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "ai" }, stringData: { k: "v" } },
    ]);
    expect(problems).toEqual([]);
  });

  it("takes the cluster config from a ConfigMap ai-workloads-config in the input", () => {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ai-workloads-config", namespace: "pepr-system" },
      data: { "config.yaml": "istio:\n  host: apps.example.com\n  gateway: istio-system/gw\n  basePath: /teams\n" },
    };
    const { objects, problems } = render([cm, deployment({ name: "m", namespace: "team" }) as KubeObject], { defaultNamespace: "default" });
    expect(problems).toEqual([]);
    const vs = objects.find(o => o.kind === "VirtualService");
    expect(vs?.spec).toMatchObject({
      hosts: ["apps.example.com"],
      gateways: ["istio-system/gw"],
      http: [{ name: "m", match: [{ uri: { prefix: "/teams/m/" } }, { uri: { exact: "/teams/m" } }] }],
    });
  });

  it("lets the config option win over a ConfigMap in the input", () => {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ai-workloads-config", namespace: "pepr-system" },
      data: { "config.yaml": "istio:\n  host: apps.example.com\n  gateway: istio-system/gw\n  basePath: /teams\n" },
    };
    const config = cluster({ istio: { host: "cli.example.com", gateway: "istio-system/cli", basePath: "/cli" } });
    const { objects } = render([cm, deployment({ name: "m", namespace: "team" }) as KubeObject], { defaultNamespace: "default", config });
    expect(objects.find(o => o.kind === "VirtualService")?.spec).toMatchObject({
      hosts: ["cli.example.com"],
      gateways: ["istio-system/cli"],
      http: [{ match: [{ uri: { prefix: "/cli/m/" } }, { uri: { exact: "/cli/m" } }] }],
    });
  });

  it("reports an invalid ConfigMap's findings under data[config.yaml]", () => {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ai-workloads-config", namespace: "pepr-system" },
      data: { "config.yaml": "istio:\n  host: localhost\n" },
    };
    expect(render([cm], { defaultNamespace: "default" }).problems.map(formatProblem)).toEqual([
      'pepr-system/ai-workloads-config: data[config.yaml].istio.host: "localhost" is not a DNS host name; use a lowercase host name such as "ai.example.com"',
    ]);
  });

  it("keeps the built-in config when the ConfigMap in the input is invalid", () => {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ai-workloads-config", namespace: "pepr-system" },
      data: { "config.yaml": "istio:\n  basePath: nope\n" },
    };
    const { objects } = render([cm, deployment({ name: "m" }) as KubeObject], { defaultNamespace: "default" });
    // Built-in config: no host, no gateway, so no VirtualService.
    expect(ids(objects).slice(2)).toEqual(["Service ai/m", "HorizontalPodAutoscaler ai/m"]);
  });

  it("uses a Namespace's annotations for its Deployments", () => {
    const input = [
      namespaceObject("ai", {
        "ai-workloads.io/base-path": "/x",
        "ai-workloads.io/host": "h.example.com",
        "ai-workloads.io/gateway": "gw/gw",
      }),
      deployment({ name: "m" }) as KubeObject,
    ];
    const vs = render(input, { defaultNamespace: "default" }).objects.find(o => o.kind === "VirtualService");
    expect(vs?.spec).toMatchObject({
      hosts: ["h.example.com"],
      gateways: ["gw/gw"],
      http: [{ match: [{ uri: { prefix: "/x/m/" } }, { uri: { exact: "/x/m" } }] }],
    });
  });

  it("renders namespace objects for a Namespace activated by its annotations without Deployments", () => {
    const { objects } = render([namespaceObject("edge", { "ai-workloads.io/require-jwt": "true" })], { defaultNamespace: "default" });
    expect(ids(objects)).toEqual(["Namespace /edge", "AuthorizationPolicy edge/ai-workloads-require-jwt"]);
  });

  it("renders nothing for a Namespace without Deployments when only the cluster config requires a JWT", () => {
    const config = cluster({ aad: { requireJwt: true } });
    expect(ids(render([namespaceObject("empty")], { defaultNamespace: "default", config }).objects)).toEqual(["Namespace /empty"]);
  });

  it("reports a Namespace's malformed annotation", () => {
    const { problems } = render([namespaceObject("ai", { "ai-workloads.io/require-jwt": "yes" })], { defaultNamespace: "default" });
    expect(problems.map(formatProblem)).toEqual([
      'namespace/ai: metadata.annotations[ai-workloads.io/require-jwt]: "yes" is not a boolean; use "true" or "false"',
    ]);
  });

  it("denies the later of two Deployments with the same route path", () => {
    const input = [
      deployment({ name: "first", annotations: { "ai-workloads.io/path-prefix": "/shared" } }),
      deployment({ name: "second", annotations: { "ai-workloads.io/path-prefix": "/shared" } }),
    ] as KubeObject[];
    expect(render(input, { defaultNamespace: "default" }).problems.map(formatProblem)).toEqual([
      'ai/second: metadata.annotations[ai-workloads.io/path-prefix]: route path "/shared" is already used by Deployment "first"; set ai-workloads.io/path-prefix to another path, or ai-workloads.io/expose: "false"',
    ]);
  });

  it("orders companions by kind, then namespace, then name, across namespaces", () => {
    const input = [
      deployment({ name: "z", namespace: "b-ns" }),
      deployment({ name: "y", namespace: "a-ns", kind: "librechat", container: MONGO }),
      deployment({
        name: "x",
        namespace: "b-ns",
        kind: "librechat",
        container: MONGO,
        annotations: { "ai-workloads.io/autoscale": "1-2" },
      }),
      deployment({ name: "w", namespace: "a-ns" }),
    ] as KubeObject[];
    const { objects, problems } = render(input, { defaultNamespace: "default" });
    expect(problems).toEqual([]);
    expect(ids(objects).slice(4)).toEqual([
      "Service a-ns/w",
      "Service a-ns/y",
      "Service b-ns/x",
      "Service b-ns/z",
      "HorizontalPodAutoscaler a-ns/w",
      "HorizontalPodAutoscaler b-ns/x",
      "HorizontalPodAutoscaler b-ns/z",
    ]);
  });

  it("resolves a Deployment's settings the same way admission does", () => {
    const d = deployment({ name: "m", annotations: { "ai-workloads.io/port": "9000" } });
    const { objects } = render([d as KubeObject], { defaultNamespace: "default" });
    const { settings } = resolveWorkload(d, resolveNamespace("ai", {}, cluster()).settings, cluster());
    expect((objects.find(o => o.kind === "Service")?.spec as { ports: { port: number }[] }).ports[0].port).toBe(settings?.port);
    expect(settings?.port).toBe(9000);
  });
});
