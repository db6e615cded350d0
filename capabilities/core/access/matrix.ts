// The access matrix (SPEC §11): for every managed app, path and caller class, what the
// sidecar decides and which object decided it.
import { INGRESS_NAMESPACE, NO_POLICY, type RequestClass, type SecurityObjects, decide, securityObjects } from "./evaluate";
import { pathSetOf } from "./match";
import type { AccessModel, App } from "./model";
import { gatewayReach } from "./routes";

export const CALLERS = ["internet", "internet+jwt", "same-namespace", "other-namespace"] as const;
export type Caller = (typeof CALLERS)[number];

export type Outcome = "allow" | "deny" | "not-routed" | "unknown";

export interface AccessRow {
  namespace: string;
  app: string;
  path: string;
  caller: Caller;
  outcome: Outcome;
  decidedBy: string;
}

export interface AccessMatrix {
  apiVersion: "ai-workloads.io/v1";
  kind: "AccessMatrix";
  rows: AccessRow[];
}

export const NO_ROUTE = "no route";

/** `/`, then the public paths as given (a pattern such as `/*` stays a pattern), without duplicates. */
export const pathsOf = (app: App): string[] => [...new Set(["/", ...app.settings.publicPaths])];

const viaGateway = (caller: Caller): boolean => caller === "internet" || caller === "internet+jwt";

export function requestClass(caller: Caller, namespace: string, path: string): RequestClass {
  const p = pathSetOf(path);
  switch (caller) {
    case "internet":
      return { source: { exact: INGRESS_NAMESPACE }, jwt: false, path: p };
    case "internet+jwt":
      return { source: { exact: INGRESS_NAMESPACE }, jwt: true, path: p };
    case "same-namespace":
      return { source: { exact: namespace }, jwt: false, path: p };
    case "other-namespace":
      return { source: { except: namespace }, jwt: false, path: p };
  }
}

/** One cell. In-mesh callers address the Service directly: no VirtualService, the raw path. */
export function accessOf(
  model: AccessModel,
  sec: SecurityObjects,
  app: App,
  path: string,
  caller: Caller,
): { outcome: Outcome; decidedBy: string } {
  const workload = { namespace: app.namespace, labels: app.labels };
  if (viaGateway(caller)) {
    const routed = gatewayReach(model.objects, app.namespace, app.labels, pathSetOf(path));
    if (routed === false) return { outcome: "not-routed", decidedBy: NO_ROUTE };
    if (routed !== true) return { outcome: "unknown", decidedBy: routed.unknown };
  }
  return decide(workload, requestClass(caller, app.namespace, path), sec);
}

export function accessMatrix(model: AccessModel): AccessMatrix {
  const sec = securityObjects(model.objects);
  const rows = model.apps.flatMap(app =>
    pathsOf(app).flatMap(path =>
      CALLERS.map(
        (caller): AccessRow => ({ namespace: app.namespace, app: app.name, path, caller, ...accessOf(model, sec, app, path, caller) }),
      ),
    ),
  );
  return { apiVersion: "ai-workloads.io/v1", kind: "AccessMatrix", rows };
}

export const MATRIX_FORMATS = ["table", "json", "markdown"] as const;
export type MatrixFormat = (typeof MATRIX_FORMATS)[number];

export function formatMatrix(m: AccessMatrix, format: MatrixFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(m, null, 2)}\n`;
    case "table":
      return formatTable(m.rows);
    case "markdown":
      return formatMarkdown(m.rows);
  }
}

/** Aligned columns, like kubectl; trailing spaces trimmed so that diffs stay clean. */
export function formatTable(rows: readonly AccessRow[]): string {
  const header = ["NAMESPACE", "APP", "PATH", "CALLER", "OUTCOME", "DECIDED BY"];
  const lines = [header, ...rows.map(r => [r.namespace, r.app, r.path, r.caller, r.outcome, r.decidedBy])];
  const widths = header.map((_, i) => Math.max(...lines.map(l => l[i].length)));
  return (
    lines
      .map(l =>
        l
          .map((cell, i) => cell.padEnd(widths[i]))
          .join("   ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

// GitHub tables need `|` escaped even inside code spans.
const mdCell = (s: string): string => s.replace(/\|/g, "\\|");
const mdCode = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

/**
 * One line per app path, one column per caller: a pull request's diff of this table shows
 * exactly which access changed.
 */
export function formatMarkdown(rows: readonly AccessRow[]): string {
  const out = [`| namespace | app | path | ${CALLERS.join(" | ")} |`, `|---|---|---|${CALLERS.map(() => "---").join("|")}|`];
  const groups = new Map<string, AccessRow[]>();
  for (const r of rows) {
    const key = JSON.stringify([r.namespace, r.app, r.path]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const group of groups.values()) {
    const { namespace, app, path } = group[0];
    const cells = CALLERS.map(c => {
      const r = group.find(g => g.caller === c);
      if (!r) return "";
      if (r.decidedBy === NO_ROUTE) return r.outcome;
      if (r.decidedBy === NO_POLICY) return `${r.outcome} (no policy)`;
      return `${r.outcome} ${mdCell(mdCode(r.decidedBy.replace(/^AuthorizationPolicy /, "")))}`;
    });
    out.push(`| ${mdCell(namespace)} | ${mdCell(app)} | ${mdCell(mdCode(path))} | ${cells.join(" | ")} |`);
  }
  out.push(
    "",
    "Cells: the outcome, then the AuthorizationPolicy (`namespace/name`) that decided it, or for `unknown` the object and field not modelled.",
  );
  return out.join("\n") + "\n";
}
