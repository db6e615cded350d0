// Serves the built module against the test control plane the way the built controller runs it
// in a cluster, with the process on this machine instead of in a Pod (no kubelet here):
//
// - the post-processed manifest (pepr build + hack/postbuild.mjs) provides everything: the admin
//   applies its Namespace, ServiceAccount, ClusterRole(Binding), store Role(Binding) and Secrets;
//   the webhook configurations are applied as emitted except clientConfig, which points at
//   https://127.0.0.1:<port>/<same path> with a CA made for this run;
// - the module code is the one in the module Secret (gunzipped, sha256 checked against the
//   Deployment's argument, as pepr/dist/controller.js does), run with the Deployment's env and
//   the V8 heap Node picks under the Deployment's memory limit (node-heap.ts);
// - it runs as the module's ServiceAccount: a token from `kubectl create token`, in a kubeconfig;
//   the PeprStore CRD is applied with that identity too, as the controller does at start.
//
// Used by hack/e2e/run.mjs (bundled with esbuild) before jest starts, and by nothing else.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { nodeHeapOptions } from "./node-heap";
import {
  type ControllerRole,
  type ControllerState,
  E2E_RESYNC_SECONDS,
  type E2eState,
  type Obj,
  REPO,
  RESYNC_ENV,
  STATE_FILE,
  applyYaml,
  deadControllers,
  kubectlOk,
  parseYamlObjects,
  saveState,
  setClusterConfig,
  startModule,
  state,
  stopModule,
} from "./harness";

export interface SetupOptions {
  /** E2E state dir (state.json, module, TLS, logs). */
  dir: string;
  /** hack/controlplane run dir, already up. */
  cpRun: string;
  /** Post-processed build output. */
  distDir: string;
  log?: (msg: string) => void;
}

/** The exports of $AI_WORKLOADS_RUN/env written by hack/controlplane/up.sh. */
export function readPlaneEnv(cpRun: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(cpRun, "env"), "utf8").split("\n")) {
    const m = /^export ([A-Z_]+)="(.*)"$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** A free TCP port on 127.0.0.1 (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

/** A throwaway CA and a serving certificate for 127.0.0.1 (ECDSA P-256, like the control plane's). */
function makeTls(dir: string): E2eState["tls"] {
  mkdirSync(dir, { recursive: true });
  const p = (f: string): string => join(dir, f);
  const openssl = (args: string[]): void => {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  };
  openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-sha256",
    "-days",
    "2",
    "-subj",
    "/CN=ai-workloads-e2e-webhook-ca",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  openssl([
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    p("tls.key"),
    "-out",
    p("tls.csr"),
  ]);
  writeFileSync(
    p("tls.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  openssl([
    "x509",
    "-req",
    "-sha256",
    "-days",
    "2",
    "-in",
    p("tls.csr"),
    "-CA",
    p("ca.crt"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-extfile",
    p("tls.ext"),
    "-out",
    p("tls.crt"),
  ]);
  return { ca: p("ca.crt"), cert: p("tls.crt"), key: p("tls.key") };
}

/** The PeprStore CRD exactly as pepr 1.1.4 defines it (node_modules/pepr/src/lib/assets/store.ts). */
export const PEPR_STORE_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "peprstores.pepr.dev" },
  spec: {
    group: "pepr.dev",
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", properties: { data: { type: "object", additionalProperties: { type: "string" } } } } },
      },
    ],
    scope: "Namespaced",
    names: { plural: "peprstores", singular: "peprstore", kind: "PeprStore" },
  },
};

type Container = { args?: string[]; env?: { name: string; value?: string }[]; resources?: { limits?: { memory?: string } } };
type Deployment = Obj & { spec: { template: { spec: { serviceAccountName?: string; containers: Container[] } } } };
type WebhookConfig = Obj & { webhooks: { clientConfig: { caBundle?: string; url?: string; service?: { path?: string } } }[] };

const one = <T extends Obj>(objs: Obj[], kind: string, pred: (o: Obj) => boolean = () => true): T => {
  const found = objs.filter(o => o.kind === kind && pred(o));
  if (found.length !== 1) throw new Error(`expected one ${kind} in the manifest, found ${found.length}`);
  return found[0] as T;
};

/** The webhook configurations of the manifest with clientConfig pointing at the local module. */
export function loopbackWebhooks(objs: Obj[], port: number, caPem: string): WebhookConfig[] {
  return objs
    .filter(o => o.kind === "MutatingWebhookConfiguration" || o.kind === "ValidatingWebhookConfiguration")
    .map(o => {
      const config = JSON.parse(JSON.stringify(o)) as WebhookConfig;
      for (const w of config.webhooks) {
        const path = w.clientConfig.service?.path;
        if (!path) throw new Error(`${config.kind} ${config.metadata.name}: webhook without service.path`);
        w.clientConfig = { url: `https://127.0.0.1:${port}${path}`, caBundle: Buffer.from(caPem).toString("base64") };
      }
      return config;
    });
}

export async function setup(opts: SetupOptions): Promise<E2eState> {
  const log = opts.log ?? ((m: string) => console.log(`e2e: ${m}`));
  const plane = readPlaneEnv(opts.cpRun);
  const uuid = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { pepr: { uuid: string } }).pepr.uuid;
  const manifest = join(opts.distDir, `pepr-module-${uuid}.yaml`);
  const objs = parseYamlObjects(readFileSync(manifest, "utf8"));

  // The controller Deployments: admission (and a watcher once the module has Watch/Reconcile bindings).
  const deployments = objs.filter(o => o.kind === "Deployment") as Deployment[];
  const admission = one<Deployment>(objs, "Deployment", o => o.metadata.labels?.["pepr.dev/controller"] === "admission");
  const sa = admission.spec.template.spec.serviceAccountName ?? "default";
  const saNamespace = admission.metadata.namespace ?? "pepr-system";
  const moduleHash = admission.spec.template.spec.containers[0].args?.[1] ?? "";

  // The module code, as the controller image loads it from the module Secret.
  const moduleSecret = one<Obj & { data: Record<string, string> }>(objs, "Secret", o => o.metadata.name.endsWith("-module"));
  const gz = moduleSecret.data[`module-${moduleHash}.js.gz`];
  if (!gz) throw new Error(`module Secret has no module-${moduleHash}.js.gz`);
  const code = gunzipSync(Buffer.from(gz, "base64"));
  const actual = createHash("sha256").update(code).digest("hex");
  if (actual !== moduleHash) throw new Error(`module hash ${actual} does not match the Deployment's ${moduleHash}`);
  const moduleDir = join(opts.dir, "module");
  mkdirSync(moduleDir, { recursive: true });
  const moduleFile = join(moduleDir, `module-${moduleHash}.js`);
  writeFileSync(moduleFile, code);

  const apiPathSecret = one<Obj & { data: { value: string } }>(objs, "Secret", o => o.metadata.name.endsWith("-api-path"));
  const apiPath = Buffer.from(apiPathSecret.data.value, "base64").toString();

  const tls = makeTls(join(opts.dir, "tls"));
  const controllers: ControllerState[] = [];
  for (const d of deployments) {
    const role = d.metadata.labels?.["pepr.dev/controller"] as ControllerRole;
    if (role !== "admission" && role !== "watcher") throw new Error(`unknown Pepr controller Deployment ${d.metadata.name}`);
    const env: Record<string, string> = {};
    for (const e of d.spec.template.spec.containers[0].env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    // The watcher's full pass over every namespace of interest: 10 minutes in the module, a few
    // seconds here so that a suite can watch several resyncs (day-two.e2e.ts counts writes over three).
    if (role === "watcher") env[RESYNC_ENV] = process.env[RESYNC_ENV] ?? String(E2E_RESYNC_SECONDS);
    // The V8 heap Node picks inside the Pod's memory limit, not the one it picks for this machine.
    const memoryLimit = d.spec.template.spec.containers[0].resources?.limits?.memory;
    if (memoryLimit) env.NODE_OPTIONS = nodeHeapOptions(memoryLimit);
    controllers.push({ role, port: await freePort(), pidFile: join(opts.dir, `${role}.pid`), logFile: join(opts.dir, `${role}.log`), env });
  }
  const s: E2eState = {
    repo: REPO,
    dir: opts.dir,
    cpRun: opts.cpRun,
    kubeconfig: plane.KUBECONFIG,
    kubectl: plane.KUBECTL,
    helm: plane.HELM,
    apiserverUrl: plane.CP_APISERVER_URL,
    caFile: plane.CP_CA_FILE,
    auditLog: plane.CP_AUDIT_LOG,
    distDir: resolve(opts.distDir),
    manifest,
    moduleFile,
    moduleHash,
    apiPath,
    serviceAccount: {
      namespace: saNamespace,
      name: sa,
      user: `system:serviceaccount:${saNamespace}:${sa}`,
      kubeconfig: join(opts.dir, "module.kubeconfig"),
    },
    tls,
    configNamespace:
      admission.spec.template.spec.containers[0].env?.find(e => e.name === "AI_WORKLOADS_CONFIG_NAMESPACE")?.value ?? "pepr-system",
    probeNamespace: "e2e-probe",
    controllers,
  };
  saveState(s);

  // What an install creates before the controller runs, minus what needs a kubelet (Deployments,
  // Services) and the webhooks (applied below with a loopback clientConfig).
  const installKinds = ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Secret"];
  const install = installKinds.flatMap(k => objs.filter(o => o.kind === k));
  const applied = await applyYaml(install, { verb: "apply-server" });
  if (applied.code !== 0) throw new Error(`applying the module's install objects failed: ${applied.stderr}`);
  log(`applied ${install.map(o => `${o.kind}/${o.metadata.name}`).join(", ")}`);

  // The ServiceAccount's identity, as a Pod would get it.
  const token = (await kubectlOk(["create", "token", sa, "-n", saNamespace, "--duration=12h"])).trim();
  writeFileSync(
    s.serviceAccount.kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: e2e",
      "  cluster:",
      `    server: ${s.apiserverUrl}`,
      `    certificate-authority-data: ${readFileSync(s.caFile).toString("base64")}`,
      "users:",
      `- name: ${sa}`,
      "  user:",
      `    token: ${token}`,
      "contexts:",
      "- name: e2e",
      "  context:",
      "    cluster: e2e",
      `    user: ${sa}`,
      `    namespace: ${saNamespace}`,
      "current-context: e2e",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );

  // pepr/dist/controller.js applies the store CRD with the module's identity before it starts the module.
  const crd = await applyYaml([PEPR_STORE_CRD], { verb: "apply-server", fieldManager: "pepr", kubeconfig: s.serviceAccount.kubeconfig });
  if (crd.code !== 0) throw new Error(`the module's ServiceAccount cannot apply the PeprStore CRD: ${crd.stderr}`);
  await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", "crd/peprstores.pepr.dev"]);

  await kubectlOk(["create", "namespace", s.probeNamespace]);

  const admissionPort = controllers.find(c => c.role === "admission")!.port;
  const webhooks = loopbackWebhooks(objs, admissionPort, readFileSync(tls.ca, "utf8"));
  const wh = await applyYaml(webhooks, { verb: "apply-server" });
  if (wh.code !== 0) throw new Error(`applying the webhook configurations failed: ${wh.stderr}`);
  log(`webhooks ${webhooks.map(w => w.kind).join(", ")} -> https://127.0.0.1:${admissionPort}/{mutate,validate}/<api path>`);

  await startModule({ timeoutMs: 120_000 });
  log(`module running as ${s.serviceAccount.user}: ${controllers.map(c => `${c.role} 127.0.0.1:${c.port} (log ${c.logFile})`).join(", ")}`);
  await setClusterConfig("");
  return state();
}

/**
 * Stops the module processes recorded in state.json (the control plane is stopped by run.mjs).
 * Returns the controllers that had died on their own before: a crash the run must report.
 */
export async function teardown(): Promise<{ role: string; logFile: string; log: string }[]> {
  if (!existsSync(STATE_FILE)) return [];
  const dead = deadControllers();
  await stopModule({ allowDead: true });
  return dead;
}

/** For hack/e2e/run.mjs, checked after the suites: module processes that died, module writes RBAC refused. */
export { deadControllers };
export { forbiddenWrites } from "./harness";
