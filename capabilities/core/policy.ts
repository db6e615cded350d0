// Admission policy on a Deployment after its defaults (SPEC §6.1–6.2). Resolution problems
// (annotations, kind, profile, container) come from resolveWorkload; these need the mutated object.
import type { V1Container } from "@kubernetes/client-node";
import { DA, NA } from "./constants";
import { type NamespaceSettings, namespaceObject } from "./config";
import { flagValue, hasEnv, portName } from "./defaults/container";
import { CREDENTIALS, WIRING_FLAGS, flagGiven, hasUnseenSettings, oauth2ProxyArgs, runsShell } from "./defaults/oauth2-proxy";
import { annotationField } from "./parse";
import { type Problem, deny, quote, warn } from "./problems";
import type { V1Deployment } from "./types";
import type { WorkloadSettings } from "./workload";

const containerField = (c: V1Container, part: string): string => `spec.template.spec.containers[${c.name}].${part}`;

export function checkWorkload(mutated: V1Deployment, s: WorkloadSettings): Problem[] {
  const object = `${s.namespace}/${s.app}`;
  const c = mutated.spec!.template.spec!.containers[s.containerIndex];
  const problems: Problem[] = [];

  if (portName(c, s.port) === undefined) {
    const taken = (c.ports ?? []).find(p => p.name === "http");
    problems.push(
      deny(object, {
        field: containerField(c, "ports"),
        what: taken
          ? `port name "http" is used by port ${taken.containerPort}, not by the app port ${s.port}`
          : `port ${s.port} has no name`,
        fix: taken ? `set ${DA.port}: "${taken.containerPort}", or rename that port` : `name port ${s.port}, such as "http"`,
      }),
    );
  }

  problems.push(...checkPortNames(object, mutated, c, s));
  if (s.kind === "oauth2-proxy") problems.push(...checkOauth2Proxy(object, c, s));
  problems.push(...checkPublicPaths(object, s));
  if (s.kind === "librechat" && !hasEnv(c, "MONGO_URI") && (c.envFrom ?? []).length === 0) {
    problems.push(
      warn(object, {
        field: containerField(c, "env"),
        what: "MONGO_URI is not set",
        fix: "set MONGO_URI in env or through envFrom (a Secret): LibreChat needs MongoDB",
      }),
    );
  }
  // A CPU limit without a request becomes the request (Kubernetes copies it).
  if (s.autoscale !== "off" && c.resources?.requests?.cpu === undefined && c.resources?.limits?.cpu === undefined) {
    problems.push(
      warn(object, {
        field: containerField(c, "resources.requests.cpu"),
        what: "is not set, so CPU autoscaling cannot work",
        fix: `set a CPU request, use an infra profile with one, or set ${DA.autoscale}: "off"`,
      }),
    );
  }
  problems.push(...literalSecrets(object, c));
  return problems;
}

/**
 * The port names the kind relies on are unique across the pod's containers and init containers:
 * Kubernetes resolves a named targetPort to the first container that has the name (SPEC §13.1).
 */
function checkPortNames(object: string, mutated: V1Deployment, c: V1Container, s: WorkloadSettings): Problem[] {
  const pod = mutated.spec!.template.spec!;
  // Most pods have no other named port: nothing to compare (this runs once per admitted Deployment).
  if (!hasOtherNamedPort(pod.containers, c) && !hasOtherNamedPort(pod.initContainers, c)) return [];
  const numbers = s.kind === "mlserver" ? [s.port, s.grpcPort, s.metricsPort] : [s.port];
  const names = new Set(numbers.map(n => portName(c, n)).filter((n): n is string => n !== undefined));
  const problems: Problem[] = [];
  for (const [list, part] of [
    [pod.containers, "containers"],
    [pod.initContainers ?? [], "initContainers"],
  ] as const) {
    for (const other of list) {
      if (other === c) continue;
      for (const p of other.ports ?? []) {
        if (p.name === undefined || !names.has(p.name)) continue;
        problems.push(
          deny(object, {
            field: `spec.template.spec.${part}[${other.name}].ports`,
            what: `port name ${quote(p.name)} is also the primary container's (${c.name}); Kubernetes resolves a named targetPort to the first container that has the name`,
            fix: `rename that port of ${quote(other.name)}`,
          }),
        );
      }
    }
  }
  return problems;
}

const hasOtherNamedPort = (list: readonly V1Container[] | undefined, c: V1Container): boolean =>
  (list ?? []).some(other => other !== c && (other.ports ?? []).some(p => p.name !== undefined));

/** Public paths are matched after the route's rewrite: `/apps/model/docs` from outside is `/docs` at the app (SPEC §13.3). */
function checkPublicPaths(object: string, s: WorkloadSettings): Problem[] {
  if (!s.expose || s.path === "/") return [];
  return s.publicPaths
    .filter(p => p.startsWith(`${s.path}/`))
    .map(p =>
      warn(object, {
        field: annotationField(DA.publicPaths),
        what: `${quote(p)} is written as seen from outside, but public paths are matched after the route rewrites ${quote(`${s.path}/`)} to "/", so no request reaches the app with it`,
        fix: `write ${quote(p.slice(s.path.length))}`,
      }),
    );
}

function checkOauth2Proxy(object: string, c: V1Container, s: WorkloadSettings): Problem[] {
  const problems: Problem[] = [];
  const shell = runsShell(c);
  // What a shell script, envFrom or a config file sets cannot be seen here: no denial for it.
  const unseen = shell || hasUnseenSettings(c);
  // Flags are left out only under a shell or unseen settings: no need to work them out otherwise.
  const leftOut = unseen ? oauth2ProxyArgs(s, c).leftOut : [];
  if (shell && leftOut.length > 0) {
    problems.push(
      warn(object, {
        field: containerField(c, "command"),
        what: `runs a shell, so no flags were added (appended args would become the shell's positional parameters): ${leftOut.join(" ")}`,
        fix: "add the flags the app needs to the command line the shell runs",
      }),
    );
  } else if (unseen && leftOut.length > 0) {
    problems.push(
      warn(object, {
        field: containerField(c, "args"),
        what: `envFrom or --config can hold settings admission cannot see, so only the wiring flags --${WIRING_FLAGS.join(", --")} are added where missing; left out: ${leftOut.join(" ")}`,
        fix: "set those in your config or env yourself, or pass them as args: a flag would override your own setting",
      }),
    );
  }
  if (!s.upstream && !flagGiven(c, "upstream") && !unseen) {
    problems.push(
      deny(object, {
        field: annotationField(DA.upstream),
        what: "oauth2-proxy has no upstream",
        fix: `set ${DA.upstream} to the Service it protects, such as "librechat-backend", or pass --upstream`,
      }),
    );
  }
  if (!s.ns.tenantId && !flagGiven(c, "oidc-issuer-url") && !unseen) {
    problems.push(
      deny(object, {
        field: containerField(c, "args"),
        what: "oauth2-proxy has no OIDC issuer",
        fix: "set the tenant (ai-workloads.io/aad-tenant-id on the Namespace, or aad.tenantId in the cluster config), or pass --oidc-issuer-url",
      }),
    );
  }
  for (const cred of CREDENTIALS) {
    // The cheap tests first: the flag and env scans run only when neither settles it.
    const given = unseen || s.oauth2Secret !== undefined || hasEnv(c, cred.env) || cred.flags.some(f => flagGiven(c, f));
    if (!given) {
      problems.push(
        deny(object, {
          field: containerField(c, "env"),
          what: `oauth2-proxy has no ${cred.key.replace("-", " ")}`,
          fix: `set ${DA.oauth2Secret} to a Secret with keys client-id, client-secret and cookie-secret, or set ${cred.env} from a Secret`,
        }),
      );
    }
  }
  return problems;
}

const SECRET_FLAGS = ["client-secret", "cookie-secret"];
const SECRET_ENV = ["OAUTH2_PROXY_CLIENT_SECRET", "OAUTH2_PROXY_COOKIE_SECRET"];

/** Warns without echoing the value: messages reach logs and terminals. */
function literalSecrets(object: string, c: V1Container): Problem[] {
  const problems: Problem[] = [];
  for (const flag of SECRET_FLAGS) {
    if (flagValue(c, flag) !== undefined) {
      problems.push(
        warn(object, {
          field: containerField(c, "args"),
          what: `--${flag} is given as a literal value`,
          fix: `move it to a Secret and use ${DA.oauth2Secret} or env valueFrom.secretKeyRef`,
        }),
      );
    }
  }
  for (const e of c.env ?? []) {
    if (SECRET_ENV.includes(e.name) && e.value !== undefined) {
      problems.push(
        warn(object, {
          field: containerField(c, `env[${e.name}]`),
          what: "is a literal value",
          fix: "use valueFrom.secretKeyRef, or ai-workloads.io/oauth2-secret",
        }),
      );
    }
  }
  return problems;
}

/**
 * SPEC §5, §12.6: two exposed apps may not share a route path in a namespace (the later is denied),
 * nor on the host and gateway that namespaces share (Istio merges their VirtualServices); a path
 * nested under or above another namespace's route there is a warning. `others` may hold apps of
 * any namespace.
 */
export function checkRouteClash(s: WorkloadSettings, others: readonly WorkloadSettings[] | RouteIndex): Problem[] {
  if (!s.expose) return [];
  // One app against a list (admission) is a pass over it: an index pays only for many questions.
  const candidates = others instanceof RouteIndex ? others.candidates(s) : others;
  return candidates.flatMap(o => routeProblems(s, o));
}

const appRef = (w: WorkloadSettings): string => `${w.namespace}/${w.app}`;

/** What one other app's route means for `s`'s (SPEC §5, §12.6); the strings are built only for a problem. */
export function routeProblems(s: WorkloadSettings, o: WorkloadSettings): Problem[] {
  if (!o.expose || (o.namespace === s.namespace && o.app === s.app)) return [];
  if (o.namespace === s.namespace) {
    if (o.path !== s.path) return [];
    return [
      deny(appRef(s), {
        field: annotationField(DA.pathPrefix),
        what: `route path ${quote(s.path)} is already used by Deployment ${quote(o.app)}`,
        fix: `set ${DA.pathPrefix} to another path, or ${DA.expose}: "false"`,
      }),
    ];
  }
  if (!sharesUrlSpace(s, o)) return [];
  if (o.path === s.path) {
    return [
      deny(appRef(s), {
        field: annotationField(DA.pathPrefix),
        what: `route path ${quote(s.path)} on host ${quote(s.ns.host!)} is already used by Deployment ${appRef(o)}`,
        fix: `set ${DA.pathPrefix} to another path, or ${DA.expose}: "false": namespaces on one host and gateway share its paths`,
      }),
    ];
  }
  if (!nested(s.path, o.path)) return [];
  return [
    warn(appRef(s), {
      field: annotationField(DA.pathPrefix),
      what: `route path ${quote(s.path)} on host ${quote(s.ns.host!)} overlaps route ${quote(o.path)} of Deployment ${appRef(o)}`,
      fix: "give each namespace its own base path: Istio merges VirtualServices of one host in creation order, so the longer path may never match",
    }),
  ];
}

/** Where `path` nests under a shorter path: each `p` with path starting `p/`. */
function ancestorsOf(path: string): string[] {
  const found: string[] = [];
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) found.push(path.slice(0, i));
  return found;
}

const spaceKey = (s: WorkloadSettings): string | undefined =>
  s.ns.host !== undefined && s.ns.gateway !== undefined ? `${s.ns.host}\n${s.ns.gateway}` : undefined;

/**
 * Exposed apps by route, so that judging one app's route costs its few possible clashes, not a
 * pass over every app of a host (render and admission of thousands of apps on one host). The
 * candidates come back in the order the apps were added, so the problems read as a pass would.
 */
export class RouteIndex {
  private readonly order = new Map<WorkloadSettings, number>();
  /** `<namespace>\n<path>` → apps. */
  private readonly byNamespacePath = new Map<string, WorkloadSettings[]>();
  /** URL space (host and gateway) → path → apps. */
  private readonly bySpacePath = new Map<string, Map<string, WorkloadSettings[]>>();
  /** URL space → path → apps whose path nests under it. */
  private readonly bySpaceAncestor = new Map<string, Map<string, WorkloadSettings[]>>();
  private readonly bySpace = new Map<string, WorkloadSettings[]>();

  constructor(apps: readonly WorkloadSettings[] = []) {
    apps.forEach(a => this.add(a));
  }

  /** `rank` orders candidates (default: the order of adding). */
  add(a: WorkloadSettings, rank = this.order.size): void {
    if (!a.expose || this.order.has(a)) return;
    this.order.set(a, rank);
    push(this.byNamespacePath, `${a.namespace}\n${a.path}`, a);
    const space = spaceKey(a);
    if (space === undefined) return;
    push(this.bySpace, space, a);
    push(inner(this.bySpacePath, space), a.path, a);
    for (const p of ancestorsOf(a.path)) push(inner(this.bySpaceAncestor, space), p, a);
  }

  /** Every added app whose route may clash with or nest around `s`'s. */
  candidates(s: WorkloadSettings): WorkloadSettings[] {
    const found = new Set(this.byNamespacePath.get(`${s.namespace}\n${s.path}`) ?? []);
    const space = spaceKey(s);
    if (space !== undefined) {
      const paths = this.bySpacePath.get(space);
      if (s.path === "/") addAll(found, this.bySpace.get(space));
      for (const p of [s.path, "/", ...ancestorsOf(s.path)]) addAll(found, paths?.get(p));
      addAll(found, this.bySpaceAncestor.get(space)?.get(s.path));
    }
    const list = [...found];
    return list.length > 1 ? list.sort((a, b) => this.order.get(a)! - this.order.get(b)!) : list;
  }
}

function addAll<T>(set: Set<T>, items: readonly T[] | undefined): void {
  if (items) for (const item of items) set.add(item);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function inner<V>(map: Map<string, Map<string, V[]>>, key: string): Map<string, V[]> {
  let m = map.get(key);
  if (!m) map.set(key, (m = new Map()));
  return m;
}

/** Both routed through one VirtualService host on one gateway: one URL space (SPEC §12.6). */
export const sharesUrlSpace = (a: WorkloadSettings, b: WorkloadSettings): boolean =>
  a.ns.host !== undefined && a.ns.gateway !== undefined && a.ns.host === b.ns.host && a.ns.gateway === b.ns.gateway;

const nested = (a: string, b: string): boolean => a === "/" || b === "/" || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/**
 * SPEC §12.4: require-jwt on while no RequestAuthentication is generated here: a token is
 * validated only if a RequestAuthentication elsewhere (say mesh-wide) does it.
 */
export function checkJwtWithoutRequestAuth(ns: NamespaceSettings): Problem[] {
  if (!ns.requireJwt || (ns.requestAuth && ns.tenantId)) return [];
  return [
    warn(namespaceObject(ns.name), {
      field: `metadata.annotations[${NA.requireJwt}]`,
      what: `a JWT is required, but no RequestAuthentication is generated here (${ns.tenantId ? "request-auth is not true" : "no tenant is known"})`,
      fix: `set ${NA.requestAuth}: "true" and a tenant, or make sure a mesh-wide RequestAuthentication validates the tokens: otherwise callers with only a token are denied`,
    }),
  ];
}

/** What makes two problems the same kind: the field, and the message without its quoted values and numbers. */
const problemKind = (p: Problem): string => `${p.field}\u0000${p.what.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/[0-9]+/g, "0")}`;

/**
 * SPEC §12.2, judged like Kubernetes' validation ratcheting: on an UPDATE, a denial the stored
 * object already has (`before`: the old object evaluated now) becomes a warning.
 */
export function ratchet(problems: readonly Problem[], before: readonly Problem[]): Problem[] {
  const had = new Set(before.filter(p => p.severity === "deny").map(problemKind));
  return problems.map(p =>
    p.severity === "deny" && had.has(problemKind(p)) ? { ...p, severity: "warn", fix: `${p.fix} (present before this change)` } : p,
  );
}

/**
 * The route clashes among `apps` (one namespace's, resolved under some Namespace settings) and
 * with the apps of other namespaces: one line each, so that a Namespace update can be judged by
 * the clashes it would add (SPEC §12.2).
 */
export function routeClashes(apps: readonly WorkloadSettings[], elsewhere: readonly WorkloadSettings[]): string[] {
  const lines = new Set<string>();
  // Each app is judged against the apps before it, then those elsewhere.
  const index = new RouteIndex();
  elsewhere.forEach((o, j) => index.add(o, apps.length + j));
  apps.forEach((s, i) => {
    for (const p of checkRouteClash(s, index)) {
      if (p.severity === "deny") lines.add(`${p.object}: ${p.what}`);
    }
    index.add(s, i);
  });
  return [...lines];
}
