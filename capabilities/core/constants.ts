// Names fixed by the contract (SPEC.md): tests outside the project rely on them.

export const KIND_LABEL = "ai-workloads.io/kind";
export const APP_LABEL = "ai-workloads.io/app";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "ai-workloads";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const FIELD_MANAGER = "ai-workloads";
/** The Events' source and reportingComponent: how the module finds its own Events again. */
export const REPORTING_COMPONENT = "ai-workloads";

export const CONFIG_MAP_NAME = "ai-workloads-config";
export const CONFIG_MAP_KEY = "config.yaml";
export const DEFAULT_CONFIG_NAMESPACE = "pepr-system";

export const WORKLOAD_KINDS = ["mlserver", "librechat", "oauth2-proxy"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export const isWorkloadKind = (value: string): value is WorkloadKind => (WORKLOAD_KINDS as readonly string[]).includes(value);

export const DEFAULT_PORT: Record<WorkloadKind, number> = {
  mlserver: 8000,
  librechat: 3000,
  "oauth2-proxy": 4180,
};

/** Port a bare `<name>` reference defaults to: that of the kind the reference expects. */
export const REFERENCE_DEFAULT_PORT = { "openai-backend": DEFAULT_PORT.mlserver, upstream: DEFAULT_PORT.librechat };

export const ANNOTATION_PREFIX = "ai-workloads.io/";

/** Deployment annotations (SPEC §3). */
export const DA = {
  port: "ai-workloads.io/port",
  container: "ai-workloads.io/container",
  expose: "ai-workloads.io/expose",
  pathPrefix: "ai-workloads.io/path-prefix",
  publicPaths: "ai-workloads.io/public-paths",
  autoscale: "ai-workloads.io/autoscale",
  autoscaleCpu: "ai-workloads.io/autoscale-cpu",
  infraProfile: "ai-workloads.io/infra-profile",
  settingsConfigMap: "ai-workloads.io/settings-configmap",
  openaiBackend: "ai-workloads.io/openai-backend",
  upstream: "ai-workloads.io/upstream",
  oauth2Secret: "ai-workloads.io/oauth2-secret",
} as const;

/** Module-owned Deployment annotation: what admission filled (SPEC §12.1). */
export const APPLIED_DEFAULTS_ANNOTATION = "ai-workloads.io/applied-defaults";

/** Namespace annotations (SPEC §3). */
export const NA = {
  host: "ai-workloads.io/host",
  gateway: "ai-workloads.io/gateway",
  basePath: "ai-workloads.io/base-path",
  tenantId: "ai-workloads.io/aad-tenant-id",
  audience: "ai-workloads.io/aad-audience",
  requestAuth: "ai-workloads.io/request-auth",
  requireJwt: "ai-workloads.io/require-jwt",
  allowSameNamespace: "ai-workloads.io/allow-same-namespace",
} as const;

/** Pod template annotation recording the profile applied. */
export const POD_INFRA_PROFILE_ANNOTATION = "ai-workloads.io/infra-profile";

export const VIRTUAL_SERVICE_NAME = "ai-workloads";
export const REQUEST_AUTHENTICATION_NAME = "ai-workloads-aad";
export const REQUIRE_JWT_POLICY_NAME = "ai-workloads-require-jwt";
export const publicPolicyName = (app: string): string => `${app}-public`;

export const MLSERVER_METRICS_PORT = 8082;
/** MLServer always serves gRPC inference too (SPEC §4). */
export const MLSERVER_GRPC_PORT = 8081;
export const MLSERVER_MODELS_PATH = "/mnt/models";
export const MLSERVER_SETTINGS_VOLUME = "mlserver-settings";
