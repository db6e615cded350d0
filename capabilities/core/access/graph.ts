// A picture of who reaches what, per namespace: gateway host → VirtualService route (path)
// → Service → Deployment, each app marked with its kind, public paths and JWT requirement.
// Built once as nodes and edges, then written as Mermaid or Graphviz DOT. Deterministic.
import { INGRESS_NAMESPACE, type SecurityObjects, decide, securityObjects } from "./evaluate";
import { pathSetOf } from "./match";
import type { AccessModel, App } from "./model";
import { describeRoute, destinationsOf, gatewaysOf, hostsOf, routesTo, serviceFqdn, servicesSelecting } from "./routes";
import type { KubeObject } from "../types";

export type Shape = "host" | "virtualservice" | "service" | "app";

export interface GraphNode {
  /** Stable key, e.g. `svc:ai/runtime-openai`; renderers derive their ids from it. */
  key: string;
  shape: Shape;
  /** Lines of the label. */
  lines: string[];
  /** Namespace box the node is drawn in; none for gateway hosts, which namespaces share. */
  namespace?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
  /** A reference in an app's settings (upstream, openai-backend) rather than a route. */
  dashed?: boolean;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  namespaces: string[];
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const nameOf = (o: KubeObject): string => o.metadata?.name ?? "";
const nsOf = (o: KubeObject): string => o.metadata?.namespace ?? "";

/** What a caller needs at `/`, from the sidecar's decisions (the route is shown by the edges). */
export function jwtRequirement(app: Pick<App, "namespace" | "labels">, sec: SecurityObjects): string {
  const workload = { namespace: app.namespace, labels: app.labels };
  const path = pathSetOf("/");
  const fromGateway = decide(workload, { source: { exact: INGRESS_NAMESPACE }, jwt: false, path }, sec).outcome;
  const withJwt = decide(workload, { source: { exact: INGRESS_NAMESPACE }, jwt: true, path }, sec).outcome;
  const sameNs = decide(workload, { source: { exact: app.namespace }, jwt: false, path }, sec).outcome;
  if ([fromGateway, withJwt, sameNs].includes("unknown")) return "JWT: unknown (see ai-workloads access)";
  if (fromGateway === "allow") return "JWT: not required";
  if (withJwt === "allow") return sameNs === "allow" ? "JWT: required, same namespace exempt" : "JWT: required";
  return "JWT: does not help (denied from the gateway)";
}

const servicePorts = (svc: KubeObject): string => {
  const spec = (svc.spec ?? {}) as { ports?: { port?: unknown }[] };
  const ports = (spec.ports ?? []).map(p => p.port).filter(p => typeof p === "number");
  return ports.length > 0 ? ` :${ports.join(", :")}` : "";
};

/** Hosts of `http(s)://host[:port]/…` references, for the dashed edges to the Service they name. */
const referenceHost = (url: string | undefined): string | undefined => {
  if (!url) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
};

export function buildGraph(model: AccessModel): Graph {
  const sec = securityObjects(model.objects);
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const edgeKeys = new Set<string>();
  const addNode = (n: GraphNode): void => {
    if (!nodes.has(n.key)) nodes.set(n.key, n);
  };
  const addEdge = (e: GraphEdge): void => {
    const k = JSON.stringify([e.from, e.to, e.label ?? "", !!e.dashed]);
    if (edgeKeys.has(k)) return;
    edgeKeys.add(k);
    edges.push(e);
  };
  const svcKey = (ns: string, name: string): string => `svc:${ns}/${name}`;
  const fqdnToService = new Map<string, string>();

  for (const app of model.apps) {
    const appKey = `app:${app.namespace}/${app.name}`;
    const services = servicesSelecting(model.objects, app.namespace, app.labels);
    const routes = routesTo(
      model.objects,
      services.map(s => serviceFqdn(nameOf(s), app.namespace)),
    );
    const s = app.settings;
    addNode({
      key: appKey,
      shape: "app",
      namespace: app.namespace,
      lines: [
        app.name,
        `kind: ${s.kind}`,
        `public: ${s.publicPaths.length > 0 ? s.publicPaths.join(", ") : "none"}`,
        jwtRequirement(app, sec),
        ...(routes.length === 0 ? ["no route from the gateway"] : []),
      ],
    });
    for (const svc of services) {
      const key = svcKey(app.namespace, nameOf(svc));
      fqdnToService.set(serviceFqdn(nameOf(svc), app.namespace), key);
      addNode({ key, shape: "service", namespace: app.namespace, lines: [`Service ${nameOf(svc)}${servicePorts(svc)}`] });
      addEdge({ from: key, to: appKey });
    }
  }

  for (const app of model.apps) {
    const fqdns = servicesSelecting(model.objects, app.namespace, app.labels).map(s => serviceFqdn(nameOf(s), app.namespace));
    for (const r of routesTo(model.objects, fqdns)) {
      const vs = r.vs;
      const vsKey = `vs:${nsOf(vs)}/${nameOf(vs)}`;
      addNode({ key: vsKey, shape: "virtualservice", namespace: nsOf(vs), lines: [`VirtualService ${nameOf(vs)}`] });
      for (const gateway of gatewaysOf(vs)) {
        for (const host of hostsOf(vs)) {
          const hostKey = `host:${gateway}|${host}`;
          addNode({ key: hostKey, shape: "host", lines: [host, `gateway ${gateway}`] });
          addEdge({ from: hostKey, to: vsKey });
        }
      }
      for (const d of destinationsOf(r)) {
        const to = fqdnToService.get(d);
        if (to && fqdns.includes(d)) addEdge({ from: vsKey, to, label: describeRoute(r) });
      }
    }
  }

  for (const app of model.apps) {
    const refs: [string, string | undefined][] = [
      ["openai-backend", app.settings.openaiBackend],
      ["upstream", app.settings.upstream],
    ];
    for (const [label, url] of refs) {
      const to = fqdnToService.get(referenceHost(url) ?? "");
      if (to) addEdge({ from: `app:${app.namespace}/${app.name}`, to, label, dashed: true });
    }
  }

  const order: Record<Shape, number> = { host: 0, virtualservice: 1, service: 2, app: 3 };
  const sortedNodes = [...nodes.values()].sort(
    (a, b) => compare(a.namespace ?? "", b.namespace ?? "") || order[a.shape] - order[b.shape] || compare(a.key, b.key),
  );
  const rank = new Map(sortedNodes.map((n, i) => [n.key, i]));
  const sortedEdges = [...edges].sort(
    (a, b) => rank.get(a.from)! - rank.get(b.from)! || rank.get(a.to)! - rank.get(b.to)! || compare(a.label ?? "", b.label ?? ""),
  );
  const namespaces = [...new Set(sortedNodes.flatMap(n => (n.namespace ? [n.namespace] : [])))];
  return { nodes: sortedNodes, edges: sortedEdges, namespaces };
}

export const GRAPH_FORMATS = ["mermaid", "dot"] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** Readable Mermaid ids (`app_ai_runtime_openai`); a key that would repeat one gets `_2`, `_3`, … in node order. */
function mermaidIds(keys: readonly string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const key of keys) {
    const base = key.replace(/[^A-Za-z0-9]+/g, "_").replace(/_$/, "");
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(key, id);
  }
  return ids;
}

// Mermaid entity codes keep quotes and angle brackets from ending a label.
const mermaidText = (s: string): string => s.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");

const MERMAID_SHAPES: Record<Shape, [string, string]> = {
  host: ['(["', '"])'],
  virtualservice: ['{{"', '"}}'],
  service: ['["', '"]'],
  app: ['[["', '"]]'],
};

export function toMermaid(g: Graph): string {
  const ids = mermaidIds([...g.namespaces.map(ns => `ns:${ns}`), ...g.nodes.map(n => n.key)]);
  const nodeId = (key: string): string => ids.get(key)!;
  const node = (n: GraphNode, indent: string): string => {
    const [open, close] = MERMAID_SHAPES[n.shape];
    return `${indent}${nodeId(n.key)}${open}${n.lines.map(mermaidText).join("<br/>")}${close}`;
  };
  const out = ["flowchart LR"];
  for (const n of g.nodes.filter(n => !n.namespace)) out.push(node(n, "  "));
  for (const ns of g.namespaces) {
    out.push(`  subgraph ${nodeId(`ns:${ns}`)}["namespace ${mermaidText(ns)}"]`);
    for (const n of g.nodes.filter(n => n.namespace === ns)) out.push(node(n, "    "));
    out.push("  end");
  }
  for (const e of g.edges) {
    const arrow = e.dashed ? "-.->" : "-->";
    const label = e.label === undefined ? "" : `|"${mermaidText(e.label)}"|`;
    out.push(`  ${nodeId(e.from)} ${arrow}${label} ${nodeId(e.to)}`);
  }
  return out.join("\n") + "\n";
}

const dotEscape = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
const dotString = (s: string): string => `"${dotEscape(s)}"`;

const DOT_SHAPES: Record<Shape, string> = { host: "oval", virtualservice: "hexagon", service: "box", app: "box3d" };

export function toDot(g: Graph): string {
  const node = (n: GraphNode, indent: string): string =>
    // `\n` inside a DOT string is a line break.
    `${indent}${dotString(n.key)} [shape=${DOT_SHAPES[n.shape]}, label="${n.lines.map(dotEscape).join("\\n")}"];`;
  const out = ["digraph access {", "  rankdir=LR;", '  node [fontname="Helvetica"];', '  edge [fontname="Helvetica"];'];
  for (const n of g.nodes.filter(n => !n.namespace)) out.push(node(n, "  "));
  for (const ns of g.namespaces) {
    out.push(`  subgraph ${dotString(`cluster_${ns}`)} {`, `    label=${dotString(`namespace ${ns}`)};`);
    for (const n of g.nodes.filter(n => n.namespace === ns)) out.push(node(n, "    "));
    out.push("  }");
  }
  for (const e of g.edges) {
    const attrs = [...(e.label === undefined ? [] : [`label=${dotString(e.label)}`]), ...(e.dashed ? ["style=dashed"] : [])];
    out.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${attrs.length > 0 ? ` [${attrs.join(", ")}]` : ""};`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}

export const formatGraph = (g: Graph, format: GraphFormat): string => (format === "dot" ? toDot(g) : toMermaid(g));
