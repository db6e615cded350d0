// The reconciler (Pepr watcher) against a real control plane (SPEC §5, §7): companions read back
// from the API server are what `ai-workloads render` prints for the same input, kept true on
// change, drift, deletion and label removal; never overwriting what it did not create; written
// as the module's ServiceAccount under the emitted RBAC, and only when content changed (counted
// in the audit log).
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  KIND_LABEL,
  type AuditEvent,
  type Obj,
  REPO,
  applyYaml,
  auditMark,
  delay,
  deleteNamespaces,
  expectModuleAlive,
  forbiddenWrites,
  getObject,
  kubectlOk,
  listObjects,
  parseYamlObjects,
  setClusterConfig,
  state,
  subsetMismatches,
  waitFor,
  writesBy,
  COMPANION_TYPES,
  TYPE_OF,
  mlserver,
} from "./harness";
import { renderObjects } from "./render";

jest.setTimeout(300_000);

const MANAGED = "app.kubernetes.io/managed-by=ai-workloads";
const APP_LABEL = "ai-workloads.io/app";
const GC_USER = "system:serviceaccount:kube-system:generic-garbage-collector";
const COMPANION_KINDS = ["Service", "HorizontalPodAutoscaler", "VirtualService", "RequestAuthentication", "AuthorizationPolicy"];
const COMPANION_RESOURCES = new Set([
  "services",
  "horizontalpodautoscalers",
  "virtualservices",
  "requestauthentications",
  "authorizationpolicies",
]);
/** A quiet period: no write by the module for this long means it has nothing left to do. */
const QUIET_MS = 6_000;
const CONVERGE = { timeoutMs: 120_000, intervalMs: 500 };

// The cluster config of this suite: namespaces without their own annotations get routing and
// Entra ID from here (the seed's Namespace overrides all of it).
const SUITE_CONFIG = `
istio:
  host: rc.example.com
  gateway: istio-system/ai-workloads-gateway
aad:
  tenantId: 8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01
  apiAudience: api://3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab
  requestAuth: true
  requireJwt: true
  allowSameNamespace: true
`;

const user = (): string => state().serviceAccount.user;
const key = (o: Obj): string => `${o.kind}/${o.metadata.name}`;
const done = (e: AuditEvent): boolean => e.stage === "ResponseComplete";
const companionWrites = (events: AuditEvent[]): AuditEvent[] =>
  events.filter(e => done(e) && COMPANION_RESOURCES.has(e.objectRef?.resource ?? ""));
const eventWrites = (events: AuditEvent[]): AuditEvent[] => events.filter(e => done(e) && e.objectRef?.resource === "events");
const describeWrite = (e: AuditEvent): string =>
  `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.namespace}/${e.objectRef?.name ?? ""} -> ${e.responseStatus?.code}`;
/** Measured write counts, printed at the end and kept in $AI_WORKLOADS_E2E_DIR/reconcile-writes.json. */
const measured: Record<string, unknown> = {};

let configFile: string;
const watcherLogStart = (): number => {
  const w = state().controllers.find(c => c.role === "watcher");
  return w ? statSync(w.logFile).size : 0;
};
let logStart = 0;

// ---- inputs --------------------------------------------------------------------------------------

const SEED_DIR = join(REPO, "examples", "mlserver-openai-librechat");
const seedObjects = (): Obj[] =>
  readdirSync(SEED_DIR)
    .filter(f => f.endsWith(".yaml"))
    .sort()
    .flatMap(f => parseYamlObjects(readFileSync(join(SEED_DIR, f), "utf8")));

/** The companions `ai-workloads render` prints for these inputs, with the suite's cluster config. */
function rendered(inputs: Obj[]): Obj[] {
  const r = renderObjects(inputs, configFile);
  if (r.code !== 0) throw new Error(`render failed: ${r.stderr}`);
  return r.objects.filter(o => COMPANION_KINDS.includes(o.kind));
}

// ---- reading the cluster ----------------------------------------------------------------------------

/** Every object of a companion kind in the namespace; with `managedOnly`, those labelled as the module's. */
async function companions(namespace: string, managedOnly = true): Promise<Obj[]> {
  const out = await kubectlOk([
    "get",
    COMPANION_TYPES,
    "-n",
    namespace,
    ...(managedOnly ? ["-l", MANAGED] : []),
    "--show-managed-fields",
    "-o",
    "json",
  ]);
  return (JSON.parse(out) as { items: Obj[] }).items.sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/** JSON with object keys sorted: equal values compare equal whatever the key order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );

/** What differs between the stored companions and the rendered ones (empty: converged). */
function differences(stored: Obj[], expected: Obj[], uids: Map<string, string>): string[] {
  const problems: string[] = [];
  const storedKeys = stored.map(key).sort();
  const expectedKeys = expected.map(key).sort();
  if (JSON.stringify(storedKeys) !== JSON.stringify(expectedKeys))
    problems.push(`objects: stored ${JSON.stringify(storedKeys)}, rendered ${JSON.stringify(expectedKeys)}`);
  const byKey = new Map(stored.map(o => [key(o), o]));
  for (const want of expected) {
    const got = byKey.get(key(want));
    if (!got) continue;
    // Modulo server fields (uid, resourceVersion, status, defaults): the rendered object is contained in the stored one.
    problems.push(...subsetMismatches(got, want).map(m => `${key(want)}: ${m}`));
    if (canonical(got.metadata.labels) !== canonical(want.metadata.labels)) {
      problems.push(`${key(want)}: labels ${JSON.stringify(got.metadata.labels)}, rendered ${JSON.stringify(want.metadata.labels)}`);
    }
    // Per-app objects are owned by their Deployment (SPEC §5); namespace objects by nobody.
    const app = want.metadata.labels?.[APP_LABEL];
    const owners = (got.metadata.ownerReferences ?? []) as unknown[];
    const wantOwners = app
      ? [
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: app,
            uid: uids.get(app) ?? "(no such Deployment)",
            controller: true,
            blockOwnerDeletion: true,
          },
        ]
      : [];
    if (canonical(owners) !== canonical(wantOwners))
      problems.push(`${key(want)}: ownerReferences ${JSON.stringify(owners)}, want ${JSON.stringify(wantOwners)}`);
  }
  return problems;
}

async function deploymentUids(namespace: string): Promise<Map<string, string>> {
  const ds = await listObjects<Obj>("deployments", namespace);
  return new Map(ds.map(d => [d.metadata.name, String(d.metadata.uid)]));
}

/** Waits until the namespace holds exactly the rendered companions; returns them as stored. */
async function converged(namespace: string, inputs: Obj[]): Promise<Obj[]> {
  const expected = rendered(inputs).filter(o => o.metadata.namespace === namespace);
  return waitFor(
    `namespace ${namespace} to hold exactly the rendered companions`,
    async () => {
      const stored = await companions(namespace);
      const problems = differences(stored, expected, await deploymentUids(namespace));
      if (problems.length > 0) throw new Error(`\n  ${problems.join("\n  ")}`);
      return stored;
    },
    CONVERGE,
  );
}

/** Waits until the module has made no write for QUIET_MS (its queue is drained). */
async function quiet(): Promise<void> {
  await waitFor(
    "the module to stop writing",
    async () => {
      const mark = auditMark();
      await delay(QUIET_MS);
      return writesBy(user(), mark).length === 0;
    },
    { timeoutMs: 120_000, intervalMs: 0 },
  );
}

/** The part of a companion the module sets (or that someone else may edit), without server bookkeeping. */
const content = (o: Obj): string => {
  const { metadata, status, ...rest } = o as Obj & { status?: unknown };
  void status;
  return JSON.stringify({
    name: metadata.name,
    labels: metadata.labels,
    annotations: metadata.annotations,
    ownerReferences: metadata.ownerReferences,
    rest,
  });
};

async function events(
  namespace: string,
): Promise<(Obj & { reason: string; message: string; involvedObject: { kind: string; name: string; uid?: string } })[]> {
  return listObjects("events", namespace);
}

const patchJson = (type: string, name: string, namespace: string, ops: unknown[]): Promise<string> =>
  kubectlOk(["patch", type, name, "-n", namespace, "--type=json", "-p", JSON.stringify(ops)]);

const setAnnotations = (inputs: Obj[], kind: string, name: string, set: Record<string, string | null>): void => {
  const o = inputs.find(i => i.kind === kind && i.metadata.name === name)!;
  const a = { ...(o.metadata.annotations ?? {}) };
  for (const [k, v] of Object.entries(set)) {
    if (v === null) delete a[k];
    else a[k] = v;
  }
  o.metadata.annotations = a;
};

/** `kubectl annotate` with the same changes as setAnnotations (null removes). */
const annotate = (type: string, name: string, namespace: string | undefined, set: Record<string, string | null>): Promise<string> =>
  kubectlOk([
    "annotate",
    "--overwrite",
    type,
    name,
    ...(namespace ? ["-n", namespace] : []),
    ...Object.entries(set).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`)),
  ]);

// ---- the suite ---------------------------------------------------------------------------------------

describe("reconcile", () => {
  const NS = "ai";
  const CONFLICT_NS = "rc-conflict";
  const LAST_NS = "rc-last";
  let inputs: Obj[];

  beforeAll(async () => {
    await deleteNamespaces([NS, CONFLICT_NS, LAST_NS]);
    configFile = await setClusterConfig(SUITE_CONFIG);
    logStart = watcherLogStart();
  });

  afterAll(async () => {
    const w = state().controllers.find(c => c.role === "watcher");
    console.log(`reconcile: measured writes by ${user()}:\n${JSON.stringify(measured, null, 2)}`);
    writeFileSync(join(state().dir, "reconcile-writes.json"), `${JSON.stringify(measured, null, 2)}\n`);
    // The watcher logged no error while this suite ran (pino: level 50 and up).
    const errors = w
      ? readFileSync(w.logFile, "utf8")
          .slice(logStart)
          .split("\n")
          .filter(l => /^\{.*"level":(5\d|6\d)/.test(l))
      : [];
    await deleteNamespaces([NS, CONFLICT_NS, LAST_NS]);
    await setClusterConfig("");
    expectModuleAlive();
    expect(errors.map(l => l.slice(0, 600))).toEqual([]);
  });

  describe("the seed example", () => {
    let seedMark: number;

    it("yields exactly SPEC §9's companions, as render prints them, owned by their Deployments", async () => {
      inputs = seedObjects();
      seedMark = auditMark();
      const r = await applyYaml(inputs);
      expect(r.code).toBe(0);
      const stored = await converged(NS, inputs);
      // SPEC §9, spelled out (and §5: the mlserver Service also exposes gRPC on 8081).
      expect(stored.map(key)).toEqual([
        "AuthorizationPolicy/ai-workloads-require-jwt",
        "AuthorizationPolicy/librechat-public",
        "AuthorizationPolicy/runtime-openai-public",
        "HorizontalPodAutoscaler/runtime-openai",
        "RequestAuthentication/ai-workloads-aad",
        "Service/librechat",
        "Service/librechat-backend",
        "Service/runtime-openai",
        "VirtualService/ai-workloads",
      ]);
      const get = (k: string) => stored.find(o => key(o) === k) as Obj & { spec: Record<string, any> };
      expect(
        ["runtime-openai", "librechat-backend", "librechat"].map(n => get(`Service/${n}`).spec.ports.map((p: { port: number }) => p.port)),
      ).toEqual([[8000, 8081], [3000], [4180]]);
      const hpa = get("HorizontalPodAutoscaler/runtime-openai").spec;
      expect([hpa.minReplicas, hpa.maxReplicas, hpa.metrics[0].resource.target.averageUtilization]).toEqual([1, 10, 60]);
      expect(
        get("VirtualService/ai-workloads").spec.http.map(
          (h: { match: { uri: { exact?: string } }[] }) => h.match.map(m => m.uri.exact).filter(Boolean)[0],
        ),
      ).toEqual(["/apps/runtime-openai", "/apps/librechat"]);
      expect(get("AuthorizationPolicy/runtime-openai-public").spec.rules).toEqual([{ to: [{ operation: { paths: ["/docs"] } }] }]);
      expect(get("AuthorizationPolicy/librechat-public").spec.rules).toEqual([{ to: [{ operation: { paths: ["/*"] } }] }]);
      // Server-side apply with the module's field manager.
      for (const o of stored) {
        const managers = (o.metadata.managedFields as { manager: string; operation: string }[])
          .filter(m => m.operation === "Apply")
          .map(m => m.manager);
        expect({ object: key(o), managers }).toEqual({ object: key(o), managers: ["ai-workloads"] });
      }
    });

    it("is written by the module's ServiceAccount under the emitted RBAC, with no 403", async () => {
      await quiet();
      const writes = writesBy(user(), seedMark);
      measured.seedApply = { companionWrites: companionWrites(writes).map(describeWrite), eventWrites: eventWrites(writes).length };
      expect(forbiddenWrites(user(), seedMark).map(describeWrite)).toEqual([]);
      expect(writes.filter(e => (e.responseStatus?.code ?? 0) >= 400).map(describeWrite)).toEqual([]);
      // Every companion was created by the module (server-side apply is a PATCH), and nobody else wrote one.
      const created = new Set(
        companionWrites(writes)
          .filter(e => e.verb === "patch" && e.responseStatus?.code === 201)
          .map(e => `${e.objectRef?.resource}/${e.objectRef?.name}`),
      );
      const stored = await companions(NS);
      for (const o of stored) {
        const resource = {
          Service: "services",
          HorizontalPodAutoscaler: "horizontalpodautoscalers",
          VirtualService: "virtualservices",
          RequestAuthentication: "requestauthentications",
          AuthorizationPolicy: "authorizationpolicies",
        }[o.kind]!;
        expect({ object: key(o), createdByModule: created.has(`${resource}/${o.metadata.name}`) }).toEqual({
          object: key(o),
          createdByModule: true,
        });
      }
      // Each object created once; only the namespace-wide objects, which depend on several Deployments,
      // may be updated again while the Deployments arrive one by one (the VirtualService gains a route).
      const creates = companionWrites(writes).filter(e => e.responseStatus?.code === 201);
      expect(creates.length).toBe(stored.length);
      const updated = companionWrites(writes).filter(e => e.responseStatus?.code !== 201);
      expect(
        updated
          .filter(e => !["ai-workloads", "ai-workloads-aad", "ai-workloads-require-jwt"].includes(e.objectRef?.name ?? ""))
          .map(describeWrite),
      ).toEqual([]);
      // CompanionsApplied Events on the Deployments and on the Namespace.
      const evs = (await events(NS))
        .filter(e => e.reason === "CompanionsApplied")
        .map(e => `${e.involvedObject.kind}/${e.involvedObject.name}`);
      expect(new Set(evs)).toEqual(new Set(["Deployment/runtime-openai", "Deployment/librechat-backend", "Deployment/librechat"]));
      const nsEvents = (await events("default")).filter(
        e => e.reason === "CompanionsApplied" && e.involvedObject.kind === "Namespace" && e.involvedObject.name === NS,
      );
      expect(nsEvents.length).toBeGreaterThan(0);
    });

    it("an unchanged resync makes zero writes (companions and Events)", async () => {
      await quiet();
      const before = await companions(NS);
      const mark = auditMark();
      // A change the watcher sees and that enqueues the namespace, but that changes nothing wanted.
      await annotate("namespace", NS, undefined, { "e2e.example.com/touch": String(Date.now()) });
      // And one on a Deployment (through admission, as any update): also enqueues it.
      await kubectlOk(["label", "--overwrite", "deployment", "runtime-openai", "-n", NS, `e2e.example.com/touch=${Date.now()}`]);
      await quiet();
      const writes = writesBy(user(), mark);
      measured.unchangedResync = {
        companionWrites: companionWrites(writes).length,
        eventWrites: eventWrites(writes).length,
        all: writes.map(describeWrite),
      };
      expect(writes.map(describeWrite)).toEqual([]);
      // Content unchanged (resourceVersions move with status updates by the HPA controller).
      expect((await companions(NS)).map(content)).toEqual(before.map(content));
      // The watcher is live and acted on the namespace meanwhile: a deleted object comes back.
      await kubectlOk(["delete", TYPE_OF.RequestAuthentication, "ai-workloads-aad", "-n", NS]);
      await converged(NS, inputs);
    });

    it("one annotation change writes exactly the objects whose content changed", async () => {
      await quiet();
      const before = new Map((await companions(NS)).map(o => [key(o), content(o)]));
      const mark = auditMark();
      await annotate("deployment", "runtime-openai", NS, { "ai-workloads.io/autoscale": "1-5" });
      setAnnotations(inputs, "Deployment", "runtime-openai", { "ai-workloads.io/autoscale": "1-5" });
      await converged(NS, inputs);
      await quiet();
      const after = new Map((await companions(NS)).map(o => [key(o), content(o)]));
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter(k => before.get(k) !== after.get(k));
      const writes = writesBy(user(), mark);
      measured.oneAnnotationChange = {
        change: "Deployment ai/runtime-openai ai-workloads.io/autoscale 1-10 -> 1-5",
        changedObjects: changed,
        companionWrites: companionWrites(writes).map(describeWrite),
        eventWrites: eventWrites(writes).length,
      };
      expect(changed).toEqual(["HorizontalPodAutoscaler/runtime-openai"]);
      expect(companionWrites(writes).length).toBe(changed.length);
      expect(eventWrites(writes).length).toBe(1);
      expect(writes.length).toBe(companionWrites(writes).length + eventWrites(writes).length);
    });

    it("restores a deleted VirtualService, Service and AuthorizationPolicy", async () => {
      const old = new Map((await companions(NS)).map(o => [key(o), String(o.metadata.uid)]));
      for (const [kind, name] of [
        ["VirtualService", "ai-workloads"],
        ["Service", "runtime-openai"],
        ["AuthorizationPolicy", "ai-workloads-require-jwt"],
        ["AuthorizationPolicy", "librechat-public"],
      ]) {
        await kubectlOk(["delete", TYPE_OF[kind], name, "-n", NS]);
        const stored = await converged(NS, inputs);
        const now = stored.find(o => key(o) === `${kind}/${name}`)!;
        expect(now.metadata.uid).not.toBe(old.get(`${kind}/${name}`));
      }
    });

    it("reverts an edited Service port, VirtualService path and AuthorizationPolicy path", async () => {
      await patchJson(TYPE_OF.Service, "runtime-openai", NS, [{ op: "replace", path: "/spec/ports/0/port", value: 9999 }]);
      await converged(NS, inputs);
      await patchJson(TYPE_OF.VirtualService, "ai-workloads", NS, [
        { op: "replace", path: "/spec/http/0/match/0/uri/prefix", value: "/elsewhere/" },
      ]);
      await converged(NS, inputs);
      await patchJson(TYPE_OF.AuthorizationPolicy, "runtime-openai-public", NS, [
        { op: "replace", path: "/spec/rules/0/to/0/operation/paths", value: ["/*"] },
      ]);
      await converged(NS, inputs);
      // A label the module sets, removed by someone: put back (the object stays the module's).
      await kubectlOk(["label", TYPE_OF.Service, "librechat", "-n", NS, `${APP_LABEL}-`]);
      await converged(NS, inputs);
    });

    it("converges on Deployment annotation changes: expose false, public-paths, autoscale off, path-prefix", async () => {
      const changes: [string, Record<string, string | null>][] = [
        ["runtime-openai", { "ai-workloads.io/expose": "false" }],
        ["runtime-openai", { "ai-workloads.io/public-paths": "/docs,/v2/models/*" }],
        ["runtime-openai", { "ai-workloads.io/autoscale": "off" }],
        ["librechat", { "ai-workloads.io/path-prefix": "/chat" }],
        ["runtime-openai", { "ai-workloads.io/expose": null, "ai-workloads.io/public-paths": "none" }],
      ];
      for (const [name, set] of changes) {
        await annotate("deployment", name, NS, set);
        setAnnotations(inputs, "Deployment", name, set);
        await converged(NS, inputs);
      }
      const stored = await companions(NS);
      expect(stored.map(key)).not.toContain("HorizontalPodAutoscaler/runtime-openai");
      expect(stored.map(key)).not.toContain("AuthorizationPolicy/runtime-openai-public");
    });

    it("converges on Namespace annotation changes: host, require-jwt false, request-auth false", async () => {
      const changes: Record<string, string | null>[] = [
        { "ai-workloads.io/host": "chat.example.org" },
        { "ai-workloads.io/require-jwt": "false" },
        { "ai-workloads.io/request-auth": "false" },
        { "ai-workloads.io/require-jwt": "true", "ai-workloads.io/allow-same-namespace": "false" },
      ];
      for (const set of changes) {
        await annotate("namespace", NS, undefined, set);
        setAnnotations(inputs, "Namespace", NS, set);
        await converged(NS, inputs);
      }
      const vs = (await getObject<Obj & { spec: { hosts: string[] } }>(TYPE_OF.VirtualService, "ai-workloads", NS))!;
      expect(vs.spec.hosts).toEqual(["chat.example.org"]);
      expect(await getObject(TYPE_OF.RequestAuthentication, "ai-workloads-aad", NS)).toBeUndefined();
    });

    it("removing the ai-workloads.io/kind label removes that app's companions", async () => {
      await kubectlOk(["label", "deployment", "librechat-backend", "-n", NS, `${KIND_LABEL}-`]);
      const d = inputs.find(o => o.kind === "Deployment" && o.metadata.name === "librechat-backend")!;
      delete d.metadata.labels![KIND_LABEL];
      const stored = await converged(NS, inputs);
      expect(stored.filter(o => o.metadata.labels?.[APP_LABEL] === "librechat-backend").map(key)).toEqual([]);
      // The Deployment itself stays, handed back.
      expect(await getObject("deployment", "librechat-backend", NS)).toBeDefined();
      const all = await companions(NS, false);
      expect(all.filter(o => o.metadata.name === "librechat-backend").map(key)).toEqual([]);
    });
  });

  it("leaves a pre-existing unmanaged Service of an app's name untouched and reports CompanionConflict", async () => {
    const ns = CONFLICT_NS;
    await applyYaml([{ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }]);
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: ns, labels: { team: "web" } },
      spec: { selector: { app: "something-else" }, ports: [{ name: "web", port: 80, targetPort: 8080 }] },
    };
    expect((await applyYaml([service])).code).toBe(0);
    const original = (await getObject<Obj>("service", "web", ns))!;
    const mark = auditMark();
    const web = mlserver(ns, "web");
    expect((await applyYaml([web])).code).toBe(0);
    // Everything else is as rendered (the render has the Service too: offline, nothing is taken).
    const expected = rendered([{ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, web]).filter(o => key(o) !== "Service/web");
    const uids = await deploymentUids(ns);
    await waitFor(
      `the other companions in ${ns}`,
      async () => {
        const problems = differences(await companions(ns), expected, uids);
        if (problems.length > 0) throw new Error(problems.join("; "));
        return true;
      },
      CONVERGE,
    );
    const conflict = await waitFor(
      "a CompanionConflict Event on Deployment web",
      async () =>
        (await events(ns)).find(
          e => e.reason === "CompanionConflict" && e.involvedObject.kind === "Deployment" && e.involvedObject.name === "web",
        ),
      CONVERGE,
    );
    expect(conflict.involvedObject.uid).toBe(uids.get("web"));
    expect(conflict.message).toContain("Service/web");
    await quiet();
    const now = (await getObject<Obj>("service", "web", ns))!;
    expect(now.metadata.resourceVersion).toBe(original.metadata.resourceVersion);
    expect(now.metadata.labels).toEqual({ team: "web" });
    expect(
      writesBy(user(), mark)
        .filter(e => e.objectRef?.resource === "services")
        .map(describeWrite),
    ).toEqual([]);
    // Reported once: a resync writes no second Event.
    const mark2 = auditMark();
    await annotate("namespace", ns, undefined, { "e2e.example.com/touch": "1" });
    await kubectlOk(["label", "--overwrite", "deployment", "web", "-n", ns, "e2e.example.com/touch=1"]);
    await quiet();
    measured.conflictResync = { writes: writesBy(user(), mark2).map(describeWrite) };
    expect(writesBy(user(), mark2).map(describeWrite)).toEqual([]);
  });

  it("deleting a Deployment removes its objects by garbage collection and updates the namespace objects; the last one removes them", async () => {
    const ns = LAST_NS;
    // No ai-workloads annotation on the Namespace: its namespace objects come from the cluster config,
    // which applies only while the namespace holds a managed Deployment.
    const nsObj: Obj = { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } };
    const alpha = mlserver(ns, "alpha", { "ai-workloads.io/public-paths": "/docs" });
    const beta = mlserver(ns, "beta");
    expect((await applyYaml([nsObj, alpha, beta])).code).toBe(0);
    const all = await converged(ns, [nsObj, alpha, beta]);
    expect(all.map(key)).toEqual([
      "AuthorizationPolicy/ai-workloads-require-jwt",
      "AuthorizationPolicy/alpha-public",
      "HorizontalPodAutoscaler/alpha",
      "HorizontalPodAutoscaler/beta",
      "RequestAuthentication/ai-workloads-aad",
      "Service/alpha",
      "Service/beta",
      "VirtualService/ai-workloads",
    ]);
    await quiet();

    // Background deletion (kubectl's default): the Deployment goes, the GC removes what it owns.
    let mark = auditMark();
    await kubectlOk(["delete", "deployment", "alpha", "-n", ns]);
    const left = await converged(ns, [nsObj, beta]);
    expect(left.map(key)).toEqual([
      "AuthorizationPolicy/ai-workloads-require-jwt",
      "HorizontalPodAutoscaler/beta",
      "RequestAuthentication/ai-workloads-aad",
      "Service/beta",
      "VirtualService/ai-workloads",
    ]);
    await quiet();
    const deletes = (since: number) =>
      writesBy(GC_USER, since)
        .concat(writesBy(user(), since))
        .filter(
          e => done(e) && e.verb === "delete" && COMPANION_RESOURCES.has(e.objectRef?.resource ?? "") && e.objectRef?.namespace === ns,
        )
        .map(e => `${e.user.username === GC_USER ? "gc" : "module"}: ${describeWrite(e)}`)
        .sort();
    measured.deleteDeploymentBackground = { deletes: deletes(mark), moduleWrites: writesBy(user(), mark).map(describeWrite) };
    // The module re-created nothing of alpha's.
    expect(
      writesBy(user(), mark)
        .filter(e => e.verb === "patch" && e.objectRef?.name?.startsWith("alpha"))
        .map(describeWrite),
    ).toEqual([]);

    // Foreground deletion: the Deployment stays (deletionTimestamp set) until the GC has removed
    // what it owns; the module must not re-create those objects meanwhile.
    mark = auditMark();
    await kubectlOk(["delete", "deployment", "beta", "-n", ns, "--cascade=foreground", "--wait=false"]);
    await waitFor("Deployment beta to be gone", async () => (await getObject("deployment", "beta", ns)) === undefined, CONVERGE);
    await converged(ns, [nsObj]);
    expect(await companions(ns, false)).toEqual([]);
    await quiet();
    measured.deleteLastDeploymentForeground = { deletes: deletes(mark), moduleWrites: writesBy(user(), mark).map(describeWrite) };
    expect(
      writesBy(user(), mark)
        .filter(e => e.verb === "patch" && COMPANION_RESOURCES.has(e.objectRef?.resource ?? ""))
        .map(describeWrite),
    ).toEqual([]);
  });
});
