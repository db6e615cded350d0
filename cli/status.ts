// `ai-workloads status`: per managed Deployment in a live cluster, its route, who needs a JWT, the
// state of each companion and of its defaults, and the last Event (SPEC §14.4). Exit 0 when all
// is ok, 1 otherwise, 2 on a usage error or when the API server cannot be asked.
import { type AppStatus, type NamespaceStatus, namespaceStatus } from "../capabilities/reconcile/status";
import type { ClusterApi } from "../capabilities/reconcile/cluster-api";
import { outputFormat } from "./access";
import { type LiveOptions, loadKubeConfig, observeLive, parseLiveArgs, readOnlyClusterApi } from "./live";
import type { Io } from "./main";

export const STATUS_FORMATS = ["table", "json"] as const;
export type StatusFormat = (typeof STATUS_FORMATS)[number];

const NONE = "<none>";
const HEADERS = ["NAMESPACE", "NAME", "KIND", "ROUTE", "PUBLIC", "JWT", "COMPANIONS", "DEFAULTS", "LAST-EVENT"];

const companionsCell = (a: AppStatus): string =>
  a.companions.every(c => c.state === "ok")
    ? "ok"
    : a.companions
        .filter(c => c.state !== "ok")
        .map(c => `${c.kind}/${c.name} ${c.state}`)
        .join(",");

const row = (a: AppStatus): string[] => [
  a.namespace,
  a.name,
  a.kind,
  a.route ? `${a.route.host}${a.route.path}` : NONE,
  a.publicPaths.length > 0 ? a.publicPaths.join(",") : NONE,
  a.jwt,
  companionsCell(a),
  a.defaults.state === "unknown" ? "unknown" : a.defaults.state,
  a.lastEvent?.reason ?? NONE,
];

/** Columns as kubectl prints them: left-aligned, three spaces apart, no trailing spaces. */
export function formatColumns(rows: readonly string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
  return rows
    .map(
      r =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3)))
          .join("")
          .trimEnd() + "\n",
    )
    .join("");
}

/** What is not ok, one item per line under its app or namespace, so the table stays one line per app. */
function notes(namespaces: readonly NamespaceStatus[]): string[] {
  const lines: string[] = [];
  for (const ns of namespaces) {
    for (const a of ns.apps) {
      const at = `${a.namespace}/${a.name}`;
      const d = a.defaults;
      if (d.state === "outdated" || d.state === "never-admitted") {
        const what = d.state === "never-admitted" ? "never admitted by the module" : "defaults outdated";
        lines.push(`${at}: ${what}; re-applying would change:`, ...(d.changes.length > 0 ? d.changes : ["(nothing)"]).map(c => `    ${c}`));
      } else if (d.state === "unresolved") {
        const problems = d.problems.map(p => (p.startsWith(`${at}: `) ? p.slice(at.length + 2) : p));
        lines.push(`${at}: unresolved: ${problems.join("; ") || "does not resolve"}`);
      } else if (d.state === "unknown") lines.push(`${at}: defaults unknown: ${d.why}`);
      for (const c of a.companions) if (c.detail) lines.push(`${at}: ${c.kind}/${c.name} ${c.state}: ${c.detail}`);
    }
    for (const c of ns.companions)
      lines.push(`namespace ${ns.namespace}: ${c.kind}/${c.name} ${c.state}${c.detail ? `: ${c.detail}` : ""}`);
    if (ns.prunes.length > 0) lines.push(`namespace ${ns.namespace}: would delete (no longer wanted): ${ns.prunes.join(", ")}`);
    for (const p of ns.problems) lines.push(`namespace ${ns.namespace}: annotations do not resolve: ${p}`);
    if (ns.missingKinds.length > 0) lines.push(`namespace ${ns.namespace}: not installed, skipped: ${ns.missingKinds.join(", ")}`);
  }
  return lines;
}

export function formatStatusTable(namespaces: readonly NamespaceStatus[]): string {
  const apps = namespaces.flatMap(ns => ns.apps);
  const table = apps.length > 0 ? formatColumns([HEADERS, ...apps.map(row)]) : "No managed Deployments found.\n";
  const below = notes(namespaces);
  return below.length > 0 ? `${table}\n${below.join("\n")}\n` : table;
}

export function formatStatusJson(namespaces: readonly NamespaceStatus[], configValid: boolean): string {
  const ok = configValid && namespaces.every(n => n.ok);
  return `${JSON.stringify({ ok, configValid, namespaces }, null, 2)}\n`;
}

export async function runStatus(args: readonly string[], io: Io): Promise<number> {
  const opts = parseLiveArgs(args, true);
  const format = outputFormat(opts.output, STATUS_FORMATS);
  const { kc, namespace } = loadKubeConfig(opts);
  return statusOf(readOnlyClusterApi(kc), opts, namespace, format, io);
}

/** status over any ClusterApi (the unit tests give it an in-memory cluster). */
export async function statusOf(api: ClusterApi, opts: LiveOptions, namespace: string, format: StatusFormat, io: Io): Promise<number> {
  const view = await observeLive(api, opts, namespace, io);
  const namespaces = view.observations.map(seen => namespaceStatus(seen, view.events, view.config, { configValid: view.configValid }));
  io.stdout(format === "json" ? formatStatusJson(namespaces, view.configValid) : formatStatusTable(namespaces));
  return view.configValid && namespaces.every(n => n.ok) ? 0 : 1;
}
