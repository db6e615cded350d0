// A managed Deployment's settings: Deployment annotations over the namespace layer (SPEC §3).
import type { V1Container } from "@kubernetes/client-node";
import { flagValue } from "./defaults/container";
import {
  APPLIED_DEFAULTS_ANNOTATION,
  DA,
  DEFAULT_PORT,
  MLSERVER_GRPC_PORT,
  MLSERVER_METRICS_PORT,
  KIND_LABEL,
  REFERENCE_DEFAULT_PORT,
  WORKLOAD_KINDS,
  type WorkloadKind,
  isWorkloadKind,
} from "./constants";
import type { ClusterConfig, InfraProfile, NamespaceSettings } from "./config";
import {
  type Autoscale,
  annotationField,
  annotationReader,
  parseAutoscale,
  parseBoolean,
  parseLabelName,
  parseName,
  parsePathPrefix,
  parsePercent,
  parsePort,
  parsePublicPaths,
  parseReference,
} from "./parse";
import { type Problem, deny, quote } from "./problems";
import { deploymentShape } from "./shape";
import type { Labels, V1Deployment } from "./types";

export interface WorkloadSettings {
  app: string;
  namespace: string;
  kind: WorkloadKind;
  /** Index of the primary container in spec.template.spec.containers. */
  containerIndex: number;
  port: number;
  /** mlserver: the gRPC and metrics ports (8081 and 8082, or the user's literal env). */
  grpcPort: number;
  metricsPort: number;
  expose: boolean;
  /** Route path, no trailing slash (`/` for the root). */
  path: string;
  publicPaths: string[];
  autoscale: Autoscale | "off";
  autoscaleCpu: number;
  profileName: string;
  profile: InfraProfile;
  settingsConfigMap: string;
  openaiBackend?: string;
  upstream?: string;
  oauth2Secret?: string;
  /** The Deployment's spec.selector.matchLabels: pod selector of every companion. */
  selector: Labels;
  ns: NamespaceSettings;
}

/** A literal port number in the container's env var `name` (a value from a Secret cannot be seen). */
function literalPort(c: V1Container, name: string): number | undefined {
  const value = (c.env ?? []).find(e => e.name === name)?.value;
  return value !== undefined && /^[0-9]{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535 ? Number(value) : undefined;
}

/** The port an address such as `0.0.0.0:4180`, `:4180` or `http://0.0.0.0:4180` names. */
function addressPort(address: string | undefined): number | undefined {
  const m = address === undefined ? null : /:([0-9]{1,5})$/.exec(address);
  return m && Number(m[1]) >= 1 && Number(m[1]) <= 65535 ? Number(m[1]) : undefined;
}

/** The port the container's env var `name` sets, as ownPort reports it. */
function envPort(c: V1Container, name: string): { port: number; field: string } | undefined {
  const port = literalPort(c, name);
  return port === undefined ? undefined : { port, field: `env[${name}]` };
}

/** The app's own port setting (SPEC §13.1): the port the program listens on, whatever the module thinks. */
export function ownPort(kind: WorkloadKind, c: V1Container): { port: number; field: string } | undefined {
  if (kind === "librechat") return envPort(c, "PORT");
  if (kind === "mlserver") return envPort(c, "MLSERVER_HTTP_PORT");
  const flag = addressPort(flagValue(c, "http-address"));
  if (flag !== undefined) return { port: flag, field: "args" };
  const fromEnv = addressPort((c.env ?? []).find(e => e.name === "OAUTH2_PROXY_HTTP_ADDRESS")?.value);
  return fromEnv === undefined ? undefined : { port: fromEnv, field: "env[OAUTH2_PROXY_HTTP_ADDRESS]" };
}

export const KNOWN_DEPLOYMENT_ANNOTATIONS: readonly string[] = [...Object.values(DA), APPLIED_DEFAULTS_ANNOTATION];

/** A DNS-1035 label: what a Service name must be (SPEC §12.3). */
export const isServiceName = (name: string): boolean => /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name);

export const objectRef = (d: { metadata?: { namespace?: string; name?: string } }): string =>
  `${d.metadata?.namespace ?? "default"}/${d.metadata?.name ?? ""}`;

/** The kind label's value, or undefined for a Deployment the module does not manage. */
export const kindLabel = (d: V1Deployment): string | undefined => d.metadata?.labels?.[KIND_LABEL];

export const isManaged = (d: V1Deployment): boolean => kindLabel(d) !== undefined;

export function resolveWorkload(
  deployment: V1Deployment,
  ns: NamespaceSettings,
  cluster: ClusterConfig,
): { settings?: WorkloadSettings; problems: Problem[] } {
  const object = `${ns.name}/${typeof deployment.metadata?.name === "string" ? deployment.metadata.name : ""}`;
  const shape = deploymentShape(deployment);
  if (shape.length > 0) return { problems: shape.map(f => deny(object, f)) };
  const problems: Problem[] = [];
  const a: Record<string, string> = deployment.metadata?.annotations ?? {};
  const kindValue = kindLabel(deployment) ?? "";
  if (!isWorkloadKind(kindValue)) {
    problems.push(
      deny(object, {
        field: `metadata.labels[${KIND_LABEL}]`,
        what: `${quote(kindValue)} is not a known kind`,
        fix: `use one of ${WORKLOAD_KINDS.join(", ")}`,
      }),
    );
  }
  const take = annotationReader(a, object, problems, KNOWN_DEPLOYMENT_ANNOTATIONS, "Deployment");
  const kind = isWorkloadKind(kindValue) ? kindValue : "mlserver";
  const app = deployment.metadata?.name ?? "";
  if (!isServiceName(app)) {
    problems.push(
      deny(object, {
        field: "metadata.name",
        what: `${quote(app)} is not a valid Service name, and every companion is named after the Deployment`,
        fix: "name it with at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
      }),
    );
  }
  const namespace = ns.name;

  const containers = deployment.spec?.template?.spec?.containers ?? [];
  const containerName = take(DA.container, (f, s) => parseLabelName(f, s, "container"));
  let containerIndex = 0;
  if (containers.length === 0) {
    problems.push(deny(object, { field: "spec.template.spec.containers", what: "has no containers", fix: "add the workload's container" }));
  } else if (containerName !== undefined) {
    containerIndex = containers.findIndex(c => c.name === containerName);
    if (containerIndex < 0) {
      problems.push(
        deny(object, {
          field: annotationField(DA.container),
          what: `no container is named ${quote(containerName)}`,
          fix: `name one of ${containers.map(c => quote(c.name)).join(", ")}, or remove the annotation to use the first container`,
        }),
      );
      containerIndex = 0;
    }
  }

  const selector = deployment.spec?.selector?.matchLabels;
  if (!selector || Object.keys(selector).length === 0) {
    problems.push(
      deny(object, {
        field: "spec.selector.matchLabels",
        what: "is empty",
        fix: "select the pods with matchLabels such as { app: <name> }: companions select pods by them",
      }),
    );
  }

  const profileName = take(DA.infraProfile, (f, s) => parseLabelName(f, s, "infra profile")) ?? "default";
  const profile = cluster.infraProfiles[profileName];
  if (!profile) {
    problems.push(
      deny(object, {
        field: annotationField(DA.infraProfile),
        what: `${quote(profileName)} is not a known infra profile`,
        fix: `use one of ${Object.keys(cluster.infraProfiles).sort().join(", ")}, or add it under infraProfiles in the ai-workloads-config ConfigMap`,
      }),
    );
  }

  const primary = containers[containerIndex];
  const annotatedPort = take(DA.port, parsePort);
  const own = primary ? ownPort(kind, primary) : undefined;
  if (own && annotatedPort !== undefined && own.port !== annotatedPort) {
    problems.push(
      deny(object, {
        field: `spec.template.spec.containers[${primary!.name}].${own.field}`,
        what: `makes the app listen on port ${own.port}, but ${DA.port} is "${annotatedPort}"`,
        fix: `make them agree, or remove ${DA.port} so that the app's own setting is the app port`,
      }),
    );
  }
  const port = annotatedPort ?? own?.port ?? DEFAULT_PORT[kind];
  const grpcPort = (kind === "mlserver" && primary && literalPort(primary, "MLSERVER_GRPC_PORT")) || MLSERVER_GRPC_PORT;
  const metricsPort = (kind === "mlserver" && primary && literalPort(primary, "MLSERVER_METRICS_PORT")) || MLSERVER_METRICS_PORT;
  if (kind === "mlserver" && (port === grpcPort || port === metricsPort)) {
    problems.push(
      deny(object, {
        field:
          annotatedPort !== undefined ? annotationField(DA.port) : `spec.template.spec.containers[${primary?.name}].${own?.field ?? "env"}`,
        what: `the app port ${port} is also MLServer's ${port === grpcPort ? `gRPC port (${grpcPort})` : `metrics port (${metricsPort})`}`,
        fix: `choose another app port: MLServer binds HTTP, gRPC and metrics each to a port of its own`,
      }),
    );
  }

  const defaultPath = `${ns.basePath === "/" ? "" : ns.basePath}/${app}`;
  const settings: WorkloadSettings = {
    app,
    namespace,
    kind,
    containerIndex,
    port,
    grpcPort,
    metricsPort,
    expose: take(DA.expose, parseBoolean) ?? true,
    path: take(DA.pathPrefix, (f, s) => parsePathPrefix(f, s, ns.basePath)) ?? defaultPath,
    publicPaths: take(DA.publicPaths, parsePublicPaths) ?? (kind === "oauth2-proxy" ? ["/*"] : []),
    autoscale: take(DA.autoscale, parseAutoscale) ?? (kind === "mlserver" ? { min: 1, max: 10 } : "off"),
    autoscaleCpu: take(DA.autoscaleCpu, parsePercent) ?? 60,
    profileName,
    profile: profile ?? {},
    settingsConfigMap: take(DA.settingsConfigMap, (f, s) => parseName(f, s, "ConfigMap")) ?? `${app}-settings`,
    openaiBackend: take(DA.openaiBackend, (f, s) => parseReference(f, s, namespace, REFERENCE_DEFAULT_PORT["openai-backend"], "/v1")),
    upstream: take(DA.upstream, (f, s) => parseReference(f, s, namespace, REFERENCE_DEFAULT_PORT.upstream, "")),
    oauth2Secret: take(DA.oauth2Secret, (f, s) => parseName(f, s, "Secret")),
    selector: selector ?? {},
    ns,
  };
  return problems.length > 0 ? { problems } : { settings, problems };
}
