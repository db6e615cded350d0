import { describe, expect, it } from "@jest/globals";
import type { V1Container } from "@kubernetes/client-node";
import type { ClusterConfig, InfraProfile, NamespaceSettings } from "./config";
import { formatProblem } from "./problems";
import type { V1Deployment } from "./types";
import { type WorkloadSettings, isManaged, kindLabel, objectRef, resolveWorkload } from "./workload";

const DEFAULT_PROFILE: InfraProfile = { resources: { requests: { cpu: "100m", memory: "256Mi" } } };
const GPU_SMALL: InfraProfile = {
  resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { memory: "16Gi", "nvidia.com/gpu": "1" } },
  nodeSelector: { workload: "gpu" },
  tolerations: [{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
};

function cluster(extraProfiles: Record<string, InfraProfile> = {}): ClusterConfig {
  return {
    istio: { basePath: "/apps" },
    aad: { requestAuth: false, requireJwt: false, allowSameNamespace: true },
    infraProfiles: {
      default: DEFAULT_PROFILE,
      "cpu-small": { resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
      "cpu-medium": { resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } } },
      "gpu-small": GPU_SMALL,
      ...extraProfiles,
    },
  };
}

function namespace(over: Partial<NamespaceSettings> = {}): NamespaceSettings {
  return {
    name: "ai",
    basePath: "/apps",
    requestAuth: false,
    requireJwt: false,
    allowSameNamespace: true,
    activatedByNamespace: false,
    ...over,
  };
}

interface DeploymentOptions {
  name?: string;
  kind?: string | null;
  annotations?: Record<string, string>;
  containers?: V1Container[];
  matchLabels?: Record<string, string> | null;
}

function deployment({ name = "model", kind = "mlserver", annotations, containers, matchLabels }: DeploymentOptions = {}): V1Deployment {
  const labels = matchLabels === null ? undefined : (matchLabels ?? { app: name });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: "ai",
      ...(kind === null ? {} : { labels: { "ai-workloads.io/kind": kind } }),
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      selector: labels === undefined ? {} : { matchLabels: labels },
      template: {
        metadata: { labels: labels ?? {} },
        spec: { containers: containers ?? [{ name: "main", image: "example/image:1" }] },
      },
    },
  };
}

function settingsOf(d: V1Deployment, ns = namespace(), config = cluster()): WorkloadSettings {
  const { settings, problems } = resolveWorkload(d, ns, config);
  if (!settings) throw new Error(`expected settings, got ${problems.map(formatProblem).join("\n")}`);
  expect(problems).toEqual([]);
  return settings;
}

function linesOf(d: V1Deployment, ns = namespace(), config = cluster()): string[] {
  const { settings, problems } = resolveWorkload(d, ns, config);
  expect(settings).toBeUndefined();
  expect(problems.every(p => p.severity === "deny")).toBe(true);
  return problems.map(formatProblem);
}

describe("kind label helpers", () => {
  it("a Deployment with the kind label is managed; one without is not", () => {
    expect(isManaged(deployment())).toBe(true);
    expect(isManaged(deployment({ kind: null }))).toBe(false);
    expect(kindLabel(deployment({ kind: "librechat" }))).toBe("librechat");
  });

  it("objectRef is <namespace>/<name>", () => {
    expect(objectRef(deployment({ name: "chat" }))).toBe("ai/chat");
  });
});

describe("resolveWorkload defaults per kind", () => {
  it("mlserver: port 8000, autoscale 1-10 at 60% CPU, no public paths, path <basePath>/<app>, settings <app>-settings", () => {
    const ns = namespace();
    expect(settingsOf(deployment({ name: "model", kind: "mlserver" }), ns)).toEqual({
      app: "model",
      namespace: "ai",
      kind: "mlserver",
      containerIndex: 0,
      port: 8000,
      grpcPort: 8081,
      metricsPort: 8082,
      expose: true,
      path: "/apps/model",
      publicPaths: [],
      autoscale: { min: 1, max: 10 },
      autoscaleCpu: 60,
      profileName: "default",
      profile: DEFAULT_PROFILE,
      settingsConfigMap: "model-settings",
      selector: { app: "model" },
      ns,
    });
  });

  it("librechat: port 3000, autoscale off, no public paths", () => {
    const s = settingsOf(deployment({ name: "chat", kind: "librechat" }));
    expect([s.kind, s.port, s.autoscale, s.publicPaths, s.path, s.expose]).toEqual(["librechat", 3000, "off", [], "/apps/chat", true]);
  });

  it('oauth2-proxy: port 4180, autoscale off, public paths "/*"', () => {
    const s = settingsOf(deployment({ name: "login", kind: "oauth2-proxy" }));
    expect([s.kind, s.port, s.autoscale, s.publicPaths, s.path]).toEqual(["oauth2-proxy", 4180, "off", ["/*"], "/apps/login"]);
  });

  it("no references are resolved when none is annotated", () => {
    const s = settingsOf(deployment({ kind: "oauth2-proxy" }));
    expect([s.openaiBackend, s.upstream, s.oauth2Secret]).toEqual([undefined, undefined, undefined]);
  });

  it("the default path is /<app> under base path /", () => {
    expect(settingsOf(deployment({ name: "model" }), namespace({ basePath: "/" })).path).toBe("/model");
  });

  it("the default path follows the namespace's base path", () => {
    expect(settingsOf(deployment({ name: "model" }), namespace({ basePath: "/team/x" })).path).toBe("/team/x/model");
  });

  it("the namespace is the resolved namespace's name", () => {
    expect(settingsOf(deployment(), namespace({ name: "team" })).namespace).toBe("team");
  });

  it("the pod selector is the Deployment's matchLabels", () => {
    expect(settingsOf(deployment({ matchLabels: { app: "x", tier: "ml" } })).selector).toEqual({ app: "x", tier: "ml" });
  });
});

describe("resolveWorkload annotation overrides", () => {
  const withAnnotation = (key: string, value: string, kind = "mlserver", containers?: V1Container[]) =>
    settingsOf(deployment({ kind, annotations: { [key]: value }, containers }));

  it("ai-workloads.io/port sets the app port", () => {
    expect(withAnnotation("ai-workloads.io/port", "9000").port).toBe(9000);
  });

  it("ai-workloads.io/container picks the named container as primary", () => {
    const containers = [
      { name: "sidecar", image: "s" },
      { name: "server", image: "m" },
    ];
    expect(withAnnotation("ai-workloads.io/container", "server", "mlserver", containers).containerIndex).toBe(1);
  });

  it("without ai-workloads.io/container the first container is primary", () => {
    const containers = [
      { name: "sidecar", image: "s" },
      { name: "server", image: "m" },
    ];
    expect(settingsOf(deployment({ containers })).containerIndex).toBe(0);
  });

  it('ai-workloads.io/expose "false" unexposes the app', () => {
    expect(withAnnotation("ai-workloads.io/expose", "false").expose).toBe(false);
  });

  it("an absolute ai-workloads.io/path-prefix is the route path", () => {
    expect(withAnnotation("ai-workloads.io/path-prefix", "/chat/").path).toBe("/chat");
  });

  it("a relative ai-workloads.io/path-prefix is under the base path", () => {
    expect(withAnnotation("ai-workloads.io/path-prefix", "chat").path).toBe("/apps/chat");
  });

  it('ai-workloads.io/public-paths "none" removes oauth2-proxy\'s default "/*"', () => {
    expect(withAnnotation("ai-workloads.io/public-paths", "none", "oauth2-proxy").publicPaths).toEqual([]);
  });

  it("ai-workloads.io/public-paths sets the public paths", () => {
    expect(withAnnotation("ai-workloads.io/public-paths", "/docs,/static/*").publicPaths).toEqual(["/docs", "/static/*"]);
  });

  it('ai-workloads.io/autoscale "off" turns mlserver\'s autoscaling off', () => {
    expect(withAnnotation("ai-workloads.io/autoscale", "off").autoscale).toBe("off");
  });

  it("ai-workloads.io/autoscale turns autoscaling on for librechat", () => {
    expect(withAnnotation("ai-workloads.io/autoscale", "2-5", "librechat").autoscale).toEqual({ min: 2, max: 5 });
  });

  it("ai-workloads.io/autoscale-cpu sets the CPU target", () => {
    expect(withAnnotation("ai-workloads.io/autoscale-cpu", "80").autoscaleCpu).toBe(80);
  });

  it("ai-workloads.io/infra-profile picks a built-in profile", () => {
    const s = withAnnotation("ai-workloads.io/infra-profile", "gpu-small");
    expect([s.profileName, s.profile]).toEqual(["gpu-small", GPU_SMALL]);
  });

  it("ai-workloads.io/infra-profile picks a profile from the cluster config", () => {
    const large: InfraProfile = { resources: { requests: { cpu: "4" } } };
    const s = settingsOf(
      deployment({ annotations: { "ai-workloads.io/infra-profile": "gpu-large" } }),
      namespace(),
      cluster({ "gpu-large": large }),
    );
    expect([s.profileName, s.profile]).toEqual(["gpu-large", large]);
  });

  it("ai-workloads.io/settings-configmap names the settings ConfigMap", () => {
    expect(withAnnotation("ai-workloads.io/settings-configmap", "shared-settings").settingsConfigMap).toBe("shared-settings");
  });

  it("ai-workloads.io/openai-backend <name> resolves to the mlserver port 8000 with /v1", () => {
    expect(withAnnotation("ai-workloads.io/openai-backend", "runtime-openai", "librechat").openaiBackend).toBe(
      "http://runtime-openai.ai.svc.cluster.local:8000/v1",
    );
  });

  it("ai-workloads.io/openai-backend <name>:<port> keeps the port and adds /v1", () => {
    expect(withAnnotation("ai-workloads.io/openai-backend", "runtime-openai:9000", "librechat").openaiBackend).toBe(
      "http://runtime-openai.ai.svc.cluster.local:9000/v1",
    );
  });

  it("ai-workloads.io/openai-backend URL is used as given", () => {
    expect(withAnnotation("ai-workloads.io/openai-backend", "https://api.example.com/openai", "librechat").openaiBackend).toBe(
      "https://api.example.com/openai",
    );
  });

  it("ai-workloads.io/upstream <name> resolves to the librechat port 3000 without a suffix", () => {
    expect(withAnnotation("ai-workloads.io/upstream", "librechat-backend", "oauth2-proxy").upstream).toBe(
      "http://librechat-backend.ai.svc.cluster.local:3000",
    );
  });

  it("ai-workloads.io/upstream resolves in the Deployment's namespace", () => {
    const s = settingsOf(
      deployment({ kind: "oauth2-proxy", annotations: { "ai-workloads.io/upstream": "web:8080" } }),
      namespace({ name: "team" }),
    );
    expect(s.upstream).toBe("http://web.team.svc.cluster.local:8080");
  });

  it("ai-workloads.io/oauth2-secret names the credentials Secret", () => {
    expect(withAnnotation("ai-workloads.io/oauth2-secret", "login-oauth2", "oauth2-proxy").oauth2Secret).toBe("login-oauth2");
  });

  it("annotations outside the ai-workloads.io/ prefix are ignored", () => {
    expect(withAnnotation("deployment.kubernetes.io/revision", "3").port).toBe(8000);
  });
});

describe("resolveWorkload denials", () => {
  it.each(["1model", "model.v2", "Model", "model-", `m${"x".repeat(63)}`])("denies %s: not a valid Service name (SPEC §12.3)", name => {
    expect(linesOf(deployment({ name }))).toEqual([
      `ai/${name}: metadata.name: ${JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name)} is not a valid Service name, and every companion is named after the Deployment; name it with at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit`,
    ]);
  });

  it("accepts a 63-character DNS-1035 label", () => {
    expect(resolveWorkload(deployment({ name: `m${"x".repeat(62)}` }), namespace(), cluster()).problems).toEqual([]);
  });

  it("denies an unknown kind, listing the valid kinds", () => {
    expect(linesOf(deployment({ kind: "triton" }))).toEqual([
      'ai/model: metadata.labels[ai-workloads.io/kind]: "triton" is not a known kind; use one of mlserver, librechat, oauth2-proxy',
    ]);
  });

  it("denies an empty kind", () => {
    expect(linesOf(deployment({ kind: "" }))).toEqual([
      'ai/model: metadata.labels[ai-workloads.io/kind]: "" is not a known kind; use one of mlserver, librechat, oauth2-proxy',
    ]);
  });

  it("denies an unknown infra profile, listing the known ones", () => {
    expect(linesOf(deployment({ annotations: { "ai-workloads.io/infra-profile": "huge" } }))).toEqual([
      'ai/model: metadata.annotations[ai-workloads.io/infra-profile]: "huge" is not a known infra profile; use one of cpu-medium, cpu-small, default, gpu-small, or add it under infraProfiles in the ai-workloads-config ConfigMap',
    ]);
  });

  it("lists cluster-config profiles among the known ones", () => {
    const lines = linesOf(
      deployment({ annotations: { "ai-workloads.io/infra-profile": "huge" } }),
      namespace(),
      cluster({ "gpu-large": {} }),
    );
    expect(lines[0]).toContain("use one of cpu-medium, cpu-small, default, gpu-large, gpu-small,");
  });

  it("denies a container annotation naming an absent container, listing the containers", () => {
    const containers = [
      { name: "main", image: "m" },
      { name: "helper", image: "h" },
    ];
    expect(linesOf(deployment({ containers, annotations: { "ai-workloads.io/container": "server" } }))).toEqual([
      'ai/model: metadata.annotations[ai-workloads.io/container]: no container is named "server"; name one of "main", "helper", or remove the annotation to use the first container',
    ]);
  });

  it("denies a pod without containers", () => {
    expect(linesOf(deployment({ containers: [] }))).toEqual([
      "ai/model: spec.template.spec.containers: has no containers; add the workload's container",
    ]);
  });

  it("denies empty matchLabels", () => {
    expect(linesOf(deployment({ matchLabels: {} }))).toEqual([
      "ai/model: spec.selector.matchLabels: is empty; select the pods with matchLabels such as { app: <name> }: companions select pods by them",
    ]);
  });

  it("denies a missing matchLabels", () => {
    expect(linesOf(deployment({ matchLabels: null }))).toEqual([
      "ai/model: spec.selector.matchLabels: is empty; select the pods with matchLabels such as { app: <name> }: companions select pods by them",
    ]);
  });

  it("denies an unknown ai-workloads.io/* annotation, listing the known ones", () => {
    expect(linesOf(deployment({ annotations: { "ai-workloads.io/replicas": "3" } }))).toEqual([
      "ai/model: metadata.annotations[ai-workloads.io/replicas]: is not a known Deployment annotation; use one of " +
        "ai-workloads.io/port, ai-workloads.io/container, ai-workloads.io/expose, ai-workloads.io/path-prefix, " +
        "ai-workloads.io/public-paths, ai-workloads.io/autoscale, ai-workloads.io/autoscale-cpu, ai-workloads.io/infra-profile, " +
        "ai-workloads.io/settings-configmap, ai-workloads.io/openai-backend, ai-workloads.io/upstream, ai-workloads.io/oauth2-secret",
    ]);
  });

  it.each([
    [
      "ai-workloads.io/port",
      "65536",
      'ai/model: metadata.annotations[ai-workloads.io/port]: "65536" is not a port; use a whole number from 1 to 65535',
    ],
    [
      "ai-workloads.io/container",
      "Main",
      'ai/model: metadata.annotations[ai-workloads.io/container]: "Main" is not a valid container name; use a lowercase DNS label such as "my-name" (at most 63 characters)',
    ],
    [
      "ai-workloads.io/expose",
      "no",
      'ai/model: metadata.annotations[ai-workloads.io/expose]: "no" is not a boolean; use "true" or "false"',
    ],
    [
      "ai-workloads.io/path-prefix",
      "/a b",
      'ai/model: metadata.annotations[ai-workloads.io/path-prefix]: "/a b" is not a URL path; use a path such as "/apps/chat" (letters, digits, "-", ".", "_", "~" between single slashes)',
    ],
    [
      "ai-workloads.io/public-paths",
      "/a*b",
      'ai/model: metadata.annotations[ai-workloads.io/public-paths]: "/a*b" is not an Istio path pattern; use a comma list of paths such as "/docs,/static/*" (a "*" only at the start or end), or "none"',
    ],
    [
      "ai-workloads.io/autoscale",
      "5-2",
      'ai/model: metadata.annotations[ai-workloads.io/autoscale]: minimum 5 is above maximum 2; use "<min>-<max>" with min <= max, such as "2-5"',
    ],
    [
      "ai-workloads.io/autoscale",
      "0-3",
      'ai/model: metadata.annotations[ai-workloads.io/autoscale]: minimum 0 is below 1; use a minimum of at least 1, such as "1-3"',
    ],
    [
      "ai-workloads.io/autoscale-cpu",
      "0",
      'ai/model: metadata.annotations[ai-workloads.io/autoscale-cpu]: "0" is not a CPU utilization target; use a whole number from 1 to 100',
    ],
    [
      "ai-workloads.io/infra-profile",
      "GPU",
      'ai/model: metadata.annotations[ai-workloads.io/infra-profile]: "GPU" is not a valid infra profile name; use a lowercase DNS label such as "my-name" (at most 63 characters)',
    ],
    [
      "ai-workloads.io/settings-configmap",
      "My_Settings",
      'ai/model: metadata.annotations[ai-workloads.io/settings-configmap]: "My_Settings" is not a valid ConfigMap name; use a lowercase DNS name such as "my-name"',
    ],
    [
      "ai-workloads.io/openai-backend",
      "runtime:0",
      'ai/model: metadata.annotations[ai-workloads.io/openai-backend]: "runtime:0" has an invalid port; use "<service>", "<service>:<port>" or an http(s):// URL',
    ],
    [
      "ai-workloads.io/upstream",
      "Backend",
      'ai/model: metadata.annotations[ai-workloads.io/upstream]: "Backend" is not a service reference; use "<service>", "<service>:<port>" or an http(s):// URL',
    ],
    [
      "ai-workloads.io/oauth2-secret",
      "Secret!",
      'ai/model: metadata.annotations[ai-workloads.io/oauth2-secret]: "Secret!" is not a valid Secret name; use a lowercase DNS name such as "my-name"',
    ],
  ])("denies a malformed %s (%p)", (key, raw, line) => {
    expect(linesOf(deployment({ annotations: { [key]: raw } }))).toEqual([line]);
  });

  it("reports every problem of one Deployment at once", () => {
    const d = deployment({
      kind: "triton",
      annotations: { "ai-workloads.io/port": "0", "ai-workloads.io/replicas": "3" },
      matchLabels: {},
    });
    const fields = resolveWorkload(d, namespace(), cluster())
      .problems.map(p => p.field)
      .sort();
    expect(fields).toEqual([
      "metadata.annotations[ai-workloads.io/port]",
      "metadata.annotations[ai-workloads.io/replicas]",
      "metadata.labels[ai-workloads.io/kind]",
      "spec.selector.matchLabels",
    ]);
  });

  it("names the object by the namespace being resolved", () => {
    expect(linesOf(deployment({ name: "chat", kind: "x" }), namespace({ name: "team" }))[0]).toMatch(/^team\/chat: /);
  });
});

describe("the app's own port setting (SPEC §13.1)", () => {
  const withEnv = (kind: string, env: { name: string; value: string }[], annotations: Record<string, string> = {}) =>
    deployment({ kind, annotations, containers: [{ name: "main", image: "x", env }] });

  it.each([
    ["librechat", [{ name: "PORT", value: "3080" }], 3080],
    ["mlserver", [{ name: "MLSERVER_HTTP_PORT", value: "9000" }], 9000],
    ["oauth2-proxy", [{ name: "OAUTH2_PROXY_HTTP_ADDRESS", value: "0.0.0.0:4181" }], 4181],
  ])("%s: a literal setting without ai-workloads.io/port is the app port", (kind, env, port) => {
    expect(settingsOf(withEnv(kind, env), namespace()).port).toBe(port);
  });

  it("oauth2-proxy: --http-address is the app port", () => {
    const d = deployment({ kind: "oauth2-proxy", containers: [{ name: "main", image: "x", args: ["--http-address=0.0.0.0:4180"] }] });
    expect(settingsOf(d, namespace()).port).toBe(4180);
  });

  it("denies an annotation that disagrees with the app's own setting", () => {
    const d = deployment({
      kind: "oauth2-proxy",
      annotations: { "ai-workloads.io/port": "8080" },
      containers: [{ name: "main", image: "x", args: ["--http-address=0.0.0.0:4180"] }],
    });
    expect(linesOf(d)).toEqual([
      'ai/model: spec.template.spec.containers[main].args: makes the app listen on port 4180, but ai-workloads.io/port is "8080"; make them agree, or remove ai-workloads.io/port so that the app\'s own setting is the app port',
    ]);
  });

  it("mlserver: denies an app port equal to the metrics or gRPC port, the user's literal ones included", () => {
    expect(linesOf(withEnv("mlserver", [], { "ai-workloads.io/port": "8082" }))).toEqual([
      "ai/model: metadata.annotations[ai-workloads.io/port]: the app port 8082 is also MLServer's metrics port (8082); choose another app port: MLServer binds HTTP, gRPC and metrics each to a port of its own",
    ]);
    const custom = settingsOf(withEnv("mlserver", [{ name: "MLSERVER_GRPC_PORT", value: "9500" }]), namespace());
    expect(custom.grpcPort).toBe(9500);
    expect(linesOf(withEnv("mlserver", [{ name: "MLSERVER_GRPC_PORT", value: "9500" }], { "ai-workloads.io/port": "9500" }))[0]).toContain(
      "is also MLServer's gRPC port (9500)",
    );
  });
});
