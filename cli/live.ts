// What `status` and `diff` share: the kubeconfig as kubectl finds it, a ClusterApi that can only
// read, the cluster config as the reconciler reads it, and each namespace observed with the
// reconciler's own observeNamespace (SPEC §14.4). The CLI never writes to the cluster.
import { KubeConfig } from "@kubernetes/client-node";
import { type ClusterConfig, DEFAULT_CLUSTER_CONFIG, parseClusterConfig } from "../capabilities/core/config";
import { CONFIG_MAP_KEY, CONFIG_MAP_NAME, DEFAULT_CONFIG_NAMESPACE } from "../capabilities/core/constants";
import { SECURITY_KINDS } from "../capabilities/core/sync";
import type { KubeObject } from "../capabilities/core/types";
import { COMPANION_KINDS, type ClusterApi } from "../capabilities/reconcile/cluster-api";
import { kubeClusterApi } from "../capabilities/reconcile/kube-api";
import { type Observation, observeNamespace } from "../capabilities/reconcile/observe";
import { InputError } from "./input";
import { type Io, UsageError, scanArgs } from "./main";

export interface LiveOptions {
  /** undefined: the context's namespace, else `default`. */
  namespace?: string;
  all: boolean;
  kubeconfig?: string;
  context?: string;
  output?: string;
}

/** `[-n <namespace> | -A] [--kubeconfig <file>] [--context <name>]`, plus `-o` where `withOutput`. */
export function parseLiveArgs(args: readonly string[], withOutput: boolean): LiveOptions {
  const opts: LiveOptions = { all: false };
  scanArgs(args, (flag, value) => {
    if (flag === "-n" || flag === "--namespace") opts.namespace = value();
    else if (flag === "-A" || flag === "--all-namespaces") opts.all = true;
    else if (flag === "--kubeconfig") opts.kubeconfig = value();
    else if (flag === "--context") opts.context = value();
    else if (withOutput && (flag === "-o" || flag === "--output")) opts.output = value();
    else return false;
    return true;
  });
  if (opts.all && opts.namespace !== undefined) throw new UsageError("give -n <namespace> or -A, not both");
  return opts;
}

/** The API server could not be asked (unreachable, credentials refused): exit 2 with one line. */
export class LiveError extends Error {}

/** `--kubeconfig`, else KUBECONFIG, ~/.kube/config or in-cluster (client-node's loadFromDefault, as kubectl). */
export function loadKubeConfig(opts: LiveOptions): { kc: KubeConfig; namespace: string } {
  const kc = new KubeConfig();
  if (opts.kubeconfig !== undefined) {
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new InputError(`${opts.kubeconfig}: cannot read kubeconfig: ${code ?? (e as Error).message}`);
    }
  } else {
    try {
      kc.loadFromDefault();
    } catch (e) {
      throw new InputError(`cannot load a kubeconfig: ${(e as Error).message}`);
    }
  }
  if (opts.context !== undefined) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map(c => c.name);
      throw new UsageError(
        `no context ${JSON.stringify(opts.context)} in the kubeconfig${known.length ? `; it has ${known.join(", ")}` : ""}`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  const namespace = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  return { kc, namespace };
}

/**
 * The reconciler's ClusterApi without its writes: status and diff only get and list. The write
 * methods are never called; they throw so that a mistake could not write (defence in depth).
 */
export function readOnlyClusterApi(kc: KubeConfig, configNamespace = DEFAULT_CONFIG_NAMESPACE): ClusterApi {
  const api = kubeClusterApi(configNamespace, kc);
  const refuse = (what: string) => async (): Promise<never> => {
    throw new Error(`ai-workloads status and diff only read; ${what} refused`);
  };
  return { ...api, apply: refuse("apply"), delete: refuse("delete"), createEvent: refuse("createEvent") };
}

export interface LiveConfig {
  config: ClusterConfig;
  /** As the reconciler's: false while no valid config is known, so no security object counts for pruning. */
  configValid: boolean;
}

/** The cluster config as the reconciler reads it (SPEC §12.4); what is wrong goes to stderr as a warning. */
export async function loadLiveConfig(api: ClusterApi, io: Io): Promise<LiveConfig> {
  const where = `${api.configNamespace}/${CONFIG_MAP_NAME}`;
  const found = await api.readConfig();
  const gap = (why: string): LiveConfig => {
    io.stderr(
      `warning: ${why}; judged with the built-in defaults, and no RequestAuthentication, AuthorizationPolicy or VirtualService counts for deletion (the module keeps its last valid config)\n`,
    );
    return { config: DEFAULT_CLUSTER_CONFIG, configValid: false };
  };
  if (found === undefined) {
    // A cluster that never had the ConfigMap runs on the defaults; one whose security objects exist had one.
    const kinds = COMPANION_KINDS.filter(k => SECURITY_KINDS.has(k.kind));
    const made = (await Promise.all(kinds.map(k => api.anyManaged(k.apiVersion, k.kind)))).some(Boolean);
    return made ? gap(`ConfigMap ${where} is gone`) : { config: DEFAULT_CLUSTER_CONFIG, configValid: true };
  }
  if (found.text === undefined) return gap(`${where}: data[${CONFIG_MAP_KEY}]: is missing`);
  const parsed = parseClusterConfig(found.text);
  if (parsed.ok) return { config: parsed.config, configValid: true };
  for (const f of parsed.findings) io.stderr(`warning: ${where}: data[${CONFIG_MAP_KEY}].${f.field}: ${f.what}; ${f.fix}\n`);
  return gap(`${where}: invalid ${CONFIG_MAP_KEY}`);
}

export interface LiveView extends LiveConfig {
  observations: Observation[];
  /** The module's Events in those namespaces, and those on their Namespaces (stored in `default`). */
  events: KubeObject[];
}

/** Observes `-n` (one namespace) or `-A` (every namespace of interest, as the resync) in name order. */
export async function observeLive(api: ClusterApi, opts: LiveOptions, namespace: string, io: Io): Promise<LiveView> {
  try {
    const live = await loadLiveConfig(api, io);
    const namespaces = opts.all ? await api.namespacesOfInterest() : [namespace];
    const observations: Observation[] = [];
    for (const ns of [...namespaces].sort()) {
      const seen = await observeNamespace(api, ns, live.config, live.configValid);
      if (seen) observations.push(seen);
      else if (!opts.all) io.stderr(`warning: namespace ${ns} does not exist\n`);
    }
    const events = opts.all
      ? await api.moduleEvents()
      : [...(await api.moduleEvents(namespace)), ...(namespace === "default" ? [] : await api.moduleEvents("default"))];
    return { ...live, observations, events };
  } catch (e) {
    // Only the API server's answers and network failures are exit 2; anything else is a bug (exit 3).
    if (isApiError(e)) throw new LiveError(liveErrorText(e));
    throw e;
  }
}

/** An HTTP status from the API server, or a failure to reach it (node-fetch's FetchError, a system error code). */
function isApiError(e: unknown): boolean {
  if (statusCode(e) !== undefined) return true;
  const x = e as { name?: unknown; type?: unknown; code?: unknown; errno?: unknown; cause?: { code?: unknown } };
  // client-node refuses a kubeconfig's plain-http server unless TLS verification is off.
  if (e instanceof Error && /HTTP protocol is not allowed/.test(e.message)) return true;
  return (
    x.name === "FetchError" ||
    x.type === "system" ||
    typeof x.code === "string" ||
    typeof x.errno === "string" ||
    typeof x.cause?.code === "string"
  );
}

const statusCode = (e: unknown): number | undefined => {
  const x = e as { code?: unknown; statusCode?: unknown };
  return typeof x.code === "number" ? x.code : typeof x.statusCode === "number" ? x.statusCode : undefined;
};

/** One line for what went wrong talking to the API server. */
export function liveErrorText(e: unknown): string {
  const code = statusCode(e);
  const body = (e as { body?: unknown }).body;
  let message: string | undefined;
  try {
    const status = (typeof body === "string" ? JSON.parse(body) : body) as { message?: unknown } | undefined;
    if (typeof status?.message === "string") message = status.message;
  } catch {
    // not a Status
  }
  // No Status in the body (another client's error): its own first line.
  if (message === undefined && e instanceof Error && !e.message.startsWith("HTTP-Code:")) message = e.message.split("\n")[0];
  if (code === 401) return "the API server refused the credentials (401 Unauthorized); check the kubeconfig's user";
  if (code === 403) return `forbidden (403): ${message ?? "the kubeconfig's user may not read this"}`;
  // fetch's "request to … failed, reason: connect ECONNREFUSED …" and friends.
  const text = e instanceof Error ? e.message : String(e);
  const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as { errno?: string }).errno;
  if (code !== undefined) return `the API server answered ${code}: ${message ?? text.split("\n")[0]}`;
  const line = text.split("\n")[0];
  return `cannot reach the API server: ${cause && !line.includes(cause) ? `${cause}: ` : ""}${line}`;
}
