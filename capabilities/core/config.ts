// The cluster config (ConfigMap `ai-workloads-config`, key `config.yaml`) and the namespace
// layer over it: built-in default → cluster config → Namespace annotations (SPEC §3).
import type { V1Affinity, V1Toleration } from "@kubernetes/client-node";
import { isMap, parseDocument } from "yaml";
import { NA } from "./constants";
import { type Finding, type Parsed, type Problem, deny, quote } from "./problems";
import { annotationsShape } from "./shape";
import {
  annotationReader,
  isDnsLabel,
  parseAudience,
  parseBoolean,
  parseGateway,
  parseHost,
  parsePath,
  parseTenantId,
  yamlErrorText,
} from "./parse";

export interface InfraProfile {
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
}

export interface ClusterConfig {
  istio: { host?: string; gateway?: string; basePath: string };
  aad: { tenantId?: string; apiAudience?: string; requestAuth: boolean; requireJwt: boolean; allowSameNamespace: boolean };
  infraProfiles: Record<string, InfraProfile>;
}

export const BUILT_IN_PROFILES: Record<string, InfraProfile> = {
  default: { resources: { requests: { cpu: "100m", memory: "256Mi" } } },
  "cpu-small": { resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
  "cpu-medium": { resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } } },
  "gpu-small": {
    resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { memory: "16Gi", "nvidia.com/gpu": "1" } },
    nodeSelector: { workload: "gpu" },
    tolerations: [{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
  },
};

export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = {
  istio: { basePath: "/apps" },
  aad: { requestAuth: false, requireJwt: false, allowSameNamespace: true },
  infraProfiles: BUILT_IN_PROFILES,
};

/** Syntax errors are reported apart: the CLI exits 2 on them, admission denies. */
export type ConfigResult =
  | { ok: true; config: ClusterConfig }
  | { ok: false; syntax?: { line: number; message: string }; findings: Finding[] };

const QUANTITY = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const RESOURCE_NAME = /^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

type Json = unknown;
const isRecord = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

const field = (path: string): string => path;

/** Parses and checks `config.yaml`; the result is complete or carries every finding. */
export function parseClusterConfig(text: string): ConfigResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = err.linePos?.[0]?.line ?? 1;
    const message = yamlErrorText(err.message);
    return {
      ok: false,
      syntax: { line, message },
      findings: [{ field: field(`line ${line}`), what: `is not valid YAML (${message})`, fix: "correct the YAML syntax" }],
    };
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    return {
      ok: false,
      findings: [{ field: field("(top level)"), what: "is not a mapping", fix: "write keys istio, aad and infraProfiles" }],
    };
  }
  let raw: Json;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    const message = yamlErrorText((e as Error).message);
    return {
      ok: false,
      syntax: { line: 1, message },
      findings: [{ field: "(top level)", what: `is not valid YAML (${message})`, fix: "correct the YAML syntax" }],
    };
  }
  return checkClusterConfig(raw);
}

export function checkClusterConfig(raw: Json): ConfigResult {
  const findings: Finding[] = [];
  const config: ClusterConfig = {
    istio: { ...DEFAULT_CLUSTER_CONFIG.istio },
    aad: { ...DEFAULT_CLUSTER_CONFIG.aad },
    infraProfiles: { ...BUILT_IN_PROFILES },
  };
  if (!isRecord(raw)) {
    return {
      ok: false,
      findings: [{ field: field("(top level)"), what: "is not a mapping", fix: "write keys istio, aad and infraProfiles" }],
    };
  }
  unknownKeys(raw, ["istio", "aad", "infraProfiles"], "", findings);

  const take = <T>(path: string, value: Json, parse: (f: string, s: string) => Parsed<T>): T | undefined => {
    if (value === undefined || value === null) return undefined;
    const parsed = parse(field(path), typeof value === "string" || typeof value === "boolean" ? String(value) : JSON.stringify(value));
    if (parsed.ok) return parsed.value;
    findings.push(parsed.error);
    return undefined;
  };

  const section = (name: string): Record<string, Json> => {
    const v = raw[name];
    if (v === undefined || v === null) return {};
    if (isRecord(v)) return v;
    findings.push({ field: field(name), what: "is not a mapping", fix: `write ${name} as a mapping of keys` });
    return {};
  };

  const istio = section("istio");
  unknownKeys(istio, ["host", "gateway", "basePath"], "istio.", findings);
  config.istio.host = take("istio.host", istio.host, parseHost);
  config.istio.gateway = take("istio.gateway", istio.gateway, parseGateway);
  config.istio.basePath = take("istio.basePath", istio.basePath, parsePath) ?? config.istio.basePath;

  const aad = section("aad");
  unknownKeys(aad, ["tenantId", "apiAudience", "requestAuth", "requireJwt", "allowSameNamespace"], "aad.", findings);
  config.aad.tenantId = take("aad.tenantId", aad.tenantId, parseTenantId);
  config.aad.apiAudience = take("aad.apiAudience", aad.apiAudience, parseAudience);
  config.aad.requestAuth = take("aad.requestAuth", aad.requestAuth, parseBoolean) ?? config.aad.requestAuth;
  config.aad.requireJwt = take("aad.requireJwt", aad.requireJwt, parseBoolean) ?? config.aad.requireJwt;
  config.aad.allowSameNamespace = take("aad.allowSameNamespace", aad.allowSameNamespace, parseBoolean) ?? config.aad.allowSameNamespace;

  const profiles = section("infraProfiles");
  for (const name of Object.keys(profiles).sort()) {
    const path = `infraProfiles.${name}`;
    if (!isDnsLabel(name)) {
      findings.push({
        field: field(path),
        what: `${quote(name)} is not a valid profile name`,
        fix: 'use a lowercase DNS label such as "gpu-large"',
      });
      continue;
    }
    const profile = checkProfile(path, profiles[name], findings);
    if (profile) config.infraProfiles[name] = profile;
  }
  return findings.length > 0 ? { ok: false, findings } : { ok: true, config };
}

function unknownKeys(obj: Record<string, Json>, known: string[], prefix: string, findings: Finding[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      findings.push({ field: field(`${prefix}${key}`), what: "is not a known key", fix: `use only ${known.join(", ")}` });
    }
  }
}

function checkProfile(path: string, value: Json, findings: Finding[]): InfraProfile | undefined {
  if (!isRecord(value)) {
    findings.push({ field: field(path), what: "is not a mapping", fix: "give resources, nodeSelector, tolerations and/or affinity" });
    return undefined;
  }
  const before = findings.length;
  unknownKeys(value, ["resources", "nodeSelector", "tolerations", "affinity"], `${path}.`, findings);
  const profile: InfraProfile = {};
  if (value.resources !== undefined) {
    const res = value.resources;
    if (!isRecord(res)) {
      findings.push({ field: field(`${path}.resources`), what: "is not a mapping", fix: "give requests and/or limits" });
    } else {
      unknownKeys(res, ["requests", "limits"], `${path}.resources.`, findings);
      profile.resources = {};
      for (const part of ["requests", "limits"] as const) {
        if (res[part] === undefined) continue;
        const list = quantities(`${path}.resources.${part}`, res[part], findings);
        if (list) profile.resources[part] = list;
      }
    }
  }
  if (value.nodeSelector !== undefined) {
    const sel = value.nodeSelector;
    if (isRecord(sel) && Object.entries(sel).every(([k, v]) => RESOURCE_NAME.test(k) && typeof v === "string" && LABEL_VALUE.test(v))) {
      profile.nodeSelector = sel as Record<string, string>;
    } else {
      findings.push({
        field: field(`${path}.nodeSelector`),
        what: "is not a map of label keys to label values",
        fix: "write it as in a pod spec, such as { workload: gpu }",
      });
    }
  }
  if (value.tolerations !== undefined) {
    const tol = value.tolerations;
    if (Array.isArray(tol) && tol.every(isToleration)) {
      profile.tolerations = tol as V1Toleration[];
    } else {
      findings.push({
        field: field(`${path}.tolerations`),
        what: "is not a list of tolerations",
        fix: "write it as in a pod spec: key, operator, value, effect",
      });
    }
  }
  if (value.affinity !== undefined) {
    const aff = value.affinity;
    if (isRecord(aff) && Object.keys(aff).every(k => ["nodeAffinity", "podAffinity", "podAntiAffinity"].includes(k))) {
      profile.affinity = aff as V1Affinity;
    } else {
      findings.push({
        field: field(`${path}.affinity`),
        what: "is not an affinity",
        fix: "write it as in a pod spec: nodeAffinity, podAffinity and/or podAntiAffinity",
      });
    }
  }
  return findings.length === before ? profile : undefined;
}

function quantities(path: string, value: Json, findings: Finding[]): Record<string, string> | undefined {
  if (!isRecord(value)) {
    findings.push({
      field: field(path),
      what: "is not a mapping",
      fix: "write resource names to quantities, such as { cpu: 500m, memory: 1Gi }",
    });
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [name, q] of Object.entries(value)) {
    const text = typeof q === "number" ? String(q) : q;
    if (RESOURCE_NAME.test(name) && typeof text === "string" && QUANTITY.test(text)) {
      out[name] = text;
    } else {
      findings.push({
        field: field(`${path}.${name}`),
        what: `${quote(String(q))} is not a resource quantity`,
        fix: "use a Kubernetes quantity such as 500m, 2 or 1Gi",
      });
    }
  }
  return out;
}

const TOLERATION_KEYS = ["key", "operator", "value", "effect", "tolerationSeconds"];
function isToleration(t: Json): boolean {
  return (
    isRecord(t) &&
    Object.keys(t).every(k => TOLERATION_KEYS.includes(k)) &&
    (t.operator === undefined || t.operator === "Equal" || t.operator === "Exists") &&
    (t.effect === undefined || ["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(t.effect as string)) &&
    ["key", "value"].every(k => t[k] === undefined || typeof t[k] === "string") &&
    (t.tolerationSeconds === undefined || Number.isInteger(t.tolerationSeconds))
  );
}

/** What a namespace resolves to after the Namespace's annotations over the cluster config. */
export interface NamespaceSettings {
  name: string;
  host?: string;
  gateway?: string;
  basePath: string;
  tenantId?: string;
  audience?: string;
  requestAuth: boolean;
  requireJwt: boolean;
  allowSameNamespace: boolean;
  /** request-auth or require-jwt is `true` on the Namespace itself (SPEC §3). */
  activatedByNamespace: boolean;
}

export const namespaceObject = (name: string): string => `namespace/${name}`;

export const KNOWN_NAMESPACE_ANNOTATIONS: readonly string[] = Object.values(NA);

export function resolveNamespace(
  name: string,
  annotations: Record<string, string> | undefined,
  cluster: ClusterConfig,
): { settings: NamespaceSettings; problems: Problem[] } {
  const object = namespaceObject(name);
  const shape = annotationsShape(annotations);
  const a = shape.length > 0 ? {} : (annotations ?? {});
  const problems: Problem[] = shape.map(f => deny(object, f));
  const take = annotationReader(a, object, problems, KNOWN_NAMESPACE_ANNOTATIONS, "namespace");
  const requestAuth = take(NA.requestAuth, parseBoolean);
  const requireJwt = take(NA.requireJwt, parseBoolean);
  const settings: NamespaceSettings = {
    name,
    host: take(NA.host, parseHost) ?? cluster.istio.host,
    gateway: take(NA.gateway, parseGateway) ?? cluster.istio.gateway,
    basePath: take(NA.basePath, parsePath) ?? cluster.istio.basePath,
    tenantId: take(NA.tenantId, parseTenantId) ?? cluster.aad.tenantId,
    audience: take(NA.audience, parseAudience) ?? cluster.aad.apiAudience,
    requestAuth: requestAuth ?? cluster.aad.requestAuth,
    requireJwt: requireJwt ?? cluster.aad.requireJwt,
    allowSameNamespace: take(NA.allowSameNamespace, parseBoolean) ?? cluster.aad.allowSameNamespace,
    activatedByNamespace: requestAuth === true || requireJwt === true,
  };
  return { settings, problems };
}
