// `ai-workloads status` and `ai-workloads diff` (SPEC §14.4) run as real processes
// (`node bin/ai-workloads.js`) against the test API server with a kubeconfig file. Every companion
// state (ok, missing, drifted, conflict, failed) and every defaults state (current, outdated,
// never admitted) is built in its own namespace, the way it happens in a cluster: objects changed
// while the module was down, a Service there before the app, a ValidatingAdmissionPolicy that
// refuses one, a config changed after admission, a Deployment stored with the webhooks off.
// Checked: each row's classification, exit codes, that diff names exactly the writes the watcher
// makes once it runs again (audit log), and that neither command writes anything: they run as a
// ServiceAccount that may only get and list, and no write by it (or by the admin, for the run
// with the admin kubeconfig) reaches the audit log.
//
// `npm run test:e2e -- test/e2e/status.e2e.ts` runs exactly these.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_TENANT } from "../../capabilities/core/testing";
import {
  type AuditEvent,
  type Obj,
  type Result,
  REPO,
  applyYaml,
  auditEvents,
  auditMark,
  deleteNamespaces,
  expectModuleAlive,
  kubectl,
  kubectlOk,
  listObjects,
  mlserver,
  moduleRunning,
  run,
  setClusterConfig,
  startModule,
  state,
  stopModule,
  waitFor,
  withWebhooksOff,
  refuseObject,
} from "./harness";

jest.setTimeout(10 * 60_000);

const NS = {
  ok: "st-ok",
  missing: "st-missing",
  drifted: "st-drifted",
  conflict: "st-conflict",
  failed: "st-failed",
  outdated: "st-outdated",
  never: "st-never",
};
/** Where the read-only ServiceAccount the CLI runs as lives. */
const READER_NS = "st-cli";
const READER = "status-reader";
const REFUSE_POLICY = "e2e-status-refuse-service";
const CONVERGE = { timeoutMs: 120_000, intervalMs: 500 };
const MANAGED = "app.kubernetes.io/managed-by=ai-workloads";
const PROFILE = "ai-workloads.io/infra-profile";

/** Each namespace its own host: namespaces on one host share its paths, and every app here is at /apps/model. */
const securedNs = (namespace: string): Record<string, string> => ({
  "ai-workloads.io/host": `${namespace}.example.com`,
  "ai-workloads.io/gateway": "istio-system/ai-workloads-gateway",
  "ai-workloads.io/aad-tenant-id": TEST_TENANT,
  "ai-workloads.io/request-auth": "true",
  "ai-workloads.io/require-jwt": "true",
  "ai-workloads.io/allow-same-namespace": "true",
});
const NAMESPACE_OBJECTS = [
  "AuthorizationPolicy/ai-workloads-require-jwt",
  "RequestAuthentication/ai-workloads-aad",
  "VirtualService/ai-workloads",
];

const configWithTeam = (cpu: string): string =>
  `infraProfiles:\n  team:\n    resources:\n      requests: { cpu: "${cpu}", memory: 256Mi }\n`;

// ---- the CLI as a process ---------------------------------------------------------------------------

let readerKubeconfig = "";
const readerUser = `system:serviceaccount:${READER_NS}:${READER}`;
const ADMIN_USER = "kubernetes-admin";

/** `node bin/ai-workloads.js <args> --kubeconfig <file>`, as a user runs `npx ai-workloads`. */
async function cli(args: readonly string[], kubeconfig = readerKubeconfig): Promise<Result> {
  const r = await run(process.execPath, [join(REPO, "bin", "ai-workloads.js"), ...args, "--kubeconfig", kubeconfig], {
    timeoutMs: 120_000,
  });
  // The harness's run() puts execFile's "Command failed: …" into an empty stderr on exit 1; the process wrote nothing there.
  return r.stderr.startsWith("Command failed: ") ? { ...r, stderr: "" } : r;
}

interface Row {
  namespace: string;
  name: string;
  ok: boolean;
  route: { host: string; path: string } | null;
  publicPaths: string[];
  jwt: string;
  companions: { kind: string; name: string; state: string; detail?: string }[];
  defaults: { state: string; changes?: string[]; problems?: string[] };
  lastEvent: { reason: string } | null;
}
interface StatusJson {
  ok: boolean;
  namespaces: { namespace: string; ok: boolean; apps: Row[]; prunes: string[] }[];
}

async function statusJson(namespace: string): Promise<{ code: number; json: StatusJson }> {
  const r = await cli(["status", "-n", namespace, "-o", "json"]);
  if (r.code > 1) throw new Error(`status -n ${namespace} exited ${r.code}: ${r.stderr}`);
  return { code: r.code, json: JSON.parse(r.stdout) as StatusJson };
}

const rowOf = (s: StatusJson, name: string): Row => {
  const row = s.namespaces.flatMap(n => n.apps).find(a => a.name === name);
  if (!row) throw new Error(`no row ${name} in ${JSON.stringify(s)}`);
  return row;
};
const companionStates = (row: Row): Record<string, string> => Object.fromEntries(row.companions.map(c => [`${c.kind}/${c.name}`, c.state]));

// ---- the cluster ---------------------------------------------------------------------------------------

const key = (o: Obj): string => `${o.kind}/${o.metadata.name}`;
const COMPANIONS =
  "services,horizontalpodautoscalers.autoscaling,virtualservices.networking.istio.io,requestauthentications.security.istio.io,authorizationpolicies.security.istio.io";

async function managedIn(namespace: string): Promise<string[]> {
  const out = await kubectlOk(["get", COMPANIONS, "-n", namespace, "-l", MANAGED, "-o", "json"]);
  return (JSON.parse(out) as { items: Obj[] }).items.map(key).sort();
}

const companionsAre = (namespace: string, expected: readonly string[]): Promise<true> =>
  waitFor(
    `the managed companions of ${namespace} to be ${expected.join(", ")}`,
    async () => {
      const now = await managedIn(namespace);
      if (JSON.stringify(now) === JSON.stringify([...expected].sort())) return true;
      throw new Error(`now ${now.join(", ")}`);
    },
    CONVERGE,
  );

const eventSeen = (namespace: string, name: string, reason: string): Promise<true> =>
  waitFor(
    `a ${reason} Event on Deployment ${namespace}/${name}`,
    async () => {
      const events = await listObjects<{ reason: string; involvedObject: { kind: string; name: string } }>("events", namespace);
      return events.some(e => e.reason === reason && e.involvedObject.kind === "Deployment" && e.involvedObject.name === name) || false;
    },
    CONVERGE,
  );

const namespaceObject = (name: string, annotations: Record<string, string> = securedNs(name)): Obj => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, annotations },
});

async function mustApply(objects: readonly unknown[], verb: "create" | "apply-server" = "create"): Promise<void> {
  const r = await applyYaml(objects, { verb });
  if (r.code !== 0) throw new Error(`kubectl ${verb} failed: ${r.stderr.trim()}`);
}

/** A ServiceAccount that may get and list what status and diff read, and nothing else; its kubeconfig file. */
async function readerIdentity(): Promise<string> {
  const s = state();
  const rules = [
    { apiGroups: [""], resources: ["namespaces", "configmaps", "events", "services"], verbs: ["get", "list"] },
    { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
    { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: ["get", "list"] },
    { apiGroups: ["networking.istio.io"], resources: ["virtualservices"], verbs: ["get", "list"] },
    { apiGroups: ["security.istio.io"], resources: ["requestauthentications", "authorizationpolicies"], verbs: ["get", "list"] },
  ];
  await mustApply(
    [
      namespaceObject(READER_NS, {}),
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: READER, namespace: READER_NS } },
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: READER }, rules },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: READER },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: READER },
        subjects: [{ kind: "ServiceAccount", name: READER, namespace: READER_NS }],
      },
    ],
    "apply-server",
  );
  const token = (await kubectlOk(["create", "token", READER, "-n", READER_NS, "--duration=3600s"])).trim();
  const file = join(s.dir, "status-reader.kubeconfig");
  mkdirSync(s.dir, { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "test", cluster: { server: s.apiserverUrl, "certificate-authority": s.caFile } }],
      users: [{ name: READER, user: { token } }],
      contexts: [{ name: "reader", context: { cluster: "test", user: READER, namespace: NS.ok } }],
      "current-context": "reader",
    }),
    { mode: 0o600 },
  );
  return file;
}

/** Writes in the audit log since `mark` by these users. */
const writesOf = (users: readonly string[], mark: number): AuditEvent[] => auditEvents(mark).filter(e => users.includes(e.user.username));

/** `resource/namespace/name` of a diff's file name (`<group>.<version>.<Kind>.<namespace>.<name>`). */
function diffTargets(diffText: string): string[] {
  const resources: Record<string, string> = { Service: "services", HorizontalPodAutoscaler: "horizontalpodautoscalers" };
  return diffText
    .split("\n")
    .filter(l => l.startsWith("diff -u -N LIVE/"))
    .map(l => {
      const parts = l.split(" ")[3].slice("LIVE/".length).split(".");
      const [name, namespace, kind] = [parts.pop(), parts.pop(), parts.pop()];
      return `${resources[kind ?? ""] ?? kind}/${namespace}/${name}`;
    })
    .sort();
}

// ---- the suite --------------------------------------------------------------------------------------------

describe("ai-workloads status and diff against the API server", () => {
  const all = Object.values(NS);
  let statusTable = "";
  let diffText = "";
  let cliMark = 0;

  beforeAll(async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", REFUSE_POLICY, "--ignore-not-found"]);
    await deleteNamespaces([...all, READER_NS]);
    if (!moduleRunning()) await startModule();
    readerKubeconfig = await readerIdentity();
    await setClusterConfig(configWithTeam("500m"));
    await mustApply(all.map(ns => namespaceObject(ns)));

    // conflict: a Service of the app's name, there before the app, not the module's.
    await mustApply([
      { apiVersion: "v1", kind: "Service", metadata: { name: "model", namespace: NS.conflict }, spec: { ports: [{ port: 80 }] } },
    ]);
    // failed: the API server refuses the app's Service (as day-two.e2e.ts does).
    await refuseObject(REFUSE_POLICY, NS.failed);

    await mustApply([
      mlserver(NS.ok, "model", { "ai-workloads.io/public-paths": "/docs" }),
      mlserver(NS.missing, "model"),
      mlserver(NS.drifted, "model"),
      mlserver(NS.conflict, "model"),
      mlserver(NS.failed, "refused"),
      mlserver(NS.outdated, "model", { [PROFILE]: "team" }),
    ]);
    // never admitted: stored while the module's webhooks were off (the watcher still makes its companions).
    await withWebhooksOff(() => mustApply([mlserver(NS.never, "legacy")]));

    await companionsAre(NS.ok, [
      "Service/model",
      "HorizontalPodAutoscaler/model",
      "AuthorizationPolicy/model-public",
      ...NAMESPACE_OBJECTS,
    ]);
    for (const ns of [NS.missing, NS.drifted, NS.outdated])
      await companionsAre(ns, ["Service/model", "HorizontalPodAutoscaler/model", ...NAMESPACE_OBJECTS]);
    await companionsAre(NS.never, ["Service/legacy", "HorizontalPodAutoscaler/legacy", ...NAMESPACE_OBJECTS]);
    await companionsAre(NS.conflict, ["HorizontalPodAutoscaler/model", ...NAMESPACE_OBJECTS]);
    await companionsAre(NS.failed, ["HorizontalPodAutoscaler/refused", ...NAMESPACE_OBJECTS]);
    await eventSeen(NS.conflict, "model", "CompanionConflict");
    await eventSeen(NS.failed, "refused", "CompanionFailed");

    // outdated: the profile changed after the app was admitted; the module never rewrites the Deployment.
    await setClusterConfig(configWithTeam("750m"));

    // missing, drifted and a prune: changed while the module is down, so nothing puts them back.
    await stopModule();
    await kubectlOk(["delete", "service", "model", "-n", NS.missing]);
    await kubectlOk([
      "patch",
      "horizontalpodautoscalers.autoscaling",
      "model",
      "-n",
      NS.drifted,
      "--type=merge",
      "-p",
      '{"spec":{"maxReplicas":3}}',
    ]);
    await mustApply([
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
          name: "old",
          namespace: NS.missing,
          labels: { "app.kubernetes.io/managed-by": "ai-workloads", "ai-workloads.io/app": "old" },
        },
        spec: { selector: { app: "old" }, ports: [{ name: "http", port: 8000, targetPort: "http" }] },
      },
    ]);
    cliMark = auditMark();
  });

  afterAll(async () => {
    if (!moduleRunning()) await startModule();
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", REFUSE_POLICY, "--ignore-not-found"]);
    await kubectl(["delete", "clusterrolebinding,clusterrole", READER, "--ignore-not-found"]);
    await deleteNamespaces([...all, READER_NS]);
    await setClusterConfig("");
    expectModuleAlive();
    if (statusTable) console.log(`ai-workloads status -A (module stopped, after the changes):\n${statusTable}`);
    if (diffText) console.log(`ai-workloads diff -A (the same moment):\n${diffText}`);
  });

  it("status -A prints one row per managed Deployment, and exits 1 when something is not ok", async () => {
    const r = await cli(["status", "-A"]);
    expect([r.code, r.stderr]).toEqual([1, ""]);
    statusTable = r.stdout;
    // The table is the lines down to the first empty one; what is not ok is detailed below it.
    const table = r.stdout.split("\n\n")[0].split("\n");
    const rows = table.filter(l => l.startsWith("st-"));
    expect(rows.map(l => l.split(/\s+/).slice(0, 2).join("/"))).toEqual([
      "st-conflict/model",
      "st-drifted/model",
      "st-failed/refused",
      "st-missing/model",
      "st-never/legacy",
      "st-ok/model",
      "st-outdated/model",
    ]);
    expect(table[0].split(/\s{3,}/)).toEqual([
      "NAMESPACE",
      "NAME",
      "KIND",
      "ROUTE",
      "PUBLIC",
      "JWT",
      "COMPANIONS",
      "DEFAULTS",
      "LAST-EVENT",
    ]);
    // The admin's kubeconfig sees the same.
    const admin = await cli(["status", "-A"], state().kubeconfig);
    expect(admin.stdout).toBe(r.stdout);
  });

  it("ok and current: every companion in place; -n of an all-ok namespace exits 0", async () => {
    const { code, json } = await statusJson(NS.ok);
    expect(code).toBe(0);
    const row = rowOf(json, "model");
    expect(row).toMatchObject({
      ok: true,
      route: { host: "st-ok.example.com", path: "/apps/model" },
      publicPaths: ["/docs"],
      jwt: "required, same namespace exempt",
      defaults: { state: "current" },
    });
    expect(companionStates(row)).toEqual({
      "Service/model": "ok",
      "HorizontalPodAutoscaler/model": "ok",
      "AuthorizationPolicy/model-public": "ok",
      "VirtualService/ai-workloads": "ok",
      "RequestAuthentication/ai-workloads-aad": "ok",
      "AuthorizationPolicy/ai-workloads-require-jwt": "ok",
    });
    // The context's namespace (st-ok) when -n is not given.
    expect((await cli(["status"])).code).toBe(0);
  });

  it("missing: the Service deleted while the module was down; the leftover managed Service is a prune", async () => {
    const { code, json } = await statusJson(NS.missing);
    expect(code).toBe(1);
    expect(companionStates(rowOf(json, "model"))["Service/model"]).toBe("missing");
    expect(json.namespaces[0].prunes).toEqual(["Service/old"]);
  });

  it("drifted: the HPA edited while the module was down", async () => {
    const { code, json } = await statusJson(NS.drifted);
    expect(code).toBe(1);
    expect(companionStates(rowOf(json, "model"))).toMatchObject({ "Service/model": "ok", "HorizontalPodAutoscaler/model": "drifted" });
  });

  it("conflict: a Service of the app's name that the module did not create", async () => {
    const row = rowOf((await statusJson(NS.conflict)).json, "model");
    expect(row.companions.find(c => c.kind === "Service")).toEqual({
      kind: "Service",
      name: "model",
      state: "conflict",
      detail: "Service/model exists and was not created by ai-workloads",
    });
    expect(row.ok).toBe(false);
  });

  it("failed: the API server refuses the Service, as the CompanionFailed Event says", async () => {
    const row = rowOf((await statusJson(NS.failed)).json, "refused");
    const svc = row.companions.find(c => c.kind === "Service");
    expect(svc?.state).toBe("failed");
    expect(svc?.detail).toContain("e2e: Service refused is not allowed here");
  });

  it("outdated: the profile changed after admission, and status says what re-applying would change", async () => {
    const row = rowOf((await statusJson(NS.outdated)).json, "model");
    expect(row.defaults).toEqual({
      state: "outdated",
      changes: ['spec.template.spec.containers[mlserver].resources.requests.cpu: "500m" -> "750m"'],
    });
    expect(Object.values(companionStates(row)).every(s => s === "ok")).toBe(true);
  });

  it("never admitted: stored with the webhooks off", async () => {
    const row = rowOf((await statusJson(NS.never)).json, "legacy");
    expect(row.defaults.state).toBe("never-admitted");
    expect(row.defaults.changes).toContain('spec.template.spec.containers[mlserver].command: added ["mlserver","start","/mnt/models"]');
    expect(Object.values(companionStates(row)).every(s => s === "ok")).toBe(true);
  });

  it("diff exits 0 with nothing for an all-ok namespace, and 1 with the creates, updates and prunes", async () => {
    expect(await cli(["diff", "-n", NS.ok])).toEqual({ code: 0, stdout: "", stderr: "" });
    const missing = await cli(["diff", "-n", NS.missing]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`diff -u -N LIVE/v1.Service.${NS.missing}.model MERGED/v1.Service.${NS.missing}.model\n`);
    expect(missing.stdout).toContain("@@ -0,0 +1,");
    expect(missing.stdout).toContain(`diff -u -N LIVE/v1.Service.${NS.missing}.old MERGED/v1.Service.${NS.missing}.old\n`);
    expect(missing.stdout).toMatch(/@@ -1,\d+ \+0,0 @@/);
    const drifted = await cli(["diff", "-n", NS.drifted]);
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toContain(`diff -u -N LIVE/autoscaling.v2.HorizontalPodAutoscaler.${NS.drifted}.model`);
    expect(drifted.stdout).toContain("\n-  maxReplicas: 3\n+  maxReplicas: 10\n");
    const everything = await cli(["diff", "-A"]);
    expect(everything.code).toBe(1);
    diffText = everything.stdout;
  });

  it("neither command wrote anything (audit log)", () => {
    const writes = writesOf([readerUser, ADMIN_USER], cliMark);
    expect(writes.map(e => `${e.user.username} ${e.verb} ${e.requestURI}`)).toEqual([]);
  });

  it("what diff showed is exactly what the watcher writes once it runs again", async () => {
    const shown = [
      ...diffTargets((await cli(["diff", "-n", NS.missing])).stdout),
      ...diffTargets((await cli(["diff", "-n", NS.drifted])).stdout),
    ].sort();
    expect(shown).toEqual([`horizontalpodautoscalers/${NS.drifted}/model`, `services/${NS.missing}/model`, `services/${NS.missing}/old`]);
    const mark = auditMark();
    await startModule();
    await companionsAre(NS.missing, ["Service/model", "HorizontalPodAutoscaler/model", ...NAMESPACE_OBJECTS]);
    await waitFor("the watcher to restore the HPA", async () => (await statusJson(NS.drifted)).code === 0, CONVERGE);
    const written = writesOf([state().serviceAccount.user], mark)
      .filter(e => [NS.missing, NS.drifted].includes(e.objectRef?.namespace ?? "") && e.objectRef?.resource !== "events")
      .filter(e => (e.responseStatus?.code ?? 0) < 300)
      .map(e => `${e.objectRef?.resource}/${e.objectRef?.namespace}/${e.objectRef?.name}`);
    expect([...new Set(written)].sort()).toEqual(shown);
    // And now there is nothing left to do there.
    for (const ns of [NS.missing, NS.drifted]) expect(await cli(["diff", "-n", ns])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(writesOf([readerUser], cliMark)).toEqual([]);
  });
});
