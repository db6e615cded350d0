// MLServer's settings.json against what the pod expects (SPEC §13.1). MLServer reads
// `settings.json` from the folder it is started on, and its values win over its MLSERVER_* env:
// a port or host there that differs from the module's leaves the Service, the probes and the
// metrics scrape pointing at nothing. Pure: the reconciler reads the ConfigMap and reports.
import { DA, MLSERVER_MODELS_PATH, MLSERVER_SETTINGS_VOLUME } from "./constants";
import { type Finding, quote } from "./problems";
import type { V1Deployment } from "./types";
import type { WorkloadSettings } from "./workload";

/** The key of the settings ConfigMap that MLServer reads as `/mnt/models/settings.json`. */
export const SETTINGS_JSON_KEY = "settings.json";

const trimSlashes = (path: string): string => path.replace(/\/+$/, "");

/**
 * Whether MLServer in this stored Deployment reads its settings from `s.settingsConfigMap`: an
 * mlserver whose primary container mounts the module's `mlserver-settings` volume, made from that
 * ConfigMap, at /mnt/models (and nothing else there), and is started on /mnt/models (no command
 * or args: the image's default; or one of them names the folder). Anything else the user
 * mounted there, or another folder, is theirs: the module cannot see what MLServer reads.
 */
export function readsSettingsConfigMap(deployment: V1Deployment, s: WorkloadSettings): boolean {
  if (s.kind !== "mlserver") return false;
  const pod = deployment.spec?.template?.spec;
  const c = pod?.containers?.[s.containerIndex];
  if (!c) return false;
  const mounts = (c.volumeMounts ?? []).filter(m => typeof m.mountPath === "string" && trimSlashes(m.mountPath) === MLSERVER_MODELS_PATH);
  if (mounts.length !== 1) return false;
  const [mount] = mounts;
  if (mount.name !== MLSERVER_SETTINGS_VOLUME || mount.subPath || mount.subPathExpr) return false;
  const volume = (pod?.volumes ?? []).find(v => v.name === MLSERVER_SETTINGS_VOLUME);
  if (volume?.configMap?.name !== s.settingsConfigMap) return false;
  const words = [...(c.command ?? []), ...(c.args ?? [])];
  return (
    words.length === 0 ||
    words.some(w =>
      String(w)
        .split(/[\s'"=;]+/)
        .some(t => trimSlashes(t) === MLSERVER_MODELS_PATH),
    )
  );
}

/** A port as MLServer's settings take it: an integer, or a string of digits (pydantic coerces it). */
function portOf(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/** A JSON value as the file has it: strings quoted, anything long cut short. */
function shown(value: unknown): string {
  if (typeof value === "string") return quote(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * What in `settingsJson` (the text of the ConfigMap's `settings.json`) differs from what the pod
 * expects: `http_port` = the app port, `grpc_port` and `metrics_port` = MLServer's gRPC and
 * metrics ports, `host` absent or "0.0.0.0". Text that is not a JSON object is a finding too:
 * MLServer does not start on it. Each finding's field is `<settings-configmap>/settings.json: <key>`.
 */
export function settingsConflicts(settingsJson: string, s: WorkloadSettings): Finding[] {
  const where = `${s.settingsConfigMap}/${SETTINGS_JSON_KEY}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(settingsJson);
  } catch (e) {
    return [
      {
        field: where,
        what: `is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
        fix: "correct it: MLServer does not start on a settings.json it cannot read",
      },
    ];
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return [
      {
        field: where,
        what: `is ${shown(parsed)}, not a JSON object`,
        fix: "make it a JSON object of MLServer settings, or remove settings.json from the ConfigMap",
      },
    ];
  }
  const settings = parsed as Record<string, unknown>;
  const findings: Finding[] = [];
  const ports = [
    { key: "http_port", expected: s.port, serves: "HTTP", env: "MLSERVER_HTTP_PORT", others: [s.grpcPort, s.metricsPort] },
    { key: "grpc_port", expected: s.grpcPort, serves: "gRPC", env: "MLSERVER_GRPC_PORT", others: [s.port, s.metricsPort] },
    { key: "metrics_port", expected: s.metricsPort, serves: "metrics", env: "MLSERVER_METRICS_PORT", others: [s.port, s.grpcPort] },
  ];
  for (const { key, expected, serves, env, others } of ports) {
    if (!(key in settings)) continue;
    const value = settings[key];
    const port = portOf(value);
    if (port === expected) continue;
    // Following the file is a fix only for a port the module can use for that purpose.
    const usable = port !== undefined && !others.includes(port);
    const follow = key === "http_port" ? `set ${DA.port}: "${port}"` : `set the container's env ${env} to "${port}"`;
    findings.push({
      field: `${where}: ${key}`,
      what: `is ${shown(value)}, but the pod serves ${serves} on ${expected} (${env})`,
      fix: usable ? `remove ${key} from settings.json or ${follow}` : `remove ${key} from settings.json or set it to ${expected}`,
    });
  }
  if ("host" in settings && settings.host !== "0.0.0.0") {
    findings.push({
      field: `${where}: host`,
      what: `is ${shown(settings.host)}, but MLServer must listen on all addresses (0.0.0.0) for the Service and the probes to reach it`,
      fix: `remove host from settings.json or set it to "0.0.0.0"`,
    });
  }
  return findings;
}
