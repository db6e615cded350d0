import { describe, expect, it } from "@jest/globals";
import {
  type ClusterConfig,
  type ConfigResult,
  type InfraProfile,
  checkClusterConfig,
  parseClusterConfig,
  resolveNamespace,
} from "./config";
import { formatProblem } from "./problems";

const TENANT = "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01";
const AUDIENCE = "api://3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab";

/** SPEC §3.1, written out by hand. */
const builtInProfiles = (): Record<string, InfraProfile> => ({
  default: { resources: { requests: { cpu: "100m", memory: "256Mi" } } },
  "cpu-small": { resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
  "cpu-medium": { resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } } },
  "gpu-small": {
    resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { memory: "16Gi", "nvidia.com/gpu": "1" } },
    nodeSelector: { workload: "gpu" },
    tolerations: [{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
  },
});

/** A cluster config with SPEC §3 defaults, overridden per test. */
function cluster(
  over: { istio?: Partial<ClusterConfig["istio"]>; aad?: Partial<ClusterConfig["aad"]>; infraProfiles?: Record<string, InfraProfile> } = {},
): ClusterConfig {
  return {
    istio: { basePath: "/apps", ...over.istio },
    aad: { requestAuth: false, requireJwt: false, allowSameNamespace: true, ...over.aad },
    infraProfiles: { ...builtInProfiles(), ...over.infraProfiles },
  };
}

function config(result: ConfigResult): ClusterConfig {
  if (!result.ok) throw new Error(`expected a valid config, got ${JSON.stringify(result)}`);
  return result.config;
}

function findings(result: ConfigResult) {
  if (result.ok) throw new Error("expected findings, got a valid config");
  return result.findings;
}

describe("parseClusterConfig", () => {
  it("reads the SPEC §3 example, with infraProfiles added to the built-ins", () => {
    const text = [
      "istio:",
      "  host: ai.example.com",
      "  gateway: istio-system/ai-workloads-gateway",
      "  basePath: /apps",
      "aad:",
      `  tenantId: ${TENANT}`,
      `  apiAudience: ${AUDIENCE}`,
      "  requestAuth: false",
      "  requireJwt: false",
      "  allowSameNamespace: true",
      "infraProfiles:",
      "  gpu-large:",
      '    resources: { requests: { cpu: "4", memory: 32Gi }, limits: { memory: 64Gi, nvidia.com/gpu: "2" } }',
      "    nodeSelector: { workload: gpu }",
      "    tolerations: [{ key: workload, operator: Equal, value: gpu, effect: NoSchedule }]",
      "    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: gpu-type, operator: In, values: [a100] }] }] } } }",
      "",
    ].join("\n");
    expect(config(parseClusterConfig(text))).toEqual({
      istio: { host: "ai.example.com", gateway: "istio-system/ai-workloads-gateway", basePath: "/apps" },
      aad: { tenantId: TENANT, apiAudience: AUDIENCE, requestAuth: false, requireJwt: false, allowSameNamespace: true },
      infraProfiles: {
        ...builtInProfiles(),
        "gpu-large": {
          resources: { requests: { cpu: "4", memory: "32Gi" }, limits: { memory: "64Gi", "nvidia.com/gpu": "2" } },
          nodeSelector: { workload: "gpu" },
          tolerations: [{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: "gpu-type", operator: "In", values: ["a100"] }] }],
              },
            },
          },
        },
      },
    });
  });

  it("gives the built-in defaults for empty text", () => {
    expect(config(parseClusterConfig(""))).toEqual(cluster());
  });

  it("gives the built-in defaults for a document of comments only", () => {
    expect(config(parseClusterConfig("# nothing set yet\n"))).toEqual(cluster());
  });

  it("keeps built-in defaults for keys left out (basePath /apps, allowSameNamespace true)", () => {
    expect(config(parseClusterConfig("aad:\n  requireJwt: true\n"))).toEqual(cluster({ aad: { requireJwt: true } }));
  });

  it("drops a trailing slash of basePath", () => {
    expect(config(parseClusterConfig("istio:\n  basePath: /teams/\n")).istio.basePath).toBe("/teams");
  });

  it("accepts quoted booleans", () => {
    expect(config(parseClusterConfig('aad:\n  requestAuth: "true"\n')).aad.requestAuth).toBe(true);
  });

  it("lower-cases the tenant id", () => {
    expect(config(parseClusterConfig(`aad:\n  tenantId: ${TENANT.toUpperCase()}\n`)).aad.tenantId).toBe(TENANT);
  });

  it("reports a duplicate key as a YAML syntax error on the duplicate's line", () => {
    const result = parseClusterConfig("istio:\n  host: ai.example.com\n  host: other.example.com\n");
    expect(result).toEqual({
      ok: false,
      syntax: { line: 3, message: "Map keys must be unique" },
      findings: [{ field: "line 3", what: "is not valid YAML (Map keys must be unique)", fix: "correct the YAML syntax" }],
    });
  });

  it("reports tab indentation as a YAML syntax error with its line number", () => {
    const result = parseClusterConfig("istio:\n  basePath: /apps\n\tgateway: istio-system/gw\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.syntax?.line).toBe(3);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0].field).toBe("line 3");
    expect(result.findings[0].what).toMatch(/^is not valid YAML \([^\n]+\)$/);
    expect(result.findings[0].what).not.toMatch(/at line \d+/);
  });

  it("reports an unterminated flow mapping as a syntax error", () => {
    const result = parseClusterConfig("istio:\n  basePath: /apps\naad: { requestAuth: true\n");
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.syntax).toBeTruthy();
  });

  it.each(["- istio\n- aad\n", "just text\n", "42\n"])("rejects a top level that is not a mapping: %p", text => {
    const result = parseClusterConfig(text);
    expect(findings(result)).toEqual([{ field: "(top level)", what: "is not a mapping", fix: "write keys istio, aad and infraProfiles" }]);
    expect(result.ok === false && result.syntax).toBeFalsy();
  });

  it("names every unknown key with the known ones of its section", () => {
    expect(findings(parseClusterConfig("istios: {}\nistio:\n  port: 80\naad:\n  audience: x\n"))).toEqual([
      { field: "istios", what: "is not a known key", fix: "use only istio, aad, infraProfiles" },
      { field: "istio.port", what: "is not a known key", fix: "use only host, gateway, basePath" },
      {
        field: "aad.audience",
        what: "is not a known key",
        fix: "use only tenantId, apiAudience, requestAuth, requireJwt, allowSameNamespace",
      },
    ]);
  });

  it("rejects a section that is not a mapping", () => {
    expect(findings(parseClusterConfig("istio: ai.example.com\n"))).toEqual([
      { field: "istio", what: "is not a mapping", fix: "write istio as a mapping of keys" },
    ]);
  });

  it("reports every bad value with the field path and the parser's fix", () => {
    const text = [
      "istio:",
      "  host: localhost",
      "  gateway: ai-workloads-gateway",
      "  basePath: apps",
      "aad:",
      "  tenantId: contoso",
      "  apiAudience: a b",
      "  requestAuth: yes",
      "  requireJwt: 1",
      "  allowSameNamespace: maybe",
      "",
    ].join("\n");
    expect(findings(parseClusterConfig(text))).toEqual([
      { field: "istio.host", what: '"localhost" is not a DNS host name', fix: 'use a lowercase host name such as "ai.example.com"' },
      {
        field: "istio.gateway",
        what: '"ai-workloads-gateway" is not a gateway reference',
        fix: 'use "<namespace>/<gateway>" such as "istio-system/ai-workloads-gateway"',
      },
      {
        field: "istio.basePath",
        what: '"apps" is not a URL path',
        fix: 'use a path such as "/apps/chat" (letters, digits, "-", ".", "_", "~" between single slashes)',
      },
      {
        field: "aad.tenantId",
        what: '"contoso" is not a tenant id',
        fix: 'use the Entra ID tenant\'s GUID, such as "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01"',
      },
      { field: "aad.apiAudience", what: '"a b" is not a token audience', fix: 'use "api://<application-id>" or the application\'s GUID' },
      { field: "aad.requestAuth", what: '"yes" is not a boolean', fix: 'use "true" or "false"' },
      { field: "aad.requireJwt", what: '"1" is not a boolean', fix: 'use "true" or "false"' },
      { field: "aad.allowSameNamespace", what: '"maybe" is not a boolean', fix: 'use "true" or "false"' },
    ]);
  });

  it("replaces a built-in profile by a cluster config entry of the same name, whole", () => {
    const text = "infraProfiles:\n  default:\n    resources:\n      requests: { cpu: 200m }\n";
    expect(config(parseClusterConfig(text)).infraProfiles).toEqual({
      ...builtInProfiles(),
      default: { resources: { requests: { cpu: "200m" } } },
    });
  });

  it("reads numeric quantities as their text", () => {
    const text = "infraProfiles:\n  small:\n    resources:\n      requests: { cpu: 0.5, memory: 1Gi }\n      limits: { cpu: 2 }\n";
    expect(config(parseClusterConfig(text)).infraProfiles.small).toEqual({
      resources: { requests: { cpu: "0.5", memory: "1Gi" }, limits: { cpu: "2" } },
    });
  });

  it("accepts a profile of scheduling only", () => {
    const text = "infraProfiles:\n  spot:\n    nodeSelector: { pool: spot }\n    tolerations: [{ key: spot, operator: Exists }]\n";
    expect(config(parseClusterConfig(text)).infraProfiles.spot).toEqual({
      nodeSelector: { pool: "spot" },
      tolerations: [{ key: "spot", operator: "Exists" }],
    });
  });

  it("rejects a bad quantity naming the resource", () => {
    const text = "infraProfiles:\n  big:\n    resources:\n      requests: { cpu: lots, memory: 1Gi }\n";
    expect(findings(parseClusterConfig(text))).toEqual([
      {
        field: "infraProfiles.big.resources.requests.cpu",
        what: '"lots" is not a resource quantity',
        fix: "use a Kubernetes quantity such as 500m, 2 or 1Gi",
      },
    ]);
  });

  it("rejects a memory quantity with a bad unit", () => {
    const text = "infraProfiles:\n  big:\n    resources:\n      limits: { memory: 1GB }\n";
    expect(findings(parseClusterConfig(text))).toEqual([
      {
        field: "infraProfiles.big.resources.limits.memory",
        what: '"1GB" is not a resource quantity',
        fix: "use a Kubernetes quantity such as 500m, 2 or 1Gi",
      },
    ]);
  });

  it("rejects requests that are not a mapping", () => {
    const text = "infraProfiles:\n  big:\n    resources:\n      requests: 4\n";
    expect(findings(parseClusterConfig(text))).toEqual([
      {
        field: "infraProfiles.big.resources.requests",
        what: "is not a mapping",
        fix: "write resource names to quantities, such as { cpu: 500m, memory: 1Gi }",
      },
    ]);
  });

  it("rejects an unknown key under resources", () => {
    const text = "infraProfiles:\n  big:\n    resources:\n      request: { cpu: 1 }\n";
    expect(findings(parseClusterConfig(text))).toEqual([
      { field: "infraProfiles.big.resources.request", what: "is not a known key", fix: "use only requests, limits" },
    ]);
  });

  it.each([
    ["an unknown operator", "[{ key: workload, operator: Maybe }]"],
    ["an unknown effect", "[{ key: workload, effect: NoRun }]"],
    ["an unknown key", "[{ key: workload, colour: red }]"],
    ["a mapping instead of a list", "{ key: workload }"],
    ["a non-integer tolerationSeconds", "[{ key: workload, effect: NoExecute, tolerationSeconds: 1.5 }]"],
  ])("rejects tolerations with %s", (_what, yaml) => {
    const text = `infraProfiles:\n  big:\n    tolerations: ${yaml}\n`;
    expect(findings(parseClusterConfig(text))).toEqual([
      {
        field: "infraProfiles.big.tolerations",
        what: "is not a list of tolerations",
        fix: "write it as in a pod spec: key, operator, value, effect",
      },
    ]);
  });

  it("rejects a nodeSelector whose value is not a label value", () => {
    const text = "infraProfiles:\n  big:\n    nodeSelector: { workload: [gpu] }\n";
    expect(findings(parseClusterConfig(text))).toEqual([
      {
        field: "infraProfiles.big.nodeSelector",
        what: "is not a map of label keys to label values",
        fix: "write it as in a pod spec, such as { workload: gpu }",
      },
    ]);
  });

  it("rejects an affinity with an unknown part", () => {
    const text = "infraProfiles:\n  big:\n    affinity: { nodeAfinity: {} }\n";
    expect(findings(parseClusterConfig(text))).toEqual([
      {
        field: "infraProfiles.big.affinity",
        what: "is not an affinity",
        fix: "write it as in a pod spec: nodeAffinity, podAffinity and/or podAntiAffinity",
      },
    ]);
  });

  it("rejects a profile that is not a mapping", () => {
    expect(findings(parseClusterConfig("infraProfiles:\n  big: 4\n"))).toEqual([
      { field: "infraProfiles.big", what: "is not a mapping", fix: "give resources, nodeSelector, tolerations and/or affinity" },
    ]);
  });

  it("rejects an unknown key in a profile", () => {
    expect(findings(parseClusterConfig("infraProfiles:\n  big:\n    cpu: 1\n"))).toEqual([
      { field: "infraProfiles.big.cpu", what: "is not a known key", fix: "use only resources, nodeSelector, tolerations, affinity" },
    ]);
  });

  it("rejects a profile name that is not a DNS label", () => {
    expect(findings(parseClusterConfig("infraProfiles:\n  GPU_Large: {}\n"))).toEqual([
      {
        field: "infraProfiles.GPU_Large",
        what: '"GPU_Large" is not a valid profile name',
        fix: 'use a lowercase DNS label such as "gpu-large"',
      },
    ]);
  });
});

describe("checkClusterConfig", () => {
  it("checks an already-parsed object the same way as its YAML", () => {
    expect(checkClusterConfig({ istio: { host: "ai.example.com" } })).toEqual({
      ok: true,
      config: cluster({ istio: { host: "ai.example.com" } }),
    });
  });

  it("rejects a list at the top level", () => {
    expect(findings(checkClusterConfig([]))).toEqual([
      { field: "(top level)", what: "is not a mapping", fix: "write keys istio, aad and infraProfiles" },
    ]);
  });
});

describe("resolveNamespace", () => {
  const full = cluster({
    istio: { host: "ai.example.com", gateway: "istio-system/ai-workloads-gateway", basePath: "/apps" },
    aad: { tenantId: TENANT, apiAudience: AUDIENCE, requestAuth: true, requireJwt: true, allowSameNamespace: true },
  });
  const OTHER_TENANT = "11111111-2222-4333-8444-555555555555";

  it("takes built-in defaults when neither the cluster config nor the Namespace set anything", () => {
    const { settings, problems } = resolveNamespace("team", undefined, cluster());
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      name: "team",
      basePath: "/apps",
      requestAuth: false,
      requireJwt: false,
      allowSameNamespace: true,
      activatedByNamespace: false,
    });
  });

  it("takes the cluster config where the Namespace has no annotation", () => {
    const { settings, problems } = resolveNamespace("team", {}, full);
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      name: "team",
      host: "ai.example.com",
      gateway: "istio-system/ai-workloads-gateway",
      basePath: "/apps",
      tenantId: TENANT,
      audience: AUDIENCE,
      requestAuth: true,
      requireJwt: true,
      allowSameNamespace: true,
      activatedByNamespace: false,
    });
  });

  it.each([
    ["ai-workloads.io/host", "chat.example.com", "host", "chat.example.com"],
    ["ai-workloads.io/gateway", "team/gw", "gateway", "team/gw"],
    ["ai-workloads.io/base-path", "/team", "basePath", "/team"],
    ["ai-workloads.io/aad-tenant-id", OTHER_TENANT, "tenantId", OTHER_TENANT],
    ["ai-workloads.io/aad-audience", "api://other", "audience", "api://other"],
    ["ai-workloads.io/request-auth", "false", "requestAuth", false],
    ["ai-workloads.io/require-jwt", "false", "requireJwt", false],
    ["ai-workloads.io/allow-same-namespace", "false", "allowSameNamespace", false],
  ])("Namespace annotation %s wins over the cluster config", (key, raw, prop, expected) => {
    const { settings, problems } = resolveNamespace("team", { [key]: raw }, full);
    expect(problems).toEqual([]);
    expect(settings[prop as keyof typeof settings]).toEqual(expected);
  });

  it("Namespace annotations win over built-in defaults", () => {
    const { settings } = resolveNamespace(
      "team",
      { "ai-workloads.io/base-path": "/", "ai-workloads.io/allow-same-namespace": "false" },
      cluster(),
    );
    expect(settings.basePath).toBe("/");
    expect(settings.allowSameNamespace).toBe(false);
  });

  it.each([
    [
      "ai-workloads.io/host",
      "localhost",
      'namespace/team: metadata.annotations[ai-workloads.io/host]: "localhost" is not a DNS host name; use a lowercase host name such as "ai.example.com"',
    ],
    [
      "ai-workloads.io/gateway",
      "gw",
      'namespace/team: metadata.annotations[ai-workloads.io/gateway]: "gw" is not a gateway reference; use "<namespace>/<gateway>" such as "istio-system/ai-workloads-gateway"',
    ],
    [
      "ai-workloads.io/base-path",
      "apps",
      'namespace/team: metadata.annotations[ai-workloads.io/base-path]: "apps" is not a URL path; use a path such as "/apps/chat" (letters, digits, "-", ".", "_", "~" between single slashes)',
    ],
    [
      "ai-workloads.io/aad-tenant-id",
      "contoso",
      'namespace/team: metadata.annotations[ai-workloads.io/aad-tenant-id]: "contoso" is not a tenant id; use the Entra ID tenant\'s GUID, such as "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01"',
    ],
    [
      "ai-workloads.io/aad-audience",
      "a,b",
      'namespace/team: metadata.annotations[ai-workloads.io/aad-audience]: "a,b" is not a token audience; use "api://<application-id>" or the application\'s GUID',
    ],
    [
      "ai-workloads.io/request-auth",
      "yes",
      'namespace/team: metadata.annotations[ai-workloads.io/request-auth]: "yes" is not a boolean; use "true" or "false"',
    ],
    [
      "ai-workloads.io/require-jwt",
      "on",
      'namespace/team: metadata.annotations[ai-workloads.io/require-jwt]: "on" is not a boolean; use "true" or "false"',
    ],
    [
      "ai-workloads.io/allow-same-namespace",
      "TRUE",
      'namespace/team: metadata.annotations[ai-workloads.io/allow-same-namespace]: "TRUE" is not a boolean; use "true" or "false"',
    ],
  ])("denies a malformed %s with one message line", (key, raw, line) => {
    const { problems } = resolveNamespace("team", { [key]: raw }, full);
    expect(problems.map(formatProblem)).toEqual([line]);
    expect(problems[0].severity).toBe("deny");
  });

  it("falls back to the cluster config for a malformed annotation", () => {
    const { settings } = resolveNamespace("team", { "ai-workloads.io/host": "localhost" }, full);
    expect(settings.host).toBe("ai.example.com");
  });

  it("denies an unknown ai-workloads.io/* annotation, listing the known ones", () => {
    const { problems } = resolveNamespace("team", { "ai-workloads.io/hosts": "ai.example.com" }, cluster());
    expect(problems.map(formatProblem)).toEqual([
      "namespace/team: metadata.annotations[ai-workloads.io/hosts]: is not a known namespace annotation; use one of " +
        "ai-workloads.io/host, ai-workloads.io/gateway, ai-workloads.io/base-path, ai-workloads.io/aad-tenant-id, " +
        "ai-workloads.io/aad-audience, ai-workloads.io/request-auth, ai-workloads.io/require-jwt, ai-workloads.io/allow-same-namespace",
    ]);
  });

  it("ignores annotations outside the ai-workloads.io/ prefix", () => {
    const { problems } = resolveNamespace("team", { "kubernetes.io/metadata.name": "team", "example.com/ai-workloads.io": "x" }, cluster());
    expect(problems).toEqual([]);
  });

  it("reports every malformed and unknown annotation at once", () => {
    const { problems } = resolveNamespace(
      "team",
      { "ai-workloads.io/host": "localhost", "ai-workloads.io/require-jwt": "on", "ai-workloads.io/port": "80" },
      cluster(),
    );
    expect(problems.map(p => p.field).sort()).toEqual([
      "metadata.annotations[ai-workloads.io/host]",
      "metadata.annotations[ai-workloads.io/port]",
      "metadata.annotations[ai-workloads.io/require-jwt]",
    ]);
  });

  describe("activatedByNamespace", () => {
    it("is true when request-auth is true on the Namespace", () => {
      expect(resolveNamespace("team", { "ai-workloads.io/request-auth": "true" }, cluster()).settings.activatedByNamespace).toBe(true);
    });

    it("is true when require-jwt is true on the Namespace", () => {
      expect(resolveNamespace("team", { "ai-workloads.io/require-jwt": "true" }, cluster()).settings.activatedByNamespace).toBe(true);
    });

    it("is false when both are false on the Namespace", () => {
      const annotations = { "ai-workloads.io/request-auth": "false", "ai-workloads.io/require-jwt": "false" };
      expect(resolveNamespace("team", annotations, full).settings.activatedByNamespace).toBe(false);
    });

    it("is false when only the cluster config turns them on", () => {
      const { settings } = resolveNamespace("team", {}, full);
      expect(settings.requestAuth).toBe(true);
      expect(settings.activatedByNamespace).toBe(false);
    });

    it("is false for a malformed value", () => {
      expect(resolveNamespace("team", { "ai-workloads.io/require-jwt": "yes" }, cluster()).settings.activatedByNamespace).toBe(false);
    });

    it("is false for other annotations alone", () => {
      expect(resolveNamespace("team", { "ai-workloads.io/host": "ai.example.com" }, cluster()).settings.activatedByNamespace).toBe(false);
    });
  });
});
