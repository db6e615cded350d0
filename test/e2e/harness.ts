// Helpers for suites that run against the test control plane (hack/controlplane) with the module
// served for real (hack/e2e/run.mjs sets both up; test/e2e/environment.ts does the module part).
// Tests talk to the API server only: kubectl as the admin, the audit log, the apiserver metrics.
// Everything here waits on conditions with timeouts; nothing sleeps for a fixed time.
import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { request } from "node:https";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";

export const REPO = resolve(__dirname, "..", "..");
/** All e2e state: control plane run dir, build output, module files, logs, state.json. */
export const E2E_DIR = resolve(process.env.AI_WORKLOADS_E2E_DIR ?? join(REPO, ".tmp", "e2e"));
export const STATE_FILE = join(E2E_DIR, "state.json");
/** Preloaded into the module: moves its listen(3000) to 127.0.0.1:<port>. */
export const LISTEN_SHIM = join(REPO, "hack", "e2e", "loopback-listen.cjs");

export const KIND_LABEL = "ai-workloads.io/kind";
/** kubectl's fully qualified types of the companion kinds, for one `kubectl get`. */
export const COMPANION_TYPES =
  "services,horizontalpodautoscalers.autoscaling,virtualservices.networking.istio.io,requestauthentications.security.istio.io,authorizationpolicies.security.istio.io";
export const TYPE_OF: Record<string, string> = {
  Service: "service",
  HorizontalPodAutoscaler: "horizontalpodautoscalers.autoscaling",
  VirtualService: "virtualservices.networking.istio.io",
  RequestAuthentication: "requestauthentications.security.istio.io",
  AuthorizationPolicy: "authorizationpolicies.security.istio.io",
};

export const CONFIG_MAP_NAME = "ai-workloads-config";
/** The webhook for labelled Deployments, as API server messages name it. */
export const DEPLOYMENT_WEBHOOK = "deployments.pepr-ai-workloads.pepr.dev";
/** The watcher's resync period in seconds (capabilities/reconcile/resync.ts); environment.ts sets it for the watcher. */
export const RESYNC_ENV = "AI_WORKLOADS_RESYNC_SECONDS";
/** The period the e2e watcher runs with unless AI_WORKLOADS_RESYNC_SECONDS is set for the run. */
export const E2E_RESYNC_SECONDS = 15;

// ---- state ----------------------------------------------------------------------------------

export type ControllerRole = "admission" | "watcher";

export interface ControllerState {
  role: ControllerRole;
  /** Loopback port the process serves HTTPS on (webhooks, /healthz, /metrics). */
  port: number;
  pidFile: string;
  logFile: string;
  /** Env of the Pepr Deployment's container, as the built controller would get it. */
  env: Record<string, string>;
}

export interface E2eState {
  repo: string;
  dir: string;
  /** hack/controlplane run dir ($AI_WORKLOADS_RUN). */
  cpRun: string;
  /** Admin kubeconfig (O=system:masters). */
  kubeconfig: string;
  kubectl: string;
  /** helm built by hack/controlplane/build.sh (HELM_VERSION in versions.env); used for `helm template` only. */
  helm: string;
  apiserverUrl: string;
  caFile: string;
  auditLog: string;
  /** `pepr build` + hack/postbuild.mjs output used for this run. */
  distDir: string;
  manifest: string;
  /** The module code taken from the module Secret (its sha256 is checked against the Deployment). */
  moduleFile: string;
  moduleHash: string;
  apiPath: string;
  serviceAccount: { namespace: string; name: string; user: string; kubeconfig: string };
  tls: { ca: string; cert: string; key: string };
  /** Where the module reads ai-workloads-config (env AI_WORKLOADS_CONFIG_NAMESPACE). */
  configNamespace: string;
  /** Namespace for readiness probes (dry-run only). */
  probeNamespace: string;
  controllers: ControllerState[];
  /** The cluster config currently applied, as given to `render --config`. */
  configFile?: string;
}

let cached: E2eState | undefined;

export function state(): E2eState {
  if (cached) return cached;
  if (!existsSync(STATE_FILE)) {
    throw new Error(
      `${STATE_FILE} not found: run the suite with \`npm run test:e2e\` (hack/e2e/run.mjs sets up the control plane and the module)`,
    );
  }
  cached = JSON.parse(readFileSync(STATE_FILE, "utf8")) as E2eState;
  return cached;
}

export function saveState(s: E2eState): void {
  mkdirSync(dirname(STATE_FILE), { recursive: true });
  writeFileSync(STATE_FILE, `${JSON.stringify(s, null, 2)}\n`);
  cached = s;
}

// ---- small utilities -------------------------------------------------------------------------

/** A labelled mlserver Deployment with one container and the given annotations. */
export function mlserver(namespace: string, name: string, annotations: Record<string, string> = {}): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { [KIND_LABEL]: "mlserver" }, annotations },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": name } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": name } },
        spec: { containers: [{ name: "mlserver", image: "docker.io/seldonio/mlserver:1.6.1" }] },
      },
    },
  };
}

export const delay = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** Polls `probe` until it returns a value other than undefined/null/false; throws with the last error on timeout. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 200 } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `: ${last.message}` : last !== undefined ? `: ${String(last)}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await delay(intervalMs);
  }
}

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export const toYaml = (objects: readonly unknown[]): string =>
  objects.map(o => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");

export const parseYamlObjects = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map(d => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null && o !== undefined);

export const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * Where `actual` does not contain `expected`: every key of an expected object must be in the
 * actual one with a matching value; arrays must have the same length and match item by item.
 * Extra keys in `actual` (server defaults, status, managedFields) are fine.
 */
export function subsetMismatches(actual: unknown, expected: unknown, path = ""): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length)
      return [`${path}: expected ${expected.length} items, got ${actual.length}: ${JSON.stringify(actual)}`];
    return expected.flatMap((e, i) => subsetMismatches(actual[i], e, `${path}[${i}]`));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual))
      return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([k, v]) =>
      subsetMismatches((actual as Record<string, unknown>)[k], v, path ? `${path}.${k}` : k),
    );
  }
  return actual === expected ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

// ---- kubectl -----------------------------------------------------------------------------------

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  input?: string;
  /** Defaults to the admin kubeconfig. */
  kubeconfig?: string;
  timeoutMs?: number;
}

/** Runs the control plane's kubectl; never rejects (look at `code`). */
export function kubectl(args: readonly string[], opts: KubectlOptions = {}): Promise<Result> {
  const s = state();
  return run(s.kubectl, args, {
    input: opts.input,
    env: { KUBECONFIG: opts.kubeconfig ?? s.kubeconfig },
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(args: readonly string[], opts: KubectlOptions = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Runs the pinned helm (hack/controlplane/build.sh); never rejects (look at `code`). Its config,
 * cache and data dirs are in the e2e dir, so nothing of the user's helm setup is read or written.
 */
export function helm(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<Result> {
  const s = state();
  if (!s.helm) throw new Error(`no helm in ${STATE_FILE}: the control plane was started before helm was added; run the suite again`);
  const home = join(s.dir, "helm");
  return run(s.helm, args, {
    env: {
      KUBECONFIG: s.kubeconfig,
      HELM_CONFIG_HOME: join(home, "config"),
      HELM_CACHE_HOME: join(home, "cache"),
      HELM_DATA_HOME: join(home, "data"),
    },
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<Result> {
  return new Promise(resolvePromise => {
    const child = execFile(
      cmd,
      [...args],
      {
        env: { ...process.env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost", ...opts.env },
        maxBuffer: 256 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 60_000,
        cwd: opts.cwd ?? REPO,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === 1 && !stderr ? err.message : "") });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** The object as stored, or undefined when it does not exist. */
export async function getObject<T = Obj>(kind: string, name: string, namespace?: string, kubeconfig?: string): Promise<T | undefined> {
  const r = await kubectl(["get", kind, name, ...(namespace ? ["-n", namespace] : []), "-o", "json"], { kubeconfig });
  if (r.code === 0) return JSON.parse(r.stdout) as T;
  if (/NotFound|not found/.test(r.stderr)) return undefined;
  throw new Error(`kubectl get ${kind} ${name} failed: ${r.stderr.trim()}`);
}

export async function listObjects<T = Obj>(kind: string, namespace?: string, selector?: string): Promise<T[]> {
  const out = await kubectlOk([
    "get",
    kind,
    ...(namespace ? ["-n", namespace] : ["-A"]),
    ...(selector ? ["-l", selector] : []),
    "-o",
    "json",
  ]);
  return (JSON.parse(out) as { items: T[] }).items;
}

export interface ApplyOptions {
  /** kubectl verb: `create` (default: the object must be new) or `apply` (client-side) or `apply-server` (server-side). */
  verb?: "create" | "apply" | "apply-server";
  dryRun?: boolean;
  namespace?: string;
  kubeconfig?: string;
  fieldManager?: string;
}

/**
 * Sends YAML text or objects to the API server; returns kubectl's result with `-o json` output.
 * Objects go as one JSON List, never as YAML: kubectl reads YAML 1.1, where `yes`, `on` or `0x1`
 * are not strings.
 */
export function applyYaml(input: string | readonly unknown[], opts: ApplyOptions = {}): Promise<Result> {
  const text = typeof input === "string" ? input : JSON.stringify({ apiVersion: "v1", kind: "List", items: input });
  const verb = opts.verb ?? "create";
  const args = [
    ...(verb === "create" ? ["create"] : ["apply"]),
    ...(verb === "apply-server"
      ? ["--server-side", "--force-conflicts", `--field-manager=${opts.fieldManager ?? "ai-workloads-e2e"}`]
      : []),
    ...(opts.dryRun ? ["--dry-run=server"] : []),
    ...(opts.namespace ? ["-n", opts.namespace] : []),
    "-o",
    "json",
    "-f",
    "-",
  ];
  return kubectl(args, { input: text, kubeconfig: opts.kubeconfig });
}

/** Objects from kubectl's `-o json` output (one object or a List). */
export function outputObjects(stdout: string): Obj[] {
  if (!stdout.trim()) return [];
  const parsed = JSON.parse(stdout) as Obj & { items?: Obj[] };
  return parsed.kind === "List" && Array.isArray(parsed.items) ? parsed.items : [parsed];
}

/** The message of a webhook denial in kubectl's stderr. */
export function denial(stderr: string): { webhook: string; message: string } | undefined {
  const m = /admission webhook "([^"]+)" denied the request: ([\s\S]*)$/.exec(stderr);
  return m ? { webhook: m[1], message: m[2].trim() } : undefined;
}

/** The texts kubectl printed as `Warning: <text>`. */
export const kubectlWarnings = (stderr: string): string[] =>
  stderr
    .split("\n")
    .filter(l => l.startsWith("Warning: "))
    .map(l => l.slice("Warning: ".length));

// ---- namespaces ----------------------------------------------------------------------------------

/** Deletes the namespaces (if present) and waits until they are gone. */
export async function deleteNamespaces(names: readonly string[], opts: WaitOptions = {}): Promise<void> {
  if (names.length === 0) return;
  await kubectlOk(["delete", "namespace", ...names, "--ignore-not-found", "--wait=false"]);
  await waitFor(
    `namespaces ${names.join(", ")} to be deleted`,
    async () => {
      const r = await kubectl(["get", "namespace", ...names, "--ignore-not-found", "-o", "name"]);
      return r.code === 0 && r.stdout.trim() === "";
    },
    { timeoutMs: 180_000, intervalMs: 250, ...opts },
  );
}

/** A namespace that holds nothing from an earlier test: deleted if present, then created. */
export async function freshNamespace(name: string, annotations: Record<string, string> = {}): Promise<void> {
  await deleteNamespaces([name]);
  const r = await applyYaml([{ apiVersion: "v1", kind: "Namespace", metadata: { name, annotations } }]);
  if (r.code !== 0) throw new Error(`cannot create namespace ${name}: ${r.stderr.trim()}`);
}

// ---- audit log ---------------------------------------------------------------------------------

export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string; subresource?: string };
  responseStatus?: { code?: number; message?: string };
  annotations?: Record<string, string>;
}

/** A position in the audit log; events after it are those of requests made later. */
export type AuditMark = number;

/** The current end of the audit log (the apiserver writes it in blocking mode: a finished request is on disk). */
export const auditMark = (): AuditMark => statSync(state().auditLog).size;

/** Audit events (writes only: the policy logs create/update/patch/delete/deletecollection) since a mark. */
export function auditEvents(since: AuditMark = 0): AuditEvent[] {
  const file = state().auditLog;
  const size = statSync(file).size;
  if (size <= since) return [];
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(size - since);
    readSync(fd, buf, 0, buf.length, since);
    return buf
      .toString("utf8")
      .split("\n")
      .filter(l => l.trim() !== "")
      .map(l => JSON.parse(l) as AuditEvent);
  } finally {
    closeSync(fd);
  }
}

/** Write requests by one user (e.g. the module's ServiceAccount) since a mark. */
export const writesBy = (user: string, since: AuditMark = 0): AuditEvent[] => auditEvents(since).filter(e => e.user.username === user);

/** Write requests RBAC refused (audit annotation authorization.k8s.io/decision: forbid), by default the module's. */
export const forbiddenWrites = (user: string = state().serviceAccount.user, since: AuditMark = 0): AuditEvent[] =>
  writesBy(user, since).filter(e => e.annotations?.["authorization.k8s.io/decision"] === "forbid");

/** The `mutation.webhook.admission.k8s.io/round_N_index_M` audit annotations of an event, parsed. */
export function mutationAnnotations(e: AuditEvent): { configuration: string; webhook: string; mutated: boolean }[] {
  return Object.entries(e.annotations ?? {})
    .filter(([k]) => k.startsWith("mutation.webhook.admission.k8s.io/"))
    .map(([, v]) => JSON.parse(v) as { configuration: string; webhook: string; mutated: boolean });
}

// ---- apiserver metrics ---------------------------------------------------------------------------

/** How often the apiserver has called each admission webhook (by webhook name), from its /metrics. */
export async function webhookCallCounts(): Promise<Record<string, number>> {
  const text = await kubectlOk(["get", "--raw", "/metrics"]);
  const counts: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^apiserver_admission_webhook_admission_duration_seconds_count\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const name = /(?:^|,)name="([^"]*)"/.exec(m[1])?.[1];
    if (name) counts[name] = (counts[name] ?? 0) + Number(m[2]);
  }
  return counts;
}

/** How many requests the API server has served per verb and resource (all codes), from its /metrics. */
export async function apiserverRequestCount(verb: string, resource: string): Promise<number> {
  const text = await kubectlOk(["get", "--raw", "/metrics"]);
  let total = 0;
  for (const line of text.split("\n")) {
    const m = /^apiserver_request_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map(l => [l[1], l[2]]));
    if (labels.verb === verb && labels.resource === resource && !labels.subresource) total += Number(m[2]);
  }
  return total;
}

// ---- the module process ---------------------------------------------------------------------------

/** The watcher's resync period (ms), as its process was started with it. */
export function resyncMs(): number {
  const watcher = state().controllers.find(c => c.role === "watcher");
  const seconds = Number(watcher?.env[RESYNC_ENV]);
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new Error(`the watcher runs without a short ${RESYNC_ENV}: restart the run (node hack/e2e/run.mjs up)`);
  return seconds * 1000;
}

function pidOf(c: ControllerState): number | undefined {
  if (!existsSync(c.pidFile)) return undefined;
  const pid = Number(readFileSync(c.pidFile, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True while the controller's process (checked by its command line, pids get reused) is alive. */
export function controllerRunning(c: ControllerState): boolean {
  const pid = pidOf(c);
  if (!pid) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    // Empty for a moment while the kernel execs the binary (or tears it down): not a verdict.
    if (cmdline !== "" && !cmdline.includes(state().moduleFile)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

export const moduleRunning = (): boolean => state().controllers.some(controllerRunning);

/** The environment the module process gets: the Pepr Deployment's env plus what its volumes would give. */
export function controllerEnv(s: E2eState, c: ControllerState): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    // The module bundle requires pepr and its dependencies, as /app/node_modules in the image.
    NODE_PATH: join(s.repo, "node_modules"),
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    // The ServiceAccount's identity, as in-cluster: a token kubeconfig.
    KUBECONFIG: s.serviceAccount.kubeconfig,
    ...c.env,
    // What the image mounts from Secrets: /etc/certs/tls.* and /app/api-path/value.
    SSL_KEY_PATH: s.tls.key,
    SSL_CERT_PATH: s.tls.cert,
    ...(c.role === "admission" ? { PEPR_API_PATH: s.apiPath } : {}),
    AI_WORKLOADS_E2E_PORT: String(c.port),
  };
}

/** Starts every controller process that is not running and waits until the module serves admission. */
export async function startModule(opts: WaitOptions = {}): Promise<void> {
  startModuleProcesses();
  await waitModuleReady(opts);
}

/** Starts every controller process that is not running, without waiting (e.g. while its webhooks are off). */
export function startModuleProcesses(): void {
  const s = state();
  for (const c of s.controllers) {
    if (controllerRunning(c)) continue;
    mkdirSync(dirname(c.logFile), { recursive: true });
    const out = openSync(c.logFile, "a");
    writeFileSync(c.logFile, `\n---- ${new Date().toISOString()} starting ${c.role} ----\n`, { flag: "a" });
    const child = spawn(process.execPath, ["--require", LISTEN_SHIM, s.moduleFile], {
      cwd: dirname(s.moduleFile),
      env: controllerEnv(s, c),
      detached: true, // own process group: stopModule signals the whole group
      stdio: ["ignore", out, out],
    });
    closeSync(out);
    if (!child.pid) throw new Error(`cannot start the ${c.role} module process`);
    writeFileSync(c.pidFile, `${child.pid}\n`);
    child.unref();
  }
}

const logTail = (c: ControllerState, lines = 15): string =>
  existsSync(c.logFile) ? readFileSync(c.logFile, "utf8").split("\n").slice(-lines).join("\n") : "(no log)";

/** GET https://127.0.0.1:<port>/healthz: Pepr binds it once the module has its store. */
export function healthz(c: ControllerState): Promise<boolean> {
  const s = state();
  return new Promise(resolvePromise => {
    const req = request(
      { host: "127.0.0.1", port: c.port, path: "/healthz", method: "GET", ca: readFileSync(s.tls.ca), timeout: 2000 },
      res => {
        res.resume();
        res.on("end", () => resolvePromise(res.statusCode === 200));
      },
    );
    req.on("error", () => resolvePromise(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** A labelled Deployment in the probe namespace, for dry-run requests through the API server. */
export function probeDeployment(annotations: Record<string, string> = {}): Obj {
  const s = state();
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "probe", namespace: s.probeNamespace, labels: { [KIND_LABEL]: "mlserver" }, annotations },
    spec: {
      selector: { matchLabels: { app: "probe" } },
      template: {
        metadata: { labels: { app: "probe" } },
        spec: { containers: [{ name: "mlserver", image: "docker.io/seldonio/mlserver:1.6.1" }] },
      },
    },
  };
}

/** Waits until every controller answers /healthz and the API server gets admission answers from the module. */
export async function waitModuleReady(opts: WaitOptions = {}): Promise<void> {
  const s = state();
  const timeoutMs = opts.timeoutMs ?? 90_000;
  for (const c of s.controllers) {
    await waitFor(
      `the ${c.role} module process to serve /healthz on 127.0.0.1:${c.port}`,
      async () => {
        if (!controllerRunning(c)) throw new Error(`the ${c.role} process exited; log ${c.logFile}:\n${logTail(c)}`);
        return healthz(c);
      },
      { timeoutMs, intervalMs: 200 },
    );
  }
  if (!s.controllers.some(c => c.role === "admission")) return;
  // The whole path: apiserver -> mutating webhook -> module, with no write (dry run).
  await waitFor(
    "the API server to get the module's admission answers",
    async () => {
      const r = await applyYaml([probeDeployment()], { dryRun: true });
      if (r.code !== 0) throw new Error(r.stderr.trim());
      const d = outputObjects(r.stdout)[0] as unknown as { spec: { template: { spec: { containers: { ports?: unknown[] }[] } } } };
      return (d.spec.template.spec.containers[0].ports ?? []).length > 0;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Whether something accepts a connection on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise(resolvePromise => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once("error", () => resolvePromise(false));
  });
}

/** Controllers whose process is not running, with the end of their log: a crash unless stopModule() stopped them. */
export function deadControllers(): { role: ControllerRole; logFile: string; log: string }[] {
  return state()
    .controllers.filter(c => !controllerRunning(c))
    .map(c => ({ role: c.role, logFile: c.logFile, log: logTail(c) }));
}

/** Fails when a module process has died (it was started and not stopped by stopModule). */
export function expectModuleAlive(): void {
  const dead = deadControllers();
  if (dead.length > 0) {
    throw new Error(
      dead.map(d => `the ${d.role} module process is not running (crashed?); ${d.logFile} ends with:\n${d.log}`).join("\n\n"),
    );
  }
}

/**
 * Stops the module processes (SIGTERM to the process group, SIGKILL after 15 s) and waits until
 * their ports are closed. Throws first if one has died on its own, unless `allowDead`.
 */
export async function stopModule(opts: { allowDead?: boolean } = {}): Promise<void> {
  const s = state();
  if (!opts.allowDead) expectModuleAlive();
  for (const c of s.controllers) {
    const pid = pidOf(c);
    if (pid && controllerRunning(c)) {
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        // already gone
      }
      try {
        await waitFor(`the ${c.role} process ${pid} to exit`, () => !controllerRunning(c), { timeoutMs: 15_000, intervalMs: 100 });
      } catch {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
        await waitFor(`the ${c.role} process ${pid} to die`, () => !controllerRunning(c), { timeoutMs: 10_000, intervalMs: 100 });
      }
    }
    await waitFor(`port ${c.port} to close`, async () => !(await portOpen(c.port)), { timeoutMs: 10_000, intervalMs: 100 });
  }
}

// ---- the webhooks off ---------------------------------------------------------------------------------

type WebhookConfiguration = Obj & { webhooks?: unknown[] };

/** The module's webhook configurations as stored (kind and name from the built manifest). */
async function storedWebhookConfigurations(): Promise<WebhookConfiguration[]> {
  const s = state();
  const names = parseYamlObjects(readFileSync(s.manifest, "utf8"))
    .filter(o => o.kind === "MutatingWebhookConfiguration" || o.kind === "ValidatingWebhookConfiguration")
    .map(o => [o.kind.toLowerCase(), o.metadata.name] as const);
  const stored: WebhookConfiguration[] = [];
  for (const [type, name] of names) {
    const o = await getObject<WebhookConfiguration>(type, name);
    if (!o) throw new Error(`${type} ${name} is not stored: is the module served?`);
    stored.push(o);
  }
  return stored;
}

/**
 * Runs `fn` with the module's webhook configurations deleted, so that it can store what the
 * module would have mutated or refused (objects from before the install, or written while the
 * module was being reinstalled). The module processes keep running (the watcher sees every
 * change). The configurations are put back exactly as they were (server fields dropped), and
 * this returns once the API server calls the module again.
 */
export async function withWebhooksOff<T>(fn: () => Promise<T>): Promise<T> {
  const saved = await storedWebhookConfigurations();
  for (const o of saved) await kubectlOk(["delete", o.kind.toLowerCase(), o.metadata.name, "--wait=true"]);
  try {
    // The API server drops a deleted configuration from its cache shortly after: until then a
    // dry run of a labelled Deployment with a malformed annotation is still mutated or refused.
    await waitFor(
      "the API server to stop calling the module's webhooks",
      async () => {
        const r = await applyYaml([probeDeployment({ "ai-workloads.io/port": "not-a-port" })], { dryRun: true });
        if (r.code !== 0) return false;
        const d = outputObjects(r.stdout)[0] as unknown as { spec: { template: { spec: { containers: { ports?: unknown[] }[] } } } };
        return (d.spec.template.spec.containers[0].ports ?? []).length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    return await fn();
  } finally {
    const restore = saved.map(o => {
      const { uid, resourceVersion, creationTimestamp, generation, managedFields, ...metadata } = o.metadata;
      void [uid, resourceVersion, creationTimestamp, generation, managedFields];
      return { ...o, metadata };
    });
    const r = await applyYaml(restore, { verb: "apply-server" });
    if (r.code !== 0) throw new Error(`cannot restore the module's webhook configurations: ${r.stderr.trim()}`);
    await waitModuleReady();
    await waitFor(
      "the API server to call the module's validating webhook again",
      async () => (await applyYaml([probeDeployment({ "ai-workloads.io/port": "not-a-port" })], { dryRun: true })).code !== 0,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }
}

// ---- cluster config ----------------------------------------------------------------------------------

let configGeneration = 0;

/**
 * Applies the cluster config (ConfigMap ai-workloads-config, key config.yaml, in the module's
 * config namespace) and waits until the module admits with it. An extra infra profile unique to
 * this call is merged in so the switch can be observed through the API server (a dry-run of a
 * Deployment using it is admitted only once the module has the new config). Returns the file
 * holding the exact text applied: give it to `render --config` to get the same result offline.
 */
export async function setClusterConfig(configYaml = ""): Promise<string> {
  const s = state();
  const probeProfile = `e2e-config-${process.pid}-${++configGeneration}-${Date.now().toString(36)}`;
  const doc = (parse(configYaml) ?? {}) as { infraProfiles?: Record<string, unknown> };
  doc.infraProfiles = { ...(doc.infraProfiles ?? {}), [probeProfile]: { resources: { requests: { cpu: "10m", memory: "16Mi" } } } };
  const text = stringify(doc, { lineWidth: 0 });
  const file = join(s.dir, "config", `${probeProfile}.yaml`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  const cm = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: CONFIG_MAP_NAME, namespace: s.configNamespace },
    data: { "config.yaml": text },
  };
  const r = await applyYaml([cm], { verb: "apply-server" });
  if (r.code !== 0) throw new Error(`cannot apply the cluster config: ${r.stderr.trim()}`);
  await waitFor(
    `the module to use cluster config ${file}`,
    async () => (await applyYaml([probeDeployment({ "ai-workloads.io/infra-profile": probeProfile })], { dryRun: true })).code === 0,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  saveState({ ...s, configFile: file });
  return file;
}

// ---- a ValidatingAdmissionPolicy refusing one object ---------------------------------------------------

/** An object the API server is to refuse: its resource and name, and a minimal valid one to probe with. */
export interface RefusedObject {
  apiGroup: string;
  apiVersion: string;
  /** Plural resource name, as in RBAC rules. */
  resource: string;
  kind: string;
  name: string;
  /** What the probe object holds besides apiVersion, kind and metadata (valid for every other check). */
  body: Record<string, unknown>;
}

/** Service `refused`: the refusal of most failure cases. */
export const REFUSED_SERVICE: RefusedObject = {
  apiGroup: "",
  apiVersion: "v1",
  resource: "services",
  kind: "Service",
  name: "refused",
  body: { spec: { ports: [{ port: 80 }] } },
};

/** The message the API server gives for a refused object. */
export const refusalMessage = (target: RefusedObject): string => `e2e: ${target.kind} ${target.name} is not allowed here`;

/**
 * Applies a ValidatingAdmissionPolicy and its binding, both named `policy`, refusing the object
 * `target` in `namespace`, and waits until the API server has compiled it and refuses one.
 */
export async function refuseObject(policy: string, namespace: string, target: RefusedObject = REFUSED_SERVICE): Promise<void> {
  const r = await applyYaml(refusalPolicy(policy, namespace, target), { verb: "apply-server" });
  if (r.code !== 0) throw new Error(`cannot apply ValidatingAdmissionPolicy ${policy}: ${r.stderr.trim()}`);
  const apiVersion = target.apiGroup === "" ? target.apiVersion : `${target.apiGroup}/${target.apiVersion}`;
  const probe = { apiVersion, kind: target.kind, metadata: { name: target.name, namespace }, ...target.body } as Obj;
  await waitFor(
    `the ValidatingAdmissionPolicy to refuse ${target.kind} ${target.name}`,
    async () => {
      const dry = await applyYaml([probe], { dryRun: true });
      return dry.code !== 0 && dry.stderr.includes(refusalMessage(target));
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

function refusalPolicy(policy: string, namespace: string, target: RefusedObject): Obj[] {
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: policy },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [target.apiGroup],
              apiVersions: [target.apiVersion],
              operations: ["CREATE", "UPDATE"],
              resources: [target.resource],
            },
          ],
        },
        validations: [{ expression: `object.metadata.name != '${target.name}'`, message: refusalMessage(target) }],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: policy },
      spec: {
        policyName: policy,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
      },
    },
  ];
}
