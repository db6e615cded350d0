// Helpers for test/e2e/programs.e2e.ts (SPEC §13.4): the real programs, started as local processes
// the way a Pod would start them, probed the way the kubelet probes them, and reached the way the
// Istio gateway forwards a request. Nothing here needs the API server.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { join } from "node:path";
import { REPO, delay, type Obj } from "./harness";

// ---- the programs --------------------------------------------------------------------------

/** What hack/programs/build.sh --json prints: versions and paths in ~/.cache/ai-workloads. */
export interface Programs {
  mlserver: { version: string; python: string; venv: string; bin: string; lock: string };
  oauth2Proxy: { version: string; bin: string };
  mockoidc: { version: string; bin: string };
}

/** Builds what is missing (a no-op when cached; `npm run test:e2e` has already run it). */
export function buildPrograms(): Programs {
  const out = execFileSync(join(REPO, "hack", "programs", "build.sh"), ["--json"], {
    cwd: REPO,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 40 * 60_000,
  });
  return JSON.parse(out) as Programs;
}

// ---- the rendered pod ----------------------------------------------------------------------

export interface ContainerPort {
  name?: string;
  containerPort: number;
}
export interface Probe {
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string; httpHeaders?: { name: string; value: string }[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; [k: string]: unknown };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: unknown[];
  ports?: ContainerPort[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export type Deployment = Obj & { spec: { template: { spec: { containers: Container[]; volumes?: unknown[] } } } };

/** The primary container: the one the module recorded in its applied-defaults annotation. */
export function primaryContainer(d: Deployment): Container {
  const record = JSON.parse(d.metadata.annotations?.["ai-workloads.io/applied-defaults"] ?? "{}") as { container?: string };
  const containers = d.spec.template.spec.containers;
  const c = record.container ? containers.find(x => x.name === record.container) : containers.length === 1 ? containers[0] : undefined;
  if (!c) throw new Error(`${d.metadata.name}: no primary container`);
  return c;
}

/** A named port resolves to the containerPort of the container's port with that name (kubelet's rule). */
export function resolvePort(c: Container, port: number | string): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = (c.ports ?? []).find(x => x.name === port);
  if (!p) throw new Error(`container ${c.name}: no port named ${port} (ports: ${JSON.stringify(c.ports ?? [])})`);
  return p.containerPort;
}

/** Kubernetes' $(VAR) expansion of command and args against the container's env; $$ is a literal $. */
export function expand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === "$$" ? "$" : name !== undefined && name in env ? env[name] : m,
  );
}

/**
 * The container's environment: literal `value`s as rendered, `valueFrom.secretKeyRef` from the
 * test's stand-in Secrets (`secrets[name][key]`). Anything else (envFrom, fieldRef...) is refused,
 * so a container this test cannot reproduce fails loudly instead of running differently.
 */
export function containerEnv(c: Container, secrets: Record<string, Record<string, string>>): Record<string, string> {
  if ((c.envFrom ?? []).length > 0) throw new Error(`container ${c.name}: envFrom is not reproduced by this test`);
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = expand(e.value, env);
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const v = secrets[name]?.[key];
      if (v === undefined) throw new Error(`container ${c.name}: env ${e.name}: no test value for Secret ${name} key ${key}`);
      env[e.name] = v;
    } else if (e.valueFrom)
      throw new Error(`container ${c.name}: env ${e.name}: ${JSON.stringify(e.valueFrom)} is not reproduced by this test`);
    else env[e.name] = "";
  }
  return env;
}

/**
 * A folder laid out as the kubelet mounts a ConfigMap volume (its atomic writer): the data in
 * `..<timestamp>/`, a `..data` symlink to it, and one symlink per key to `..data/<key>`.
 */
export function configMapVolume(dir: string, data: Record<string, string | Buffer>): string {
  const ts = "..2026_01_01_00_00_00.000000001";
  mkdirSync(join(dir, ts), { recursive: true });
  for (const [k, v] of Object.entries(data)) writeFileSync(join(dir, ts, k), v);
  symlinkSync(ts, join(dir, "..data"));
  for (const k of Object.keys(data)) symlinkSync(join("..data", k), join(dir, k));
  return dir;
}

// ---- processes -----------------------------------------------------------------------------

export interface Proc {
  name: string;
  argv: string[];
  child: ChildProcess;
  logFile: string;
  startedAt: number;
  exit: Promise<number | null>;
  /** Exit code, or the signal's name; undefined while running. */
  exited?: number | string;
  log(): string;
}

/**
 * Starts a program in its own process group (MLServer forks workers), stdout and stderr to a log
 * file. `env` is the whole environment: nothing of the test runner's leaks in.
 */
export function startProcess(name: string, argv: string[], env: Record<string, string>, logFile: string, cwd: string): Proc {
  const fd = openSync(logFile, "w");
  const child = spawn(argv[0], argv.slice(1), { env, cwd, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const proc: Proc = {
    name,
    argv,
    child,
    logFile,
    startedAt: Date.now(),
    exit: new Promise(resolve => {
      child.on("exit", (code, signal) => {
        proc.exited = code ?? signal ?? "unknown";
        resolve(code);
      });
      child.on("error", () => {
        proc.exited = proc.exited ?? "spawn error";
        resolve(null);
      });
    }),
    log: () => readFileSync(logFile, "utf8"),
  };
  return proc;
}

/** `p`, or `onTimeout` after `ms`; the timer is cleared either way (no handle is left open). */
export async function within<T, U>(p: Promise<T>, ms: number, onTimeout: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<U>(resolve => (timer = setTimeout(() => resolve(onTimeout), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; waits until the leader is gone. */
export async function stopProcess(p: Proc | undefined, graceMs = 10_000): Promise<void> {
  if (!p || p.child.pid === undefined) return;
  const group = -p.child.pid;
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(group, s);
    } catch {
      // already gone
    }
  };
  if (p.exited === undefined) {
    signal("SIGTERM");
    const done = await within(
      p.exit.then(() => true),
      graceMs,
      false,
    );
    if (!done) signal("SIGKILL");
    await within(p.exit, 5_000, undefined);
  }
  // Workers left in the group (the leader may exit first) get the same end.
  signal("SIGKILL");
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise(resolve => {
    const s = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

// ---- HTTP ----------------------------------------------------------------------------------

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

/** One plain HTTP(S) request, no redirect following; `status` 0 with `error` when none came back. */
export function httpGet(
  url: string,
  opts: { headers?: Record<string, string>; timeoutMs?: number; proxyTo?: { host: string; port: number } } = {},
): Promise<Response & { error?: string }> {
  const u = new URL(url);
  const t0 = Date.now();
  const isHttps = u.protocol === "https:";
  const req = (isHttps ? httpsRequest : httpRequest)({
    host: opts.proxyTo?.host ?? u.hostname,
    port: opts.proxyTo?.port ?? (u.port || (isHttps ? 443 : 80)),
    path: `${u.pathname}${u.search}`,
    method: "GET",
    headers: opts.headers,
    // A new connection per request, as the kubelet makes one per probe; none is left open.
    agent: false,
    // The kubelet does not verify a probe's certificate.
    ...(isHttps ? { rejectUnauthorized: false } : {}),
  });
  return new Promise(resolve => {
    const timer = setTimeout(() => req.destroy(new Error(`timeout after ${opts.timeoutMs} ms`)), opts.timeoutMs ?? 5_000);
    req.on("response", res => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: Date.now() - t0 });
      });
    });
    req.on("error", e => {
      clearTimeout(timer);
      resolve({ status: 0, headers: {}, body: "", ms: Date.now() - t0, error: e.message });
    });
    req.end();
  });
}

export const is2xx = (status: number): boolean => status >= 200 && status < 300;

// ---- the kubelet ---------------------------------------------------------------------------

export interface ProbeResult {
  kind: string;
  url: string;
  status: number;
  error?: string;
  ms: number;
  /** Seconds after the process started. */
  at: number;
  attempt: number;
}

/**
 * One probe request as the kubelet sends it: GET <scheme>://<pod IP>:<port>/<path> (the pod IP is
 * 127.0.0.1 here), the port resolved by name through the container's ports, the probe's
 * httpHeaders, User-Agent kube-probe/<minor>, its timeoutSeconds (default 1).
 */
export async function sendProbe(c: Container, probe: Probe, kind: string, proc: Proc, attempt = 1): Promise<ProbeResult> {
  const g = probe.httpGet;
  if (!g) throw new Error(`${kind} probe of ${c.name} is not httpGet: ${JSON.stringify(probe)}`);
  const scheme = (g.scheme ?? "HTTP").toLowerCase();
  const url = `${scheme}://127.0.0.1:${resolvePort(c, g.port)}${g.path ?? "/"}`;
  const headers: Record<string, string> = { "User-Agent": "kube-probe/1.34", Accept: "*/*" };
  for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
  const at = (Date.now() - proc.startedAt) / 1000;
  const r = await httpGet(url, { headers, timeoutMs: (probe.timeoutSeconds ?? 1) * 1000 });
  return { kind, url, status: r.status, error: r.error, ms: r.ms, at, attempt };
}

/**
 * The kubelet's schedule for one probe until its first success: first attempt at
 * initialDelaySeconds after the start, then every periodSeconds, at most failureThreshold attempts
 * (a startup probe gives up there; a failed liveness probe restarts the container). Stops early
 * when the process exits. Returns every attempt; the last one is the success, if any.
 */
export async function kubeletProbe(c: Container, probe: Probe, kind: string, proc: Proc): Promise<ProbeResult[]> {
  const period = (probe.periodSeconds ?? 10) * 1000;
  const threshold = probe.failureThreshold ?? 3;
  const attempts: ProbeResult[] = [];
  const first = proc.startedAt + (probe.initialDelaySeconds ?? 0) * 1000;
  for (let i = 0; i < threshold; i++) {
    const when = first + i * period;
    while (Date.now() < when && proc.exited === undefined) await delay(Math.min(200, when - Date.now()));
    if (proc.exited !== undefined) break;
    const r = await sendProbe(c, probe, kind, proc, i + 1);
    attempts.push(r);
    if (is2xx(r.status)) break;
  }
  return attempts;
}

export const describeProbe = (r: ProbeResult): string =>
  `${r.kind} GET ${r.url} -> ${r.status || r.error} in ${r.ms} ms (attempt ${r.attempt}, ${r.at.toFixed(1)} s after start)`;

// ---- the gateway ---------------------------------------------------------------------------

interface HttpRoute {
  name?: string;
  match?: { uri?: { prefix?: string; exact?: string } }[];
  rewrite?: { uri?: string };
  headers?: { request?: { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] } };
  route?: { destination: { host: string; port?: { number: number } } }[];
}
export type VirtualService = Obj & { spec: { hosts: string[]; http?: HttpRoute[] } };
type Service = Obj & {
  spec: { ports: { name?: string; port: number; targetPort?: number | string }[]; selector?: Record<string, string> };
};

export interface Forwarded {
  /** The route that matched, or undefined: Envoy answers 404 (no route). */
  route?: string;
  /** Where it went on this machine and what the upstream saw. */
  upstream?: { port: number; path: string; headers: Record<string, string> };
  response: Response & { error?: string };
}

/**
 * The Istio ingress gateway, for the objects `render` produced: an external request
 * https://<host><path> is matched against the VirtualService's http routes in order (uri prefix
 * or exact), the matched part of the path is rewritten (`rewrite.uri`), the route's
 * `headers.request` set/add/remove applied with Envoy's `%REQ(header)%` values taken from the
 * request as it arrived (Envoy adds a route's request headers before it rewrites the path, so
 * `%REQ(:PATH)%` is the external path), plus what Envoy adds itself (x-forwarded-proto https,
 * x-forwarded-for, x-envoy-original-path). The destination `<svc>.<ns>.svc.cluster.local:<port>`
 * goes to the Service's port, its targetPort resolved by name in the Deployment the Service
 * selects, i.e. 127.0.0.1:<containerPort>.
 */
export class Gateway {
  constructor(
    private readonly objects: readonly Obj[],
    /** Drop the route's own header changes (to show what happens without them). */
    private readonly withRouteHeaders = true,
  ) {}

  async get(externalUrl: string, headers: Record<string, string> = {}): Promise<Forwarded> {
    const u = new URL(externalUrl);
    const vs = this.objects.find(o => o.kind === "VirtualService" && (o as VirtualService).spec.hosts.includes(u.hostname)) as
      | VirtualService
      | undefined;
    const notFound = (): Forwarded => ({ response: { status: 404, headers: {}, body: "no route (gateway)", ms: 0 } });
    if (!vs) return notFound();
    const path = u.pathname;
    for (const r of vs.spec.http ?? []) {
      for (const m of r.match ?? [{}]) {
        let rewritten: string | undefined;
        const rw = r.rewrite?.uri;
        if (m.uri?.exact !== undefined) {
          if (path === m.uri.exact) rewritten = rw ?? path;
        } else if (m.uri?.prefix !== undefined) {
          if (path.startsWith(m.uri.prefix)) rewritten = rw !== undefined ? rw + path.slice(m.uri.prefix.length) : path;
        } else rewritten = path;
        if (rewritten === undefined) continue;
        // rewrite "/" + rest "x" gives "/x"; a prefix "/a/" with rewrite "/" never yields "//".
        rewritten = rewritten.replace(/^\/\/+/, "/");
        const original: Record<string, string> = { ":path": `${u.pathname}${u.search}`, ":authority": u.host, ...lower(headers) };
        const out: Record<string, string> = {
          ...lower(headers),
          host: u.host,
          "x-forwarded-proto": "https",
          "x-forwarded-for": "203.0.113.10",
        };
        if (rewritten !== path) out["x-envoy-original-path"] = `${u.pathname}${u.search}`;
        if (this.withRouteHeaders) {
          const req = r.headers?.request;
          for (const k of req?.remove ?? []) delete out[k.toLowerCase()];
          for (const [k, v] of Object.entries(req?.add ?? {})) {
            const key = k.toLowerCase();
            out[key] = out[key] !== undefined ? `${out[key]},${envoyFormat(v, original)}` : envoyFormat(v, original);
          }
          for (const [k, v] of Object.entries(req?.set ?? {})) out[k.toLowerCase()] = envoyFormat(v, original);
        }
        const port = this.destinationPort(r, vs.metadata.namespace ?? "default");
        const upstreamPath = `${rewritten}${u.search}`;
        const response = await httpGet(`http://127.0.0.1:${port}${upstreamPath}`, { headers: out, timeoutMs: 15_000 });
        return { route: r.name, upstream: { port, path: upstreamPath, headers: out }, response };
      }
    }
    return notFound();
  }

  /** Route destination -> Service port -> targetPort -> the selected Deployment's containerPort. */
  private destinationPort(r: HttpRoute, vsNamespace: string): number {
    const dest = r.route?.[0]?.destination;
    if (!dest) throw new Error(`route ${r.name}: no destination`);
    const [svcName, ns = vsNamespace] = dest.host.split(".");
    const svc = this.objects.find(
      o => o.kind === "Service" && o.metadata.name === svcName && (o.metadata.namespace ?? "default") === ns,
    ) as Service | undefined;
    if (!svc) throw new Error(`route ${r.name}: no Service ${ns}/${svcName}`);
    const sp = dest.port ? svc.spec.ports.find(p => p.port === dest.port?.number) : svc.spec.ports[0];
    if (!sp) throw new Error(`route ${r.name}: Service ${svcName} has no port ${dest.port?.number}`);
    const target = sp.targetPort ?? sp.port;
    const selector = svc.spec.selector ?? {};
    const dep = this.objects.find(
      o =>
        o.kind === "Deployment" &&
        (o.metadata.namespace ?? "default") === ns &&
        Object.entries(selector).every(
          ([k, v]) => ((o as Deployment).spec.template as { metadata?: { labels?: Record<string, string> } }).metadata?.labels?.[k] === v,
        ),
    ) as Deployment | undefined;
    if (!dep) throw new Error(`route ${r.name}: Service ${svcName} selects no Deployment`);
    // Kubernetes resolves a named targetPort in every container of the pod; the first match wins.
    if (typeof target === "string" && !/^\d+$/.test(target)) {
      for (const c of dep.spec.template.spec.containers) {
        const p = (c.ports ?? []).find(x => x.name === target);
        if (p) return p.containerPort;
      }
      throw new Error(`route ${r.name}: no container of ${dep.metadata.name} has a port named ${target}`);
    }
    return Number(target);
  }
}

const lower = (h: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

/** Envoy's header value formatting, for the operators a route can use here: %REQ(name)%. */
function envoyFormat(value: string, request: Record<string, string>): string {
  return value.replace(/%REQ\(([^)]+)\)%/g, (_, name: string) => request[name.toLowerCase()] ?? "");
}

// ---- a browser -----------------------------------------------------------------------------

export interface Hop {
  url: string;
  via: "gateway" | "issuer";
  status: number;
  location?: string;
  /** For gateway hops: the path oauth2-proxy (or another upstream) received. */
  upstreamPath?: string;
}

/**
 * A browser with one cookie jar per host, following redirects: URLs on the external host go
 * through the gateway, the issuer's are requested directly (the browser talks to the IdP).
 */
export class Browser {
  private readonly jars = new Map<string, Map<string, string>>();

  constructor(
    private readonly gateway: Gateway,
    private readonly externalHost: string,
  ) {}

  cookies(host: string): Map<string, string> {
    let jar = this.jars.get(host);
    if (!jar) this.jars.set(host, (jar = new Map()));
    return jar;
  }

  /** One request, no following. */
  async get(url: string): Promise<{ hop: Hop; response: Response & { error?: string }; forwarded?: Forwarded }> {
    const u = new URL(url);
    const jar = this.cookies(u.hostname);
    const headers: Record<string, string> = { "User-Agent": "Mozilla/5.0 (ai-workloads e2e)", Accept: "text/html" };
    if (jar.size > 0) headers.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    let response: Response & { error?: string };
    let forwarded: Forwarded | undefined;
    if (u.hostname === this.externalHost) {
      forwarded = await this.gateway.get(url, headers);
      response = forwarded.response;
    } else {
      response = await httpGet(url, { headers, timeoutMs: 15_000 });
    }
    this.store(jar, response.headers["set-cookie"]);
    const loc = response.headers.location;
    const hop: Hop = {
      url,
      via: u.hostname === this.externalHost ? "gateway" : "issuer",
      status: response.status,
      location: typeof loc === "string" ? loc : undefined,
      upstreamPath: forwarded?.upstream?.path,
    };
    return { hop, response, forwarded };
  }

  /** Follows redirects (at most `max`), resolving relative Locations against the current URL. */
  async browse(url: string, max = 10): Promise<{ hops: Hop[]; final: Response & { error?: string } }> {
    const hops: Hop[] = [];
    let current = url;
    for (let i = 0; i <= max; i++) {
      const { hop, response } = await this.get(current);
      hops.push(hop);
      if (!(response.status >= 300 && response.status < 400 && hop.location)) return { hops, final: response };
      current = new URL(hop.location, current).toString();
    }
    throw new Error(`more than ${max} redirects: ${hops.map(h => `${h.url} -> ${h.status} ${h.location ?? ""}`).join("; ")}`);
  }

  private store(jar: Map<string, string>, setCookie: string | string[] | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair, ...attrs] = line.split(";").map(s => s.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attrs.some(a => {
        const [k, v = ""] = a.split("=");
        if (k.toLowerCase() === "max-age") return Number(v) <= 0;
        if (k.toLowerCase() === "expires") return Date.parse(v) < Date.now();
        return false;
      });
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
  }
}
