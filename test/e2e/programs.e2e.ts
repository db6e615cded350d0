// SPEC §13.4: the defaults shown with the real programs. The bundled example
// (examples/mlserver-openai-librechat) is rendered by the CLI; the mlserver app and the
// oauth2-proxy app are started as local processes with exactly the rendered primary container's
// command, args and literal env, every generated probe is sent as the kubelet sends it, and
// oauth2-proxy's login is run against a local OIDC issuer through the rendered route.
//
// The programs (hack/programs/build.sh, pinned in hack/controlplane/versions.env, cached in
// ~/.cache/ai-workloads): MLServer from PyPI in a virtualenv, oauth2-proxy and a mockoidc wrapper
// built from the Go module proxy. This suite needs no API server.
//
// What differs from a Pod, and only this (each is asserted not to hide anything rendered):
// - the pod IP is 127.0.0.1: oauth2-proxy's `--http-address=0.0.0.0:<port>` listens on
//   127.0.0.1:<port>, and MLServer (whose default host is 0.0.0.0; nothing rendered sets one) gets
//   MLSERVER_HOST=127.0.0.1;
// - `/mnt/models` in command/args is a temp folder laid out as the kubelet mounts the ConfigMap;
// - env from a Secret (valueFrom) gets test values: the mock issuer's client id and secret;
// - the cluster's DNS: oauth2-proxy reaches its upstream `http://<svc>.<ns>.svc.cluster.local:<port>`
//   through HTTP_PROXY, a local stand-in for LibreChat that records what it receives
//   (Go never proxies loopback, so the issuer is reached directly);
// - the issuer is the local mock, given as a user would: `--oidc-issuer-url=<mock>` in the input.
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingHttpHeaders, createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { E2E_DIR, REPO, type Obj, delay, run } from "./harness";
import {
  Browser,
  type Container,
  type Deployment,
  Gateway,
  type Hop,
  type Probe,
  type ProbeResult,
  type Proc,
  type Programs,
  type VirtualService,
  buildPrograms,
  configMapVolume,
  containerEnv,
  describeProbe,
  expand,
  httpGet,
  is2xx,
  kubeletProbe,
  listening,
  primaryContainer,
  resolvePort,
  sendProbe,
  startProcess,
  stopProcess,
  within,
} from "./programs";

const EXAMPLE = join(REPO, "examples", "mlserver-openai-librechat");
const WORK = join(E2E_DIR, "programs");
const NAMESPACE = "ai";
const MLSERVER_APP = "runtime-openai";
const OAUTH2_APP = "librechat";
const MODEL = "tiny-sklearn";
/** How long the model in the test's ConfigMap takes to load (a real one takes minutes). */
const MODEL_LOAD_SECONDS = 8;
/** The images' ENTRYPOINTs (a container without `command` runs these with its args). */
const ENTRYPOINTS: Record<string, string[]> = {
  "quay.io/oauth2-proxy/oauth2-proxy": ["/bin/oauth2-proxy"],
  "docker.io/seldonio/mlserver": [],
};

const report: string[] = [];
const note = (line: string): void => {
  report.push(line);
};

let programs: Programs;
let rendered: Obj[];
let renderStderr = "";
let mock: Proc | undefined;
let issuer: { issuer: string; clientID: string; clientSecret: string; email: string };
const procs: Proc[] = [];

const imageName = (image: string): string => image.replace(/@.*$/, "").replace(/:[^:/]+$/, "");
const imageTag = (image: string): string => /:([^:/@]+)(@|$)/.exec(image)?.[1] ?? "latest";
const deployment = (name: string): Deployment => {
  const d = rendered.find(o => o.kind === "Deployment" && o.metadata.name === name && o.metadata.namespace === NAMESPACE);
  if (!d) throw new Error(`render gave no Deployment ${NAMESPACE}/${name}`);
  return d as Deployment;
};
const routeOf = (app: string): NonNullable<VirtualService["spec"]["http"]>[number] | undefined =>
  (rendered.find(o => o.kind === "VirtualService") as VirtualService | undefined)?.spec.http?.find(r => r.name === app);
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The program's argv as the container runtime builds it: command (or the image's ENTRYPOINT) + args, $(VAR) expanded. */
function containerArgv(c: Container, env: Record<string, string>): string[] {
  const entry = c.command ?? ENTRYPOINTS[imageName(c.image)];
  if (entry === undefined) throw new Error(`no ENTRYPOINT known for image ${c.image}`);
  return [...entry, ...(c.args ?? [])].map(a => expand(a, env));
}

/** Replaces a volume's mountPath (as a whole word or a path prefix) with its local folder. */
const mapMount = (argv: string[], mountPath: string, local: string): string[] =>
  argv.map(a =>
    a
      .split(/(?<==)/)
      .map(p => (p === mountPath || p.startsWith(`${mountPath}/`) ? local + p.slice(mountPath.length) : p))
      .join(""),
  );

async function assertPortsFree(ports: number[]): Promise<void> {
  for (const p of ports) {
    if (await listening(p)) throw new Error(`127.0.0.1:${p} is already in use by another process; the rendered container listens there`);
  }
}

const baseEnv = (): Record<string, string> => ({
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: join(WORK, "home"),
  LANG: "C.UTF-8",
});

beforeAll(async () => {
  const t0 = Date.now();
  programs = buildPrograms();
  note(
    `programs ready in ${secs(Date.now() - t0)} (hack/programs/build.sh; cached in ${programs.mlserver.venv.replace(/\/mlserver\/.*$/, "")})`,
  );
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, "home"), { recursive: true });

  // The mock issuer: a user points oauth2-proxy at it with --oidc-issuer-url.
  mock = startProcess("mockoidc", [programs.mockoidc.bin, "-addr", "127.0.0.1:0"], baseEnv(), join(WORK, "mockoidc.log"), WORK);
  procs.push(mock);
  const m = mock;
  const line = await waitForLine(m, 15_000);
  issuer = JSON.parse(line) as typeof issuer;

  // The example, with the issuer given by the user as an arg of the oauth2-proxy container.
  const input = join(WORK, "input");
  cpSync(EXAMPLE, input, { recursive: true });
  for (const f of readdirSync(input).filter(n => /\.ya?ml$/.test(n))) {
    const docs = parseAllDocuments(readFileSync(join(input, f), "utf8")).map(d => d.toJS() as Obj | null);
    let changed = false;
    for (const o of docs) {
      if (o?.kind === "Deployment" && o.metadata.name === OAUTH2_APP) {
        const c = (o as Deployment).spec.template.spec.containers[0];
        c.args = [...(c.args ?? []), `--oidc-issuer-url=${issuer.issuer}`];
        changed = true;
      }
    }
    if (changed) writeFileSync(join(input, f), docs.map(d => stringify(d, { lineWidth: 0 })).join("---\n"));
  }
  const r = await run(process.execPath, [join(REPO, "bin", "ai-workloads.js"), "render", "-f", input, "-o", "json"], {
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`render exited ${r.code}: ${r.stderr}`);
  renderStderr = r.stderr;
  const out = JSON.parse(r.stdout) as { items?: Obj[] } | Obj[];
  rendered = Array.isArray(out) ? out : (out.items ?? []);
  writeFileSync(join(WORK, "rendered.json"), JSON.stringify(rendered, null, 2));
}, 45 * 60_000);

afterAll(async () => {
  for (const p of procs.reverse()) await stopProcess(p);
  writeFileSync(join(WORK, "report.txt"), `${report.join("\n")}\n`);
  console.log(`programs (SPEC §13.4):\n  ${report.join("\n  ")}`);
}, 60_000);

/** The first stdout/stderr line of a process (mockoidc prints its issuer as JSON). */
async function waitForLine(p: Proc, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const first = p
      .log()
      .split("\n")
      .find(l => l.startsWith("{"));
    if (first) return first;
    if (p.exited !== undefined) throw new Error(`${p.name} exited (${p.exited}):\n${p.log()}`);
    if (Date.now() > deadline) throw new Error(`${p.name} printed nothing in ${timeoutMs} ms`);
    await delay(50);
  }
}

const expectRunning = (p: Proc): void => {
  if (p.exited !== undefined)
    throw new Error(`${p.name} exited (${p.exited}); ${p.logFile} ends with:\n${p.log().split("\n").slice(-30).join("\n")}`);
};

test("the example renders, and the versions of the programs", async () => {
  const ml = primaryContainer(deployment(MLSERVER_APP));
  const op = primaryContainer(deployment(OAUTH2_APP));
  const mlVersion = (await run(join(programs.mlserver.bin, "mlserver"), ["--version"], { timeoutMs: 120_000 })).stdout.trim();
  const opVersion = (await run(programs.oauth2Proxy.bin, ["--version"])).stdout.trim();
  note(
    `versions: ${mlVersion} (${programs.mlserver.python}, lock ${programs.mlserver.lock.replace(`${REPO}/`, "")}); ${opVersion}; mockoidc ${programs.mockoidc.version}`,
  );
  note(`images rendered: ${ml.image}, ${op.image}`);
  if (renderStderr.trim()) note(`render stderr: ${renderStderr.trim().replace(/\n/g, " | ")}`);
  // MLServer is pinned to the example's image (SPEC §13.4).
  expect(programs.mlserver.version).toBe(imageTag(ml.image));
  expect(mlVersion).toContain(programs.mlserver.version);
  expect(opVersion).toContain(programs.oauth2Proxy.version);
  expect(op.args).toContain(`--oidc-issuer-url=${issuer.issuer}`);
}, 180_000);

describe("MLServer with the rendered container", () => {
  let c: Container;
  let proc: Proc;
  let modelsDir: string;

  beforeAll(async () => {
    c = primaryContainer(deployment(MLSERVER_APP));
    // The settings ConfigMap as the kubelet mounts it: server settings, the model's settings, the
    // model (binaryData) and a runtime that plays a model that takes MODEL_LOAD_SECONDS to load.
    const modelFile = join(WORK, "model.joblib");
    const py = [
      "import sys, joblib",
      "from sklearn.linear_model import LogisticRegression",
      "m = LogisticRegression().fit ([[0, 0], [1, 1], [0, 1], [1, 0]], [0, 1, 0, 1])",
      "joblib.dump(m, sys.argv[1])",
    ].join("\n");
    const r = await run(join(programs.mlserver.bin, "python"), ["-c", py, modelFile], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`saving the model failed: ${r.stderr}`);
    modelsDir = configMapVolume(join(WORK, "mlserver-settings"), {
      "settings.json": JSON.stringify({ debug: false }),
      "model-settings.json": JSON.stringify({
        name: MODEL,
        implementation: "slow_load.SlowLoadSKLearnModel",
        parameters: { uri: "./model.joblib", version: "v1", extra: { load_delay_seconds: MODEL_LOAD_SECONDS } },
      }),
      "model.joblib": readFileSync(modelFile),
      "slow_load.py": [
        "import asyncio",
        "from mlserver_sklearn import SKLearnModel",
        "",
        "class SlowLoadSKLearnModel(SKLearnModel):",
        "    async def load(self) -> bool:",
        "        extra = self.settings.parameters.extra or {}",
        "        await asyncio.sleep(float(extra.get('load_delay_seconds', 0)))",
        "        return await super().load()",
        "",
      ].join("\n"),
    });
  }, 180_000);

  afterAll(async () => {
    await stopProcess(proc);
  }, 60_000);

  test(
    "starts with exactly the rendered command and env; every probe answers 2xx, the startup probe only once the model is loaded",
    async () => {
      const mount = (c.volumeMounts ?? []).find(v => v.mountPath === "/mnt/models");
      expect(mount).toBeDefined();
      const env = containerEnv(c, {});
      // Nothing rendered sets the host; the pod's interface is the loopback here.
      expect(Object.keys(env)).not.toContain("MLSERVER_HOST");
      const argv = mapMount(containerArgv(c, env), "/mnt/models", modelsDir);
      const ports = (c.ports ?? []).map(p => p.containerPort);
      await assertPortsFree(ports);
      const procEnv = { ...baseEnv(), PATH: `${programs.mlserver.bin}:${baseEnv().PATH}`, ...env, MLSERVER_HOST: "127.0.0.1" };
      note(
        `mlserver: argv ${JSON.stringify(containerArgv(c, env))} (run as ${JSON.stringify(argv)}), env ${JSON.stringify(env)} + MLSERVER_HOST=127.0.0.1`,
      );
      proc = startProcess("mlserver", argv, procEnv, join(WORK, "mlserver.log"), WORK);
      procs.push(proc);

      const httpPort = resolvePort(c, "http");
      const probes = { startup: c.startupProbe, readiness: c.readinessProbe, liveness: c.livenessProbe };
      expect(probes.startup).toBeDefined();
      expect(probes.readiness).toBeDefined();
      expect(probes.liveness).toBeDefined();
      const startup = probes.startup as Probe;

      // Alongside the kubelet: what the server says every 0.5 s until the startup probe passes.
      type Sample = { at: number; live: number; startupPath: number; model: number };
      const samples: Sample[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling && proc.exited === undefined) {
          const at = (Date.now() - proc.startedAt) / 1000;
          const live = (await httpGet(`http://127.0.0.1:${httpPort}/v2/health/live`, { timeoutMs: 2_000 })).status;
          const startupPath = (await sendProbe(c, startup, "startup", proc)).status;
          const model = (await httpGet(`http://127.0.0.1:${httpPort}/v2/models/${MODEL}/ready`, { timeoutMs: 2_000 })).status;
          samples.push({ at, live, startupPath, model });
          await delay(500);
        }
      })();

      // The kubelet: the startup probe on its own schedule, liveness and readiness only after it passed.
      const budget = (startup.initialDelaySeconds ?? 0) + (startup.failureThreshold ?? 3) * (startup.periodSeconds ?? 10);
      const startupAttempts = await kubeletProbe(c, startup, "startup", proc);
      sampling = false;
      await sampler;
      expectRunning(proc);
      for (const a of startupAttempts) note(`mlserver: ${describeProbe(a)}`);
      const passed = startupAttempts.at(-1);
      expect(passed && is2xx(passed.status)).toBe(true);
      expect((passed as ProbeResult).at).toBeLessThanOrEqual(budget);

      const firstLive = samples.find(s => is2xx(s.live));
      const firstModel = samples.find(s => s.model === 200);
      const firstStartup = samples.find(s => is2xx(s.startupPath));
      note(
        `mlserver: ${samples.length} samples: /v2/health/live 2xx from ${firstLive?.at.toFixed(1)} s, ` +
          `startup probe path ${startup.httpGet?.path} 2xx from ${firstStartup?.at.toFixed(1)} s, ` +
          `/v2/models/${MODEL}/ready 200 from ${firstModel?.at.toFixed(1)} s (model load takes ${MODEL_LOAD_SECONDS} s)`,
      );
      // The server was up while the model loaded, and the startup probe waited for the model:
      // it never passed while the model was not ready (a probe on /v2/health/live did).
      const waiting = samples.filter(s => is2xx(s.live) && s.model !== 200);
      expect(waiting.length).toBeGreaterThan(0);
      expect(waiting.filter(s => is2xx(s.startupPath))).toEqual([]);
      note(
        `mlserver: while the model loaded (${waiting.length} samples, ${waiting[0].at.toFixed(1)}-${waiting.at(-1)?.at.toFixed(1)} s): live ${waiting[0].live}, startup probe ${waiting[0].startupPath}, model ready ${waiting[0].model}`,
      );
      const after = await httpGet(`http://127.0.0.1:${httpPort}/v2/models/${MODEL}/ready`);
      expect(after.status).toBe(200);

      const [readiness, liveness] = await Promise.all([
        kubeletProbe(c, probes.readiness as Probe, "readiness", proc),
        kubeletProbe(c, probes.liveness as Probe, "liveness", proc),
      ]);
      for (const a of [...readiness, ...liveness]) note(`mlserver: ${describeProbe(a)}`);
      expect(readiness.map(a => a.status)).toEqual([200]);
      expect(liveness.map(a => a.status)).toEqual([200]);

      // Metrics on the port named `metrics`, gRPC accepted on the port named `grpc`.
      const metrics = await httpGet(`http://127.0.0.1:${resolvePort(c, "metrics")}/metrics`);
      note(
        `mlserver: GET /metrics on port metrics (${resolvePort(c, "metrics")}) -> ${metrics.status} in ${metrics.ms} ms, ${metrics.body.length} bytes`,
      );
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/^# (HELP|TYPE) /m);
      if ((c.ports ?? []).some(p => p.name === "grpc")) {
        expect(await listening(resolvePort(c, "grpc"))).toBe(true);
        note(`mlserver: gRPC port grpc (${resolvePort(c, "grpc")}) accepts connections`);
      }
      // The model answers an inference request on the app port.
      const infer = await fetch(`http://127.0.0.1:${httpPort}/v2/models/${MODEL}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [1, 1] }] }),
      });
      const inferBody = await infer.text();
      note(`mlserver: POST /v2/models/${MODEL}/infer -> ${infer.status} ${inferBody.slice(0, 160)}`);
      expect(infer.status).toBe(200);
      expectRunning(proc);
    },
    15 * 60_000,
  );

  test("a wrong probe path gets a non-2xx", async () => {
    expectRunning(proc);
    const wrong: Probe = { ...(c.readinessProbe as Probe), httpGet: { ...(c.readinessProbe as Probe).httpGet!, path: "/v2/health/nope" } };
    const r = await sendProbe(c, wrong, "readiness (wrong path)", proc);
    note(`mlserver: ${describeProbe(r)}`);
    expect(r.status).toBeGreaterThanOrEqual(300);
  });
});

describe("oauth2-proxy with the rendered container, behind the rendered route", () => {
  let c: Container;
  let proc: Proc;
  let gateway: Gateway;
  let host: string;
  let path: string;
  let upstream: Server;
  const upstreamSeen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let secrets: Record<string, Record<string, string>>;

  beforeAll(async () => {
    c = primaryContainer(deployment(OAUTH2_APP));
    const route = routeOf(OAUTH2_APP);
    if (!route) throw new Error(`no route for ${OAUTH2_APP} in the rendered VirtualService`);
    host = (rendered.find(o => o.kind === "VirtualService") as VirtualService).spec.hosts[0];
    path = (route.match ?? []).map(m => m.uri?.exact).find(p => p !== undefined) ?? "";
    gateway = new Gateway(rendered);
    secrets = {
      "librechat-oauth2": {
        "client-id": issuer.clientID,
        "client-secret": issuer.clientSecret,
        "cookie-secret": randomBytes(16).toString("hex"),
      },
    };
    // The upstream's stand-in, reached as oauth2-proxy's HTTP proxy: it plays LibreChat.
    upstream = createServer((req, res) => {
      upstreamSeen.push({ url: req.url ?? "", headers: req.headers });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ app: "librechat stand-in", url: req.url, user: req.headers["x-forwarded-email"] ?? null }));
    });
    await new Promise<void>(resolve => upstream.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await stopProcess(proc);
    upstream?.closeAllConnections();
    await new Promise(resolve => upstream?.close(resolve));
  }, 60_000);

  const env = (): Record<string, string> => containerEnv(c, secrets);
  /** The pod IP is 127.0.0.1 here: a listen address on all interfaces becomes the loopback. */
  const loopback = (a: string): string => a.replace(/^(--http-address=)(?:0\.0\.0\.0|\[::\]|):/, "$1127.0.0.1:");
  const procEnv = (): Record<string, string> => {
    const e = env();
    if (e.OAUTH2_PROXY_HTTP_ADDRESS)
      e.OAUTH2_PROXY_HTTP_ADDRESS = e.OAUTH2_PROXY_HTTP_ADDRESS.replace(/^(?:http:\/\/)?0\.0\.0\.0:/, "127.0.0.1:");
    return { ...baseEnv(), ...e, HTTP_PROXY: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` };
  };

  test("accepts every rendered flag, and every probe answers 2xx", async () => {
    const argv = containerArgv(c, env()).map(loopback);
    argv[0] = programs.oauth2Proxy.bin;
    await assertPortsFree((c.ports ?? []).map(p => p.containerPort));
    note(
      `oauth2-proxy: args ${JSON.stringify(c.args)}; env ${(c.env ?? []).map(e => `${e.name}${e.value !== undefined ? `=${e.value}` : " (Secret: test value)"}`).join(", ")}`,
    );
    proc = startProcess("oauth2-proxy", argv, procEnv(), join(WORK, "oauth2-proxy.log"), WORK);
    procs.push(proc);
    const probes = (["startupProbe", "readinessProbe", "livenessProbe"] as const).filter(k => c[k] !== undefined);
    expect(probes).toEqual(expect.arrayContaining(["readinessProbe", "livenessProbe"]));
    if (c.startupProbe) {
      const s = await kubeletProbe(c, c.startupProbe, "startup", proc);
      for (const a of s) note(`oauth2-proxy: ${describeProbe(a)}`);
      expect(is2xx(s.at(-1)?.status ?? 0)).toBe(true);
    }
    const [readiness, liveness] = await Promise.all([
      kubeletProbe(c, c.readinessProbe as Probe, "readiness", proc),
      kubeletProbe(c, c.livenessProbe as Probe, "liveness", proc),
    ]);
    expectRunning(proc);
    for (const a of [...readiness, ...liveness]) note(`oauth2-proxy: ${describeProbe(a)}`);
    expect(readiness.map(a => a.status)).toEqual([200]);
    expect(liveness.map(a => a.status)).toEqual([200]);
  }, 120_000);

  test("answers an unauthenticated request for the app with a redirect to the issuer", async () => {
    expectRunning(proc);
    const b = new Browser(gateway, host);
    const { hop, forwarded } = await b.get(`https://${host}${path}/`);
    note(
      `oauth2-proxy: GET https://${host}${path}/ (gateway -> ${forwarded?.upstream?.path} on :${forwarded?.upstream?.port}) -> ${hop.status} Location ${hop.location}`,
    );
    expect(forwarded?.route).toBe(OAUTH2_APP);
    expect(hop.status).toBeGreaterThanOrEqual(300);
    expect(hop.status).toBeLessThan(400);
    const loc = new URL(hop.location ?? "", `https://${host}${path}/`);
    // Straight to the issuer (--skip-provider-button), or first to oauth2-proxy's own start page.
    const target = loc.hostname === host ? (await b.browse(loc.toString(), 1).catch(() => undefined))?.hops.at(-1) : undefined;
    const issuerHop = loc.toString().startsWith(issuer.issuer) ? loc.toString() : target?.location;
    expect(issuerHop?.startsWith(`${issuer.issuer}/authorize?`)).toBe(true);
    const q = new URL(issuerHop as string).searchParams;
    expect(q.get("client_id")).toBe(issuer.clientID);
    expect(q.get("redirect_uri")).toBe(`https://${host}${path}/oauth2/callback`);
  });

  const hopsText = (hops: Hop[]): string =>
    hops
      .map(
        h =>
          `${h.via === "gateway" ? new URL(h.url).pathname + new URL(h.url).search.slice(0, 24) + (h.upstreamPath ? ` [->${h.upstreamPath.slice(0, 30)}]` : "") : `issuer ${new URL(h.url).pathname}`} ${h.status}${h.location ? ` -> ${h.location.slice(0, 60)}` : ""}`,
      )
      .join(" | ");

  /** A full login started at an external URL; returns the callback's Location and what came after. */
  async function login(start: string, viaGateway = gateway) {
    const b = new Browser(viaGateway, host);
    const { hops, final } = await b.browse(start);
    const callback = hops.find(h => h.via === "gateway" && new URL(h.url).pathname === `${path}/oauth2/callback`);
    return { b, hops, final, callback };
  }

  test("after a full login against the issuer the user is back under the route path, as the logged-in user", async () => {
    expectRunning(proc);
    const route = routeOf(OAUTH2_APP);
    note(
      `oauth2-proxy: route ${OAUTH2_APP}: match ${JSON.stringify(route?.match)}, rewrite ${JSON.stringify(route?.rewrite)}, headers.request ${JSON.stringify(route?.headers?.request ?? null)}`,
    );
    const seenBefore = upstreamSeen.length;
    const { b, hops, final, callback } = await login(`https://${host}${path}/`);
    note(`oauth2-proxy: login from ${path}/: ${hopsText(hops)}`);
    expect(callback).toBeDefined();
    note(`oauth2-proxy: login redirect observed: callback -> Location ${callback?.location} (want ${path}/)`);
    // Under <path>/, i.e. inside the app's route, not at "/" of the host.
    expect(callback?.location).toBe(`${path}/`);
    // And the app got the request, as the logged-in user, on the upstream the module rendered.
    expect(final.status).toBe(200);
    const seen = upstreamSeen.slice(seenBefore).at(-1);
    const upstreamArg = (c.args ?? []).find(a => a.startsWith("--upstream="))?.slice("--upstream=".length) ?? "";
    const seenPath = seen ? new URL(seen.url, `http://${seen.headers.host ?? "unknown"}`).pathname : undefined;
    note(
      `oauth2-proxy: the upstream (--upstream=${upstreamArg}, reached through the HTTP_PROXY stand-in) got GET ${seen?.url} Host ${seen?.headers.host} as X-Forwarded-Email ${String(seen?.headers["x-forwarded-email"])}`,
    );
    expect(seenPath).toBe("/");
    expect(seen?.headers["x-forwarded-email"]).toBe(issuer.email);
    // The upstream's port is the backend's `http` port (the Service the annotation names).
    const backendPort = resolvePort(primaryContainer(deployment("librechat-backend")), "http");
    expect(new URL(upstreamArg).port).toBe(String(backendPort));
    // The session is the mock's user.
    const info = await b.get(`https://${host}${path}/oauth2/userinfo`);
    note(`oauth2-proxy: GET ${path}/oauth2/userinfo -> ${info.response.status} ${info.response.body.trim()}`);
    expect(info.response.status).toBe(200);
    expect(JSON.parse(info.response.body)).toMatchObject({ email: issuer.email });
  });

  test("a deep link survives the login", async () => {
    expectRunning(proc);
    const deep = `${path}/c/new?agent=e2e`;
    const { hops, callback } = await login(`https://${host}${deep}`);
    note(`oauth2-proxy: login from ${deep}: callback -> Location ${callback?.location} (hops: ${hops.length})`);
    expect(callback?.location).toBe(deep);
  });

  test("without the route's request headers the same login lands at / (the check can fail)", async () => {
    expectRunning(proc);
    const { callback } = await login(`https://${host}${path}/`, new Gateway(rendered, false));
    note(`oauth2-proxy: without the route's headers: callback -> Location ${callback?.location}`);
    expect(callback?.location).toBe("/");
  });

  test("a wrong probe path gets a non-2xx", async () => {
    expectRunning(proc);
    const base = c.readinessProbe as Probe;
    const r = await sendProbe(c, { ...base, httpGet: { ...base.httpGet!, path: "/readyz-nope" } }, "readiness (wrong path)", proc);
    note(`oauth2-proxy: ${describeProbe(r)}`);
    expect(is2xx(r.status)).toBe(false);
    expectRunning(proc);
  });

  test("an unknown flag makes it exit non-zero (the check can fail)", async () => {
    await stopProcess(proc);
    const argv = [...containerArgv(c, env()).map(loopback), "--no-such-flag=1"];
    argv[0] = programs.oauth2Proxy.bin;
    const p = startProcess("oauth2-proxy (unknown flag)", argv, procEnv(), join(WORK, "oauth2-proxy-unknown-flag.log"), WORK);
    procs.push(p);
    const code = await within(p.exit, 30_000, "still running");
    const last = p.log().trim().split("\n").at(-1) ?? "";
    note(`oauth2-proxy: with --no-such-flag=1: exit ${code}: ${last}`);
    expect(typeof code === "number" && code !== 0).toBe(true);
    expect(p.log()).toContain("no-such-flag");
  }, 60_000);
});
