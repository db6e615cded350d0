// SPEC §14.3 on the real control plane: the module's metrics on /metrics of both controllers
// (Pepr's HTTPS port, no auth), scraped before and after a known sequence — two apps created, one
// companion broken (its Service deleted), a generated Service's port edited, one app deleted, a
// denied create, a warned create, an invalid cluster config stored and fixed — each documented
// metric moving by the expected amount, on the controller that records it, and by nothing on the
// other. The metric names, types and help texts served are those the README documents.
//
// The metrics are process-wide (no labels), so the suite wants a cluster where nothing else is
// being reconciled: it waits for the watcher to be quiet before each step.
import { request } from "node:https";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  KIND_LABEL,
  type ControllerRole,
  type ControllerState,
  type Obj,
  REPO,
  applyYaml,
  delay,
  deleteNamespaces,
  denial,
  expectModuleAlive,
  freshNamespace,
  getObject,
  kubectlOk,
  kubectlWarnings,
  setClusterConfig,
  state,
  waitFor,
  mlserver,
} from "./harness";

jest.setTimeout(300_000);

// Names new to the watcher: it remembers what it applied per object, and re-creating exactly
// that in a namespace deleted and created again counts as a drift repair.
const RUN = Date.now().toString(36);
const NS = `metrics-${RUN}`;
/** require-jwt without a RequestAuthentication: a Deployment CREATE there is admitted with a warning (CREATE only). */
const NS_JWT = `metrics-jwt-${RUN}`;
const JWT_WITHOUT_REQUEST_AUTH = { "ai-workloads.io/require-jwt": "true", "ai-workloads.io/request-auth": "false" };
/** Routing from the config, so that a namespace has a VirtualService; no JWT objects. */
const SUITE_CONFIG = `
istio:
  host: metrics.example.com
  gateway: istio-system/ai-workloads-gateway
aad:
  requestAuth: false
  requireJwt: false
`;
/** No write and nothing queued by the watcher for this long: it has nothing left to do. */
const QUIET_MS = 6_000;

const M = {
  passes: "pepr_ai_workloads_reconcile_passes_total",
  failures: "pepr_ai_workloads_reconcile_failures_total",
  writes: "pepr_ai_workloads_companion_writes_total",
  driftRepairs: "pepr_ai_workloads_drift_repairs_total",
  conflicts: "pepr_ai_workloads_companion_conflicts",
  queueDepth: "pepr_ai_workloads_queue_depth",
  managedWorkloads: "pepr_ai_workloads_managed_workloads",
  configErrors: "pepr_ai_workloads_config_errors",
  denials: "pepr_ai_workloads_admission_denials_total",
  warnings: "pepr_ai_workloads_admission_warnings_total",
} as const;
type Name = (typeof M)[keyof typeof M];
const ROLES: ControllerRole[] = ["watcher", "admission"];

// ---- scraping ---------------------------------------------------------------------------------------

interface Scrape {
  values: Map<string, number>;
  types: Map<string, string>;
  help: Map<string, string>;
}

/** GET https://127.0.0.1:<port>/metrics of one controller, as Prometheus would. */
function metricsText(c: ControllerState): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: "127.0.0.1", port: c.port, path: "/metrics", method: "GET", ca: readFileSync(state().tls.ca), timeout: 5_000 },
      res => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", chunk => (body += chunk));
        res.on("end", () =>
          res.statusCode === 200 ? resolvePromise(body) : reject(new Error(`${c.role} /metrics: HTTP ${res.statusCode}: ${body}`)),
        );
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${c.role} /metrics: timeout`)));
    req.end();
  });
}

function parse(text: string): Scrape {
  const s: Scrape = { values: new Map(), types: new Map(), help: new Map() };
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) s.types.set(type[1], type[2]);
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) s.help.set(help[1], help[2]);
    // Only unlabelled samples: the module's metrics have no labels.
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$/.exec(line);
    if (sample) s.values.set(sample[1], Number(sample[2]));
  }
  return s;
}

const controllersOf = (role: ControllerRole): ControllerState[] => state().controllers.filter(c => c.role === role);

/** Each module metric, summed over the controllers of each role (Prometheus' sum by role). */
type Values = Record<ControllerRole, Record<Name, number>>;

async function scrapeAll(): Promise<Values> {
  const values = {} as Values;
  for (const role of ROLES) {
    const sums = Object.fromEntries(Object.values(M).map(n => [n, 0])) as Record<Name, number>;
    for (const c of controllersOf(role)) {
      const s = parse(await metricsText(c));
      for (const n of Object.values(M)) {
        const v = s.values.get(n);
        if (v === undefined) throw new Error(`${c.role} /metrics has no ${n}`);
        sums[n] += v;
      }
    }
    values[role] = sums;
  }
  return values;
}

// ---- expectations ----------------------------------------------------------------------------------

/** A delta: exactly this, or at least this. */
type Delta = number | { atLeast: number };
type Spec = Partial<Record<ControllerRole, Partial<Record<Name, Delta>>>>;

/**
 * What differs from `spec` between two scrapes. A metric the spec leaves out must not move, except
 * the watcher's passes (a resync or an echo of its own write is a pass too); the queue depth is
 * checked as a value: back at 0.
 */
function mismatches(before: Values, after: Values, spec: Spec): string[] {
  const out: string[] = [];
  for (const role of ROLES) {
    for (const n of Object.values(M)) {
      if (n === M.queueDepth) {
        if (after[role][n] !== 0) out.push(`${role} ${n} is ${after[role][n]}, not back at 0`);
        continue;
      }
      const want: Delta = spec[role]?.[n] ?? (role === "watcher" && n === M.passes ? { atLeast: 0 } : 0);
      const got = after[role][n] - before[role][n];
      const ok = typeof want === "number" ? got === want : got >= want.atLeast;
      if (!ok) out.push(`${role} ${n} moved by ${got}, expected ${typeof want === "number" ? want : `>= ${want.atLeast}`}`);
    }
  }
  return out;
}

/** Waits until the watcher has written nothing and queued nothing for QUIET_MS. */
async function settle(): Promise<Values> {
  return waitFor(
    "the watcher to be quiet",
    async () => {
      const first = await scrapeAll();
      await delay(QUIET_MS);
      const then = await scrapeAll();
      const w = (v: Values, n: Name): number => v.watcher[n];
      const quiet = w(first, M.writes) === w(then, M.writes) && w(first, M.queueDepth) === 0 && w(then, M.queueDepth) === 0;
      return quiet ? then : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 0 },
  );
}

interface Observed {
  step: string;
  before: Values;
  after: Values;
}
const observed: Observed[] = [];

/**
 * Runs one step of the sequence: scrapes, acts, waits until the metrics have moved as `spec`
 * says, then waits a quiet period and checks that nothing more came (no double counting).
 */
async function step(name: string, action: () => Promise<void>, spec: Spec): Promise<void> {
  const before = await settle();
  await action();
  await waitFor(
    `the metrics to move as expected after "${name}"`,
    async () => {
      const m = mismatches(before, await scrapeAll(), spec);
      if (m.length > 0) throw new Error(m.join("; "));
      return true;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const after = await settle();
  observed.push({ step: name, before, after });
  expect(mismatches(before, after, spec)).toEqual([]);
}

// ---- inputs ---------------------------------------------------------------------------------------

/** Creates one object; returns kubectl's warnings. */
async function create(o: Obj): Promise<string[]> {
  const r = await applyYaml([o]);
  if (r.code !== 0) throw new Error(`cannot create ${o.kind} ${o.metadata.namespace}/${o.metadata.name}: ${r.stderr.trim()}`);
  return kubectlWarnings(r.stderr);
}

type ServiceSpec = { spec: { ports: { port: number }[] } };
const servicePorts = async (name: string): Promise<number[] | undefined> =>
  (await getObject<ServiceSpec & Obj>("service", name, NS))?.spec.ports.map(p => p.port);

// ---- the suite ------------------------------------------------------------------------------------

let configFile: string;
let start: Values;

beforeAll(async () => {
  configFile = await setClusterConfig(SUITE_CONFIG);
  await freshNamespace(NS);
  await freshNamespace(NS_JWT, JWT_WITHOUT_REQUEST_AUTH);
});

afterAll(async () => {
  expectModuleAlive();
  await deleteNamespaces([NS, NS_JWT]);
  // The suites share one cluster config: the next one starts from the built-in defaults.
  await setClusterConfig("");
  if (observed.length > 0) writeFileSync(join(state().dir, "metrics-observed.json"), `${JSON.stringify(observed, null, 2)}\n`);
});

describe("metrics on both controllers' /metrics (SPEC §14.3)", () => {
  it("serves every metric the README documents, with its type and help, on both controllers, and no other", async () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const documented = new Map(
      [...readme.matchAll(/^\| `(pepr_ai_workloads_[a-z_]+)` \| (counter|gauge) \|/gm)].map(m => [m[1], m[2]] as const),
    );
    expect([...documented.keys()].sort()).toEqual(Object.values(M).sort());
    for (const c of state().controllers) {
      const s = parse(await metricsText(c));
      const served = [...s.types.entries()].filter(([n]) => n.startsWith("pepr_ai_workloads_"));
      expect(Object.fromEntries(served)).toEqual(Object.fromEntries(documented));
      for (const n of documented.keys()) expect(s.help.get(n)?.length).toBeGreaterThan(20);
    }
  });

  it("the sequence moves each metric by the expected amount", async () => {
    start = await settle();

    await step(
      "create two apps",
      async () => {
        expect(await create(mlserver(NS, "model-a"))).toEqual([]);
        expect(await create(mlserver(NS, "model-b"))).toEqual([]);
      },
      // A Service and an HPA each, and the namespace's VirtualService.
      { watcher: { [M.passes]: { atLeast: 1 }, [M.writes]: { atLeast: 5 }, [M.managedWorkloads]: 2 } },
    );

    await step(
      "break one companion: delete its Service",
      async () => {
        const uid = (await getObject("service", "model-a", NS))?.metadata.uid;
        await kubectlOk(["delete", "service", "model-a", "-n", NS]);
        await waitFor("Service model-a to be put back", async () => {
          const now = await getObject("service", "model-a", NS);
          return now !== undefined && now.metadata.uid !== uid;
        });
      },
      // Exactly what was applied before, applied again.
      { watcher: { [M.passes]: { atLeast: 1 }, [M.writes]: 1, [M.driftRepairs]: 1 } },
    );

    await step(
      "edit a generated Service's port",
      async () => {
        const ports = JSON.stringify(await servicePorts("model-b"));
        await kubectlOk([
          "patch",
          "service",
          "model-b",
          "-n",
          NS,
          "--type=json",
          "-p",
          '[{"op":"replace","path":"/spec/ports/0/port","value":9999}]',
        ]);
        await waitFor("Service model-b's port to be put back", async () => JSON.stringify(await servicePorts("model-b")) === ports);
      },
      { watcher: { [M.passes]: { atLeast: 1 }, [M.writes]: 1, [M.driftRepairs]: 1 } },
    );

    await step(
      "delete one app",
      async () => {
        await kubectlOk(["delete", "deployment", "model-a", "-n", NS, "--wait=true"]);
        await waitFor("model-a's Service to be gone", async () => (await getObject("service", "model-a", NS)) === undefined);
      },
      // The VirtualService loses the route (the Service and HPA go by garbage collection, or by the reconciler if it is first).
      { watcher: { [M.passes]: { atLeast: 1 }, [M.writes]: { atLeast: 1 }, [M.managedWorkloads]: -1 } },
    );

    await step(
      "a denied create",
      async () => {
        const r = await applyYaml([mlserver(NS, "model-c", { "ai-workloads.io/autoscale": "5-2" })]);
        expect(r.code).not.toBe(0);
        expect(denial(r.stderr)?.message).toContain("minimum 5 is above maximum 2");
        expect(kubectlWarnings(r.stderr)).toEqual([]);
      },
      { admission: { [M.denials]: 1 } },
    );

    await step(
      "a warned create",
      async () => {
        const warnings = await create(mlserver(NS_JWT, "model-d"));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain("require-jwt");
      },
      // Its Service, HPA and route; the namespace's require-jwt policy is there already.
      { admission: { [M.warnings]: 1 }, watcher: { [M.passes]: { atLeast: 1 }, [M.writes]: { atLeast: 3 }, [M.managedWorkloads]: 1 } },
    );

    const end = await settle();
    const overall: Spec = {
      watcher: {
        [M.passes]: { atLeast: 5 },
        [M.writes]: { atLeast: 11 },
        [M.driftRepairs]: 2,
        [M.managedWorkloads]: 2,
      },
      admission: { [M.denials]: 1, [M.warnings]: 1 },
    };
    const table = ROLES.flatMap(role =>
      Object.values(M).map(
        n => `${role.padEnd(9)} ${n.padEnd(45)} ${String(start[role][n]).padStart(6)} -> ${String(end[role][n]).padStart(6)}`,
      ),
    );
    console.log(`metrics before and after the sequence (controller, metric, before -> after):\n${table.join("\n")}`);
    observed.push({ step: "the whole sequence", before: start, after: end });
    expect(mismatches(start, end, overall)).toEqual([]);
  });

  it("an invalid cluster config stored behind the webhook is one config error until it is fixed", async () => {
    const valid = readFileSync(configFile, "utf8");
    const applyConfig = async (text: string): Promise<void> => {
      // pepr-system is outside the webhooks: stored as given, read by the watcher.
      const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ai-workloads-config", namespace: state().configNamespace } };
      const r = await applyYaml([{ ...cm, data: { "config.yaml": text } }], { verb: "apply-server" });
      if (r.code !== 0) throw new Error(`cannot store the config: ${r.stderr.trim()}`);
    };
    try {
      await step("store an invalid config", () => applyConfig("istio:\n  host: 7\n"), { watcher: { [M.configErrors]: 1 } });
      await step("store the valid config again", () => applyConfig(valid), { watcher: { [M.configErrors]: -1 } });
    } finally {
      await applyConfig(valid);
    }
  });
});
