// Day two (SPEC §12): what happens after a Deployment was created into a healthy cluster.
// Annotations edited and re-applied by kubectl's client-side apply (three-way merge) and by
// server-side apply, checked on the stored Deployment; a profile removed from the config, the
// config deleted, a malformed Namespace annotation stored behind the module's back, one app the
// API server refuses among healthy ones, a Deployment that no longer resolves, and a second
// field manager's Service port. Security and routing objects never go for want of input, one
// app's problem stays with it, and others' fields cost no writes (counted in the audit log).
//
// `npm run test:e2e -- -t "day two"` runs exactly these. Each scenario has its own namespaces;
// the cluster config is set per scenario and restored to the built-in defaults afterwards.
import { TEST_TENANT } from "../../capabilities/core/testing";
import {
  KIND_LABEL,
  type AuditEvent,
  type Obj,
  type Result,
  CONFIG_MAP_NAME,
  apiserverRequestCount,
  applyYaml,
  auditMark,
  delay,
  deleteNamespaces,
  denial,
  expectModuleAlive,
  getObject,
  kubectl,
  kubectlOk,
  kubectlWarnings,
  listObjects,
  resyncMs,
  setClusterConfig,
  state,
  waitFor,
  writesBy,
  withWebhooksOff,
  COMPANION_TYPES,
  TYPE_OF,
  type RefusedObject,
  refuseObject,
  refusalMessage,
} from "./harness";

jest.setTimeout(10 * 60_000);

const RECORD = "ai-workloads.io/applied-defaults";
const PROFILE = "ai-workloads.io/infra-profile";
const MANAGED = "app.kubernetes.io/managed-by=ai-workloads";
const NS_WEBHOOK = "namespaces.pepr-ai-workloads.pepr.dev";
/** The ValidatingAdmissionPolicy (and binding) that refuses one Service. */
const REFUSE_POLICY = "e2e-day-two-refuse-service";
/** The ValidatingAdmissionPolicy (and binding) that refuses the namespace's require-jwt AuthorizationPolicy. */
const REFUSE_GUARD_POLICY = "e2e-day-two-refuse-require-jwt";
const REQUIRE_JWT: RefusedObject = {
  apiGroup: "security.istio.io",
  apiVersion: "v1",
  resource: "authorizationpolicies",
  kind: "AuthorizationPolicy",
  name: "ai-workloads-require-jwt",
  body: { spec: {} },
};
const AUDIENCE = "api://3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab";
const GATEWAY = "istio-system/ai-workloads-gateway";
const CONVERGE = { timeoutMs: 120_000, intervalMs: 500 };
/** What a secured namespace holds for one mlserver app `model` with public paths. */
const SECURED_MODEL_OBJECTS = [
  "AuthorizationPolicy/ai-workloads-require-jwt",
  "AuthorizationPolicy/model-public",
  "HorizontalPodAutoscaler/model",
  "RequestAuthentication/ai-workloads-aad",
  "Service/model",
  "VirtualService/ai-workloads",
];

/** Every namespace this suite creates (deleted before and after). */
const NAMESPACES = {
  client: "dt-apply-client",
  server: "dt-apply-server",
  profile: "dt-profile-gone",
  config: "dt-config-gone",
  badNs: "dt-bad-namespace",
  partial: "dt-partial",
  guardRefused: "dt-guard-refused",
  unresolved: "dt-unresolved",
  extraPort: "dt-extra-port",
  basePath: "dt-base-path",
};

/** Namespace annotations giving a route (host, gateway) and the JWT objects (tenant, request-auth, require-jwt). */
const SECURED_NS = {
  "ai-workloads.io/host": "day-two.example.com",
  "ai-workloads.io/gateway": GATEWAY,
  "ai-workloads.io/aad-tenant-id": TEST_TENANT,
  "ai-workloads.io/aad-audience": AUDIENCE,
  "ai-workloads.io/request-auth": "true",
  "ai-workloads.io/require-jwt": "true",
};
const ROUTED_NS = { "ai-workloads.io/host": "day-two.example.com", "ai-workloads.io/gateway": GATEWAY };

// ---- types and inputs ------------------------------------------------------------------------------

type Probe = { httpGet?: { path?: string; port?: string | number }; timeoutSeconds?: number; [k: string]: unknown };
interface Container {
  name: string;
  image?: string;
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  env?: { name: string; value?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}
type Deployment = Obj & {
  metadata: Obj["metadata"] & { generation?: number; resourceVersion?: string; uid?: string };
  spec: {
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        containers: Container[];
        nodeSelector?: Record<string, string>;
        tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
      };
    };
  };
};
type Service = Obj & { spec: { ports: { name?: string; port: number; targetPort?: string | number; protocol?: string }[] } };
type VirtualService = Obj & { spec: { http: { name: string; match: { uri: { prefix?: string; exact?: string } }[] }[] } };
type Event = Obj & { reason: string; message: string; type: string; involvedObject: { kind: string; name: string; namespace?: string } };

function deployment(namespace: string, name: string, kind: "mlserver" | "librechat", annotations: Record<string, string> = {}): Deployment {
  const container: Container =
    kind === "mlserver"
      ? { name: "mlserver", image: "docker.io/seldonio/mlserver:1.6.1" }
      : {
          name: "librechat",
          image: "ghcr.io/danny-avila/librechat:v0.7.7",
          env: [{ name: "MONGO_URI", value: "mongodb://mongo.example.svc.cluster.local:27017/chat" }],
        };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { [KIND_LABEL]: kind }, annotations },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": name } },
      template: { metadata: { labels: { "app.kubernetes.io/name": name } }, spec: { containers: [container] } },
    },
  } as Deployment;
}

const namespaceObject = (name: string, annotations: Record<string, string> = {}): Obj => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, annotations },
});

const withAnnotations = (d: Deployment, set: Record<string, string | null>): Deployment => {
  const copy = JSON.parse(JSON.stringify(d)) as Deployment;
  const a = { ...(copy.metadata.annotations ?? {}) };
  for (const [k, v] of Object.entries(set)) {
    if (v === null) delete a[k];
    else a[k] = v;
  }
  copy.metadata.annotations = a;
  return copy;
};

// ---- reading the cluster ----------------------------------------------------------------------------

const user = (): string => state().serviceAccount.user;
const key = (o: Obj): string => `${o.kind}/${o.metadata.name}`;
const done = (e: AuditEvent): boolean => e.stage === "ResponseComplete";
const describeWrite = (e: AuditEvent): string =>
  `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.namespace ?? ""}/${e.objectRef?.name ?? ""} -> ${e.responseStatus?.code}`;
/** The module's writes about one namespace: its objects and its Events (a Namespace's Events live in `default`). */
const moduleWritesIn = (namespace: string, since: number): AuditEvent[] =>
  writesBy(user(), since).filter(e => done(e) && e.objectRef?.namespace === namespace);

async function storedDeployment(namespace: string, name: string): Promise<Deployment> {
  const d = await getObject<Deployment>("deployment", name, namespace);
  if (!d) throw new Error(`Deployment ${namespace}/${name} is not stored`);
  return d;
}

/**
 * The Deployment once its controller has caught up with its spec: the controller writes its own
 * annotation (deployment.kubernetes.io/revision) when it rolls out a new template, which a read
 * taken before that would not have.
 */
async function settledDeployment(namespace: string, name: string): Promise<Deployment> {
  return waitFor(
    `Deployment ${namespace}/${name} to be observed by its controller`,
    async () => {
      const d = await storedDeployment(namespace, name);
      const observed = (d as { status?: { observedGeneration?: number } }).status?.observedGeneration;
      if (observed !== d.metadata.generation) throw new Error(`observedGeneration ${observed}, generation ${d.metadata.generation}`);
      return d;
    },
    CONVERGE,
  );
}

const primary = (d: Deployment): Container => d.spec.template.spec.containers[0];
const envOf = (c: Container): Record<string, string | undefined> => Object.fromEntries((c.env ?? []).map(e => [e.name, e.value]));

function recordOf(d: Deployment): Record<string, unknown> {
  const text = d.metadata.annotations?.[RECORD];
  if (text === undefined) throw new Error(`${d.metadata.namespace}/${d.metadata.name} has no ${RECORD} annotation`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Every object of a companion kind in the namespace labelled as the module's, sorted by kind/name. */
async function companions(namespace: string): Promise<Obj[]> {
  const out = await kubectlOk(["get", COMPANION_TYPES, "-n", namespace, "-l", MANAGED, "-o", "json"]);
  return (JSON.parse(out) as { items: Obj[] }).items.sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/** What a companion holds, without the server's bookkeeping (resourceVersion, status, managedFields). */
const content = (o: Obj): string => {
  const { metadata, status, ...rest } = o as Obj & { status?: unknown };
  void status;
  return JSON.stringify({
    kind: o.kind,
    name: metadata.name,
    uid: metadata.uid,
    labels: metadata.labels,
    annotations: metadata.annotations,
    ownerReferences: metadata.ownerReferences,
    rest,
  });
};

/** Waits until the namespace's managed companions are exactly `keys` (`Kind/name`); returns them. */
async function companionsAre(
  namespace: string,
  keys: string[],
  check: (objs: Obj[]) => string | undefined = () => undefined,
): Promise<Obj[]> {
  const want = [...keys].sort();
  return waitFor(
    `namespace ${namespace} to hold ${want.join(", ")}`,
    async () => {
      const objs = await companions(namespace);
      const got = objs.map(key);
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`it holds ${got.join(", ")}`);
      const problem = check(objs);
      if (problem) throw new Error(problem);
      return objs;
    },
    CONVERGE,
  );
}

const routeNames = (objs: Obj[]): string[] =>
  ((objs.find(o => key(o) === "VirtualService/ai-workloads") as VirtualService | undefined)?.spec.http ?? []).map(r => r.name);

/** Waits until the generated Service serves on this port; returns it. */
async function servicePort(namespace: string, name: string, port: number): Promise<Service> {
  return waitFor(
    `Service ${namespace}/${name} on port ${port}`,
    async () => {
      const s = await getObject<Service>("service", name, namespace);
      if (s?.spec.ports[0]?.port !== port) throw new Error(`ports ${JSON.stringify(s?.spec.ports)}`);
      return s;
    },
    CONVERGE,
  );
}

async function eventsIn(namespace: string): Promise<Event[]> {
  return listObjects<Event>("events", namespace);
}

/** Waits for an Event with this reason about the object; Events about a Namespace live in `default`. */
async function eventOn(kind: string, name: string, namespace: string | undefined, reason: string): Promise<Event> {
  return waitFor(
    `a ${reason} Event on ${kind} ${namespace ? `${namespace}/` : ""}${name}`,
    async () => {
      const evs = await eventsIn(namespace ?? "default");
      const found = evs.find(e => e.reason === reason && e.involvedObject.kind === kind && e.involvedObject.name === name);
      if (!found) {
        const seen = evs
          .filter(e => e.involvedObject.name === name)
          .map(e => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}`);
        throw new Error(`Events about it so far: ${JSON.stringify(seen)}`);
      }
      return found;
    },
    CONVERGE,
  );
}

/**
 * Watches the namespace for a while (past the next resync): the companions stay exactly as they
 * were (same objects, same content, same uids) and the module deletes nothing there.
 */
async function staysAsItWas(namespace: string, before: Obj[], label: string): Promise<AuditEvent[]> {
  const mark = auditMark();
  const until = Date.now() + resyncMs() + 5_000;
  while (Date.now() < until) {
    const now = await companions(namespace);
    expect({ label, objects: now.map(key) }).toEqual({ label, objects: before.map(key) });
    expect({ label, content: now.map(content) }).toEqual({ label, content: before.map(content) });
    await delay(2_000);
  }
  const writes = moduleWritesIn(namespace, mark);
  expect({ label, deletes: writes.filter(e => e.verb === "delete").map(describeWrite) }).toEqual({ label, deletes: [] });
  return writes;
}

async function mustApply(objs: Obj[], verb: "create" | "apply" | "apply-server"): Promise<Result> {
  const r = await applyYaml(objs, { verb });
  if (r.code !== 0) throw new Error(`kubectl ${verb} failed: ${denial(r.stderr)?.message ?? r.stderr.trim()}`);
  return r;
}

/** What was observed, printed at the end (the issue's closing note lists it). */
const observed: Record<string, unknown> = {};

// ---- the suite ---------------------------------------------------------------------------------------

describe("day two", () => {
  beforeAll(async () => {
    await deleteNamespaces(Object.values(NAMESPACES));
    await setClusterConfig("");
  });

  afterAll(async () => {
    console.log(`day two: observed:\n${JSON.stringify(observed, null, 2)}`);
    for (const policy of [REFUSE_POLICY, REFUSE_GUARD_POLICY])
      await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", policy, "--ignore-not-found"]);
    await deleteNamespaces(Object.values(NAMESPACES));
    await setClusterConfig("");
    expectModuleAlive();
  });

  // ---- 1. changes take effect, by either kind of apply (SPEC §12.1) ----------------------------------

  describe.each([
    ["kubectl apply (client-side)", "apply", NAMESPACES.client],
    ["kubectl apply --server-side", "apply-server", NAMESPACES.server],
  ] as const)("changes applied with %s", (mode, verb, ns) => {
    const apply = (d: Deployment): Promise<Result> => mustApply([d], verb);

    beforeAll(async () => {
      await deleteNamespaces([ns]);
      await mustApply([namespaceObject(ns)], "create");
    });

    it("infra-profile gpu-small -> cpu-small drops the GPU limit, nodeSelector and toleration, and fills cpu-small", async () => {
      const manifest = deployment(ns, "profiled", "mlserver", { [PROFILE]: "gpu-small" });
      await apply(manifest);
      const gpu = await storedDeployment(ns, "profiled");
      // gpu-small as filled on day one.
      expect(primary(gpu).resources).toEqual({ requests: { cpu: "2", memory: "8Gi" }, limits: { memory: "16Gi", "nvidia.com/gpu": "1" } });
      expect(gpu.spec.template.spec.nodeSelector).toEqual({ workload: "gpu" });
      expect(gpu.spec.template.spec.tolerations).toEqual([{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }]);
      expect(recordOf(gpu).v).toBe(1);

      await apply(withAnnotations(manifest, { [PROFILE]: "cpu-small" }));
      const cpu = await storedDeployment(ns, "profiled");
      const pod = cpu.spec.template.spec;
      observed[`${mode}: gpu-small -> cpu-small`] = {
        before: {
          resources: primary(gpu).resources,
          nodeSelector: gpu.spec.template.spec.nodeSelector,
          tolerations: gpu.spec.template.spec.tolerations,
        },
        after: {
          resources: primary(cpu).resources,
          nodeSelector: pod.nodeSelector,
          tolerations: pod.tolerations,
          podAnnotations: cpu.spec.template.metadata.annotations,
        },
      };
      expect(primary(cpu).resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } });
      expect(pod.nodeSelector?.workload).toBeUndefined();
      expect((pod.tolerations ?? []).filter(t => t.key === "workload")).toEqual([]);
      expect(cpu.spec.template.metadata.annotations?.[PROFILE]).toBe("cpu-small");
      expect(recordOf(cpu).v).toBe(1);
    });

    it("librechat port 3000 -> 3080 is admitted: container port, PORT, probes on http, and the Service follow", async () => {
      const manifest = deployment(ns, "chat", "librechat", { "ai-workloads.io/port": "3000" });
      await apply(manifest);
      await servicePort(ns, "chat", 3000);
      const r = await applyYaml([withAnnotations(manifest, { "ai-workloads.io/port": "3080" })], { verb });
      expect({ code: r.code, denial: denial(r.stderr) }).toEqual({ code: 0, denial: undefined });
      const d = await storedDeployment(ns, "chat");
      const c = primary(d);
      observed[`${mode}: librechat port 3000 -> 3080`] = { ports: c.ports, env: envOf(c), warnings: kubectlWarnings(r.stderr) };
      expect((c.ports ?? []).map(p => ({ containerPort: p.containerPort, name: p.name }))).toEqual([{ containerPort: 3080, name: "http" }]);
      expect(envOf(c).PORT).toBe("3080");
      expect(c.livenessProbe?.httpGet?.port).toBe("http");
      expect(c.readinessProbe?.httpGet?.port).toBe("http");
      expect(recordOf(d).v).toBe(1);
      const svc = await servicePort(ns, "chat", 3080);
      expect(svc.spec.ports.map(p => ({ name: p.name, port: p.port, targetPort: p.targetPort }))).toEqual([
        { name: "http", port: 3080, targetPort: "http" },
      ]);
    });

    it("removing openai-backend removes OPENAI_REVERSE_PROXY and OPENAI_API_BASE", async () => {
      const manifest = deployment(ns, "webui", "librechat", { "ai-workloads.io/openai-backend": "runtime" });
      await apply(manifest);
      const before = envOf(primary(await storedDeployment(ns, "webui")));
      expect(before.OPENAI_REVERSE_PROXY).toBe(`http://runtime.${ns}.svc.cluster.local:8000/v1`);
      expect(before.OPENAI_API_BASE).toBe(`http://runtime.${ns}.svc.cluster.local:8000/v1`);
      await apply(withAnnotations(manifest, { "ai-workloads.io/openai-backend": null }));
      const d = await storedDeployment(ns, "webui");
      const after = envOf(primary(d));
      observed[`${mode}: openai-backend removed`] = { envBefore: Object.keys(before), envAfter: Object.keys(after) };
      expect(Object.keys(after)).not.toContain("OPENAI_REVERSE_PROXY");
      expect(Object.keys(after)).not.toContain("OPENAI_API_BASE");
      expect(after.PORT).toBe(before.PORT);
      expect(after.MONGO_URI).toBe(before.MONGO_URI);
      expect(recordOf(d).v).toBe(1);
    });

    it("a user's edit of a filled field (liveness timeoutSeconds 9) survives a later annotation change", async () => {
      const manifest = deployment(ns, "edited", "mlserver", { "ai-workloads.io/autoscale": "off" });
      await apply(manifest);
      const first = primary(await storedDeployment(ns, "edited"));
      expect(first.livenessProbe?.timeoutSeconds).not.toBe(9);
      await kubectlOk([
        "patch",
        "deployment",
        "edited",
        "-n",
        ns,
        "--field-manager=e2e-user-edit",
        "--type=strategic",
        "-p",
        JSON.stringify({ spec: { template: { spec: { containers: [{ name: "mlserver", livenessProbe: { timeoutSeconds: 9 } }] } } } }),
      ]);
      expect(primary(await storedDeployment(ns, "edited")).livenessProbe?.timeoutSeconds).toBe(9);
      // Two later changes, each by this kind of apply.
      await apply(withAnnotations(manifest, { "ai-workloads.io/port": "8001" }));
      await apply(withAnnotations(manifest, { "ai-workloads.io/port": "8001", [PROFILE]: "cpu-small" }));
      const d = await storedDeployment(ns, "edited");
      const c = primary(d);
      observed[`${mode}: user edit survives`] = { livenessProbe: c.livenessProbe, ports: c.ports, resources: c.resources };
      expect(c.livenessProbe?.timeoutSeconds).toBe(9);
      expect(c.livenessProbe?.httpGet).toEqual(expect.objectContaining({ path: "/v2/health/live", port: "http" }));
      // The annotation changes took effect.
      expect((c.ports ?? []).filter(p => p.name === "http" || p.containerPort === 8000).map(p => `${p.name}:${p.containerPort}`)).toEqual([
        "http:8001",
      ]);
      expect(envOf(c).MLSERVER_HTTP_PORT).toBe("8001");
      expect(c.resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } });
      expect(recordOf(d).v).toBe(1);
    });

    it("re-applying the same manifest changes nothing stored", async () => {
      const manifest = deployment(ns, "steady", "mlserver", { "ai-workloads.io/autoscale": "2-4", [PROFILE]: "cpu-small" });
      await apply(manifest);
      // After a change too: the changed manifest, applied twice.
      const changed = withAnnotations(manifest, { [PROFILE]: "cpu-medium" });
      await apply(changed);
      const before = await settledDeployment(ns, "steady");
      const r = await apply(changed);
      const after = await settledDeployment(ns, "steady");
      observed[`${mode}: unchanged re-apply`] = {
        generation: [before.metadata.generation, after.metadata.generation],
        resourceVersion: [before.metadata.resourceVersion, after.metadata.resourceVersion],
        kubectlSaid: r.stderr.trim(),
      };
      expect(after.metadata.generation).toBe(before.metadata.generation);
      expect(after.spec).toEqual(before.spec);
      expect(after.metadata.annotations).toEqual(before.metadata.annotations);
      expect(recordOf(after).v).toBe(1);
      expect(primary(after).resources).toEqual({ requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } });
    });
  });

  // ---- 2. a profile removed from the config (SPEC §12.2, §12.3, §12.4) -------------------------------------

  it("a profile removed from the config: JWT objects and route stay, ConfigError, and the Deployment can still be updated and deleted", async () => {
    const ns = NAMESPACES.profile;
    const profiles = `
infraProfiles:
  dt-custom:
    resources: { requests: { cpu: 300m, memory: 300Mi } }
`;
    await setClusterConfig(profiles);
    await mustApply([namespaceObject(ns, SECURED_NS), deployment(ns, "model", "mlserver", { [PROFILE]: "dt-custom" })], "create");
    const before = await companionsAre(
      ns,
      [
        "AuthorizationPolicy/ai-workloads-require-jwt",
        "HorizontalPodAutoscaler/model",
        "RequestAuthentication/ai-workloads-aad",
        "Service/model",
        "VirtualService/ai-workloads",
      ],
      objs => (JSON.stringify(routeNames(objs)) === JSON.stringify(["model"]) ? undefined : `routes ${JSON.stringify(routeNames(objs))}`),
    );
    const admitted = await storedDeployment(ns, "model");
    expect(primary(admitted).resources?.requests).toEqual({ cpu: "300m", memory: "300Mi" });

    // The profile leaves the config.
    await setClusterConfig("");
    const configError = await eventOn("Deployment", "model", ns, "ConfigError");
    const writes = await staysAsItWas(ns, before, "after the profile left the config");

    // An image bump is admitted, with the stored problem as a warning; stored as sent.
    const bump = await kubectl(["set", "image", "deployment/model", "mlserver=docker.io/seldonio/mlserver:1.6.2", "-n", ns]);
    const warnings = kubectlWarnings(bump.stderr);
    expect({ code: bump.code, denial: denial(bump.stderr) }).toEqual({ code: 0, denial: undefined });
    expect(warnings.some(w => w.includes("(present before this change)"))).toBe(true);
    const bumped = await storedDeployment(ns, "model");
    expect(primary(bumped).image).toBe("docker.io/seldonio/mlserver:1.6.2");
    expect(primary(bumped).resources).toEqual(primary(admitted).resources);
    expect(bumped.metadata.annotations?.[RECORD]).toBe(admitted.metadata.annotations?.[RECORD]);

    // Foreground deletion completes (the garbage collector's finalizer update is admitted).
    await kubectlOk(["delete", "deployment", "model", "-n", ns, "--cascade=foreground", "--wait=false"]);
    await waitFor("Deployment model to be gone", async () => (await getObject("deployment", "model", ns)) === undefined, CONVERGE);
    observed["profile removed from the config"] = {
      before: before.map(key),
      routes: routeNames(before),
      configError: configError.message,
      moduleWritesWhileKept: writes.map(describeWrite),
      imageBumpWarnings: warnings,
      foregroundDeletion: "completed",
    };
    await deleteNamespaces([ns]);
  });

  // ---- 3. the config deleted (SPEC §12.4) ------------------------------------------------------------------

  it("the config deleted after it was seen: RequestAuthentication, AuthorizationPolicies and VirtualService stay, ConfigError", async () => {
    const ns = NAMESPACES.config;
    const secured = `
istio:
  host: config-gone.example.com
  gateway: ${GATEWAY}
aad:
  tenantId: ${TEST_TENANT}
  apiAudience: ${AUDIENCE}
  requestAuth: true
  requireJwt: true
  allowSameNamespace: true
`;
    await setClusterConfig(secured);
    try {
      await mustApply([namespaceObject(ns), deployment(ns, "model", "mlserver", { "ai-workloads.io/public-paths": "/docs" })], "create");
      const before = await companionsAre(ns, SECURED_MODEL_OBJECTS);
      await kubectlOk(["delete", "configmap", CONFIG_MAP_NAME, "-n", state().configNamespace]);
      const writes = await staysAsItWas(ns, before, "after the config was deleted");
      // On the Namespace whose objects are kept, or on the ConfigMap (gone, but its Events stay).
      const configErrors = async (): Promise<Event[]> => [
        ...(await eventsIn("default")).filter(
          e => e.reason === "ConfigError" && e.involvedObject.kind === "Namespace" && e.involvedObject.name === ns,
        ),
        ...(await eventsIn(state().configNamespace)).filter(
          e => e.reason === "ConfigError" && e.involvedObject.kind === "ConfigMap" && e.involvedObject.name === CONFIG_MAP_NAME,
        ),
      ];
      observed["config deleted"] = {
        kept: before.map(key),
        moduleWritesWhileKept: writes.map(describeWrite),
        configErrors: (await configErrors()).map(e => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`),
      };
      const configError = await waitFor(
        `a ConfigError Event on Namespace ${ns} or on the ConfigMap`,
        async () => (await configErrors())[0],
        CONVERGE,
      );
      expect(configError.message).toContain(CONFIG_MAP_NAME);
    } finally {
      // Other suites need a config.
      await setClusterConfig("");
    }
    await deleteNamespaces([ns]);
  });

  // ---- 4. a malformed Namespace annotation stored behind the module's back (SPEC §12.4) ----------------------

  it('a Namespace annotation stored as require-jwt: "True": its objects stay as they were, ConfigError on the Namespace', async () => {
    const ns = NAMESPACES.badNs;
    await mustApply(
      [namespaceObject(ns, SECURED_NS), deployment(ns, "model", "mlserver", { "ai-workloads.io/public-paths": "/docs" })],
      "create",
    );
    const before = await companionsAre(ns, SECURED_MODEL_OBJECTS);
    // The webhook would refuse it: stored with the webhooks off.
    await withWebhooksOff(() => kubectlOk(["annotate", "--overwrite", "namespace", ns, "ai-workloads.io/require-jwt=True"]));
    const stored = await getObject<Obj>("namespace", ns);
    expect(stored?.metadata.annotations?.["ai-workloads.io/require-jwt"]).toBe("True");
    const configError = await eventOn("Namespace", ns, undefined, "ConfigError");
    const writes = await staysAsItWas(ns, before, 'after require-jwt: "True" was stored');
    observed["malformed Namespace annotation"] = {
      kept: before.map(key),
      configError: configError.message,
      moduleWritesWhileKept: writes.map(describeWrite),
    };
    await deleteNamespaces([ns]);
  });

  // ---- 5. one app's problem stays with that app (SPEC §12.3) ---------------------------------------------------

  it("an app whose Service the API server refuses gets CompanionFailed; the healthy app beside it gets all its companions", async () => {
    const ns = NAMESPACES.partial;
    await mustApply([namespaceObject(ns, ROUTED_NS)], "create");
    await refuseObject(REFUSE_POLICY, ns);
    await mustApply([deployment(ns, "refused", "mlserver"), deployment(ns, "healthy", "mlserver")], "create");
    const stored = await companionsAre(
      ns,
      ["HorizontalPodAutoscaler/healthy", "HorizontalPodAutoscaler/refused", "Service/healthy", "VirtualService/ai-workloads"],
      objs => {
        const routes = routeNames(objs);
        return routes.includes("healthy") && routes.includes("refused") ? undefined : `routes ${JSON.stringify(routes)}`;
      },
    );
    const failed = await eventOn("Deployment", "refused", ns, "CompanionFailed");
    expect(failed.message).toContain("Service/refused");
    const healthyEvents = (await eventsIn(ns)).filter(e => e.involvedObject.name === "healthy").map(e => e.reason);
    expect(healthyEvents).not.toContain("CompanionFailed");
    expect(await getObject("service", "refused", ns)).toBeUndefined();
    const svc = (stored.find(o => key(o) === "Service/healthy") as Service).spec.ports.map(p => `${p.name}:${p.port}`);
    observed["one app refused among healthy ones"] = {
      stored: stored.map(key),
      routes: routeNames(stored),
      healthyService: svc,
      companionFailed: failed.message,
      healthyEventReasons: [...new Set(healthyEvents)],
    };
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", REFUSE_POLICY, "--ignore-not-found"]);
    await deleteNamespaces([ns]);
  });

  it("a refused require-jwt AuthorizationPolicy holds the route back, through client-side and server-side re-applies and a resync; once allowed, the rules go out before the route (JWT protection never fails open)", async () => {
    const ns = NAMESPACES.guardRefused;
    // A secured Namespace asks for its JWT rules by itself: the policy is in place before it is secured.
    await mustApply([namespaceObject(ns)], "create");
    await refuseObject(REFUSE_GUARD_POLICY, ns, REQUIRE_JWT);
    const mark = auditMark();
    await mustApply([namespaceObject(ns, SECURED_NS), deployment(ns, "model", "mlserver")], "apply");
    // Everything but the JWT rule and the route it guards; the route is not sent.
    const held = await companionsAre(ns, ["HorizontalPodAutoscaler/model", "RequestAuthentication/ai-workloads-aad", "Service/model"]);
    // One CompanionFailed Event on the Namespace per object: the refused rule, and the route held back for it.
    const failed = await waitFor(
      "CompanionFailed Events on the Namespace for the rule and the route",
      async () => {
        const messages = (await eventsIn("default"))
          .filter(e => e.reason === "CompanionFailed" && e.involvedObject.kind === "Namespace" && e.involvedObject.name === ns)
          .map(e => e.message);
        const rule = messages.find(m => m.startsWith("cannot apply AuthorizationPolicy/ai-workloads-require-jwt:"));
        const route = messages.find(m => m.startsWith("cannot apply VirtualService/ai-workloads:"));
        if (rule === undefined || route === undefined) throw new Error(`Events so far: ${JSON.stringify(messages)}`);
        return { rule, route };
      },
      CONVERGE,
    );
    expect(failed.rule).toContain(refusalMessage(REQUIRE_JWT));
    expect(failed.route).toContain(
      "held back until AuthorizationPolicy/ai-workloads-require-jwt is applied, so that no route goes out without its JWT rules",
    );
    // Day two while refused: the same Deployment re-applied (three-way merge, then server-side) and a resync change nothing.
    await mustApply([deployment(ns, "model", "mlserver", { "example.com/touched": "yes" })], "apply");
    await staysAsItWas(ns, held, "require-jwt refused");
    await mustApply([deployment(ns, "model", "mlserver", { "example.com/touched": "server-side" })], "apply-server");
    await staysAsItWas(ns, held, "require-jwt refused, after a server-side apply");
    const routeWrites = moduleWritesIn(ns, mark).filter(e => e.objectRef?.resource === "virtualservices");
    expect(routeWrites.map(describeWrite)).toEqual([]);

    // Allowed again: the rule lands (on the namespace's retry), then the route.
    const allowed = auditMark();
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", REFUSE_GUARD_POLICY, "--ignore-not-found"]);
    await companionsAre(
      ns,
      SECURED_MODEL_OBJECTS.filter(k => k !== "AuthorizationPolicy/model-public"),
      objs => (JSON.stringify(routeNames(objs)) === JSON.stringify(["model"]) ? undefined : `routes ${JSON.stringify(routeNames(objs))}`),
    );
    const writes = moduleWritesIn(ns, allowed).filter(e => (e.responseStatus?.code ?? 0) < 300);
    const firstOf = (resource: string): number => writes.findIndex(e => e.objectRef?.resource === resource);
    expect(firstOf("authorizationpolicies")).toBeGreaterThanOrEqual(0);
    expect(firstOf("virtualservices")).toBeGreaterThan(firstOf("authorizationpolicies"));
    observed["require-jwt refused, then allowed"] = {
      held: held.map(key),
      companionFailed: failed,
      writesOnceAllowed: writes.map(describeWrite),
    };
    await deleteNamespaces([ns]);
  });

  it("an app that no longer resolves keeps its Service and route and gets ConfigError; an invalid name stored before does too; the rest go on", async () => {
    const ns = NAMESPACES.unresolved;
    await mustApply([namespaceObject(ns, ROUTED_NS), deployment(ns, "held", "mlserver"), deployment(ns, "fine", "mlserver")], "create");
    const before = await companionsAre(
      ns,
      ["HorizontalPodAutoscaler/fine", "HorizontalPodAutoscaler/held", "Service/fine", "Service/held", "VirtualService/ai-workloads"],
      objs =>
        JSON.stringify(routeNames(objs)) === JSON.stringify(["fine", "held"]) ? undefined : `routes ${JSON.stringify(routeNames(objs))}`,
    );
    // Stored behind the module's back: an unknown profile on `held`, and a Deployment named model.v2 (no Service name).
    await withWebhooksOff(async () => {
      await kubectlOk(["annotate", "--overwrite", "deployment", "held", "-n", ns, `${PROFILE}=no-such-profile`]);
      await mustApply([deployment(ns, "model.v2", "mlserver")], "create");
    });
    const heldError = await eventOn("Deployment", "held", ns, "ConfigError");
    const nameError = await eventOn("Deployment", "model.v2", ns, "ConfigError");
    const writes = await staysAsItWas(ns, before, "after held stopped resolving and model.v2 was stored");
    // The namespace is not stuck: a change to `fine` still takes effect.
    await kubectlOk(["annotate", "--overwrite", "deployment", "fine", "-n", ns, "ai-workloads.io/autoscale=2-4"]);
    await waitFor(
      "HPA fine to be 2-4",
      async () => {
        const hpa = await getObject<Obj & { spec: { minReplicas: number; maxReplicas: number } }>(
          TYPE_OF.HorizontalPodAutoscaler,
          "fine",
          ns,
        );
        return hpa?.spec.minReplicas === 2 && hpa.spec.maxReplicas === 4;
      },
      CONVERGE,
    );
    const after = await companions(ns);
    expect(after.map(key)).toEqual(before.map(key));
    expect(routeNames(after)).toEqual(["fine", "held"]);
    observed["unresolved app"] = {
      kept: before.map(key),
      routes: routeNames(after),
      heldConfigError: heldError.message,
      invalidNameConfigError: nameError.message,
      moduleWritesWhileKept: writes.map(describeWrite),
    };
    await deleteNamespaces([ns]);
  });

  // ---- 6. a second manager's extra Service port (SPEC §12.5) ---------------------------------------------------

  it("a second field manager's extra Service port is kept, and three resyncs make zero writes", async () => {
    const ns = NAMESPACES.extraPort;
    await mustApply([namespaceObject(ns), deployment(ns, "model", "mlserver")], "create");
    await companionsAre(ns, ["HorizontalPodAutoscaler/model", "Service/model"]);
    // Let the creation's writes (and their echoes) end.
    await waitFor(
      "the module to stop writing in the namespace",
      async () => {
        const mark = auditMark();
        await delay(6_000);
        return moduleWritesIn(ns, mark).length === 0;
      },
      { timeoutMs: 120_000, intervalMs: 0 },
    );
    const portsOf = (svc: Service | undefined): string[] => (svc?.spec.ports ?? []).map(p => `${p.name}:${p.port}`).sort();
    const generated = portsOf(await getObject<Service>("service", "model", ns));
    const withExtra = [...generated, "debug:9090"].sort();
    const mark = auditMark();
    const listsBefore = await apiserverRequestCount("LIST", "namespaces");
    const extra = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "model", namespace: ns },
      spec: { ports: [{ name: "debug", port: 9090, targetPort: 9090, protocol: "TCP" }] },
    };
    const r = await applyYaml([extra], { verb: "apply-server", fieldManager: "e2e-second-manager" });
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 0, stderr: "" });
    const period = resyncMs();
    const t0 = Date.now();
    const seen = new Set<string>();
    while (Date.now() - t0 < 3 * period + 5_000) {
      seen.add(JSON.stringify(portsOf(await getObject<Service>("service", "model", ns))));
      await delay(2_000);
    }
    const writes = moduleWritesIn(ns, mark);
    const allModuleWrites = writesBy(user(), mark).filter(done);
    const lists = (await apiserverRequestCount("LIST", "namespaces")) - listsBefore;
    observed["second manager's extra Service port"] = {
      window: `${((Date.now() - t0) / 1000).toFixed(0)} s, resync every ${period / 1000} s`,
      moduleWritesInNamespace: writes.map(describeWrite),
      moduleWritesAnywhere: allModuleWrites.map(describeWrite),
      namespaceListsMeanwhile: lists,
      servicePorts: { generated, seenMeanwhile: [...seen].map(x => JSON.parse(x) as string[]) },
    };
    // The watcher's resync lists every Namespace once per pass: three passes happened.
    expect(lists).toBeGreaterThanOrEqual(3);
    expect(writes.map(describeWrite)).toEqual([]);
    // The extra port was there all along, beside the generated ones.
    expect([...seen]).toEqual([JSON.stringify(withExtra)]);
    // Zero writes from a live watcher: it still restores a deleted companion here.
    await kubectlOk(["delete", TYPE_OF.HorizontalPodAutoscaler, "model", "-n", ns]);
    await companionsAre(ns, ["HorizontalPodAutoscaler/model", "Service/model"]);
    await deleteNamespaces([ns]);
  });

  // ---- 7. a Namespace change that would make two routes clash (SPEC §12.2) ---------------------------------------

  it("a base-path change that would give two apps one route is denied by the Namespace webhook", async () => {
    const ns = NAMESPACES.basePath;
    await mustApply(
      [
        namespaceObject(ns, { ...ROUTED_NS, "ai-workloads.io/base-path": "/apps" }),
        // x is routed at /v2/y; y at <base path>/y.
        deployment(ns, "x", "mlserver", { "ai-workloads.io/path-prefix": "/v2/y", "ai-workloads.io/autoscale": "off" }),
        deployment(ns, "y", "mlserver", { "ai-workloads.io/autoscale": "off" }),
      ],
      "create",
    );
    await companionsAre(ns, ["Service/x", "Service/y", "VirtualService/ai-workloads"], objs =>
      routeNames(objs).length === 2 ? undefined : `routes ${JSON.stringify(routeNames(objs))}`,
    );
    const r = await kubectl(["annotate", "--overwrite", "namespace", ns, "ai-workloads.io/base-path=/v2"]);
    const refused = denial(r.stderr);
    expect(r.code).not.toBe(0);
    expect(refused?.webhook).toBe(NS_WEBHOOK);
    expect(refused?.message).toContain("route clash");
    expect((await getObject<Obj>("namespace", ns))?.metadata.annotations?.["ai-workloads.io/base-path"]).toBe("/apps");
    // A base path that clashes with nothing is admitted.
    const ok = await kubectl(["annotate", "--overwrite", "namespace", ns, "ai-workloads.io/base-path=/v3"]);
    expect({ code: ok.code, denial: denial(ok.stderr) }).toEqual({ code: 0, denial: undefined });
    const vs = await waitFor(
      "the route of y under /v3",
      async () => {
        const v = await getObject<VirtualService>(TYPE_OF.VirtualService, "ai-workloads", ns);
        const prefixes = (v?.spec.http ?? []).flatMap(h => h.match.map(m => m.uri.prefix).filter(Boolean));
        return prefixes.includes("/v3/y/") ? prefixes : undefined;
      },
      CONVERGE,
    );
    observed["base-path clash"] = { denied: refused?.message, routesAfterV3: vs };
    await deleteNamespaces([ns]);
  });
});
