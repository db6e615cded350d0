// Whether a stored Deployment carries the defaults admission would give it now (SPEC §14.4): it
// may predate the module, or the config or its Namespace changed since it was last admitted.
// Used by the reconciler's DefaultsOutdated Event and by `ai-workloads status`.
import { APPLIED_DEFAULTS_ANNOTATION } from "./constants";
import type { ClusterConfig, NamespaceSettings } from "./config";
import { admitAmong } from "./plan";
import type { V1Deployment } from "./types";

export type DefaultsState =
  | { state: "current" }
  /** `changes`: what re-admitting the stored object would change, one line per field. */
  | { state: "outdated"; changes: string[] }
  /** Stored without the module's record: created or last changed while the module was not there. */
  | { state: "never-admitted"; changes: string[] };

/** undefined when the Deployment does not resolve: admission would deny it, so no defaults are due. */
export function defaultsState(stored: V1Deployment, ns: NamespaceSettings, cluster: ClusterConfig): DefaultsState | undefined {
  // Sibling routes only decide denials; the defaults do not depend on them.
  const { mutated, settings } = admitAmong(stored, ns, cluster, []);
  if (!settings) return undefined;
  const changes = fieldChanges(withoutRecord(stored), withoutRecord(mutated));
  if (stored.metadata?.annotations?.[APPLIED_DEFAULTS_ANNOTATION] === undefined) return { state: "never-admitted", changes };
  return changes.length === 0 ? { state: "current" } : { state: "outdated", changes };
}

/** The record says how, not what: a change to it alone changes nothing a pod sees. */
function withoutRecord(d: V1Deployment): V1Deployment {
  const annotations = { ...d.metadata?.annotations };
  delete annotations[APPLIED_DEFAULTS_ANNOTATION];
  return { ...d, metadata: { ...d.metadata, annotations } };
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
const MAX_VALUE = 80;

const show = (v: Json): string => {
  const text = JSON.stringify(v);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 3)}...` : text;
};

/** The key a list item is known by in Kubernetes (its merge key), so that paths do not depend on order. */
function itemKey(item: Json): string | undefined {
  if (!isObject(item)) return undefined;
  for (const k of ["name", "mountPath", "containerPort", "key"])
    if (typeof item[k] === "string" || typeof item[k] === "number") return String(item[k]);
  return undefined;
}

/** A key with dots or slashes (a label) is quoted, so that the path reads back unambiguously. */
const fieldPath = (path: string, key: string): string =>
  /^[A-Za-z0-9_-]+$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

/**
 * The differences from `before` to `after`, as `<path>: <before> -> <after>` (`added`/`removed`
 * for one side missing), sorted by path. List items with a merge key are matched by it; other
 * lists (args, command) are compared whole, as they are replaced whole.
 */
export function fieldChanges(before: Json, after: Json, path = ""): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap(k => fieldChanges(before[k], after[k], fieldPath(path, k)));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.concat(after).every(i => itemKey(i) !== undefined)) {
    const byKey = (list: Json[]) => new Map(list.map(i => [itemKey(i)!, i]));
    const [b, a] = [byKey(before), byKey(after)];
    // Keys must be unique for items to be matched; otherwise the list counts as one value.
    if (b.size === before.length && a.size === after.length) {
      const keys = [...new Set([...b.keys(), ...a.keys()])].sort();
      return keys.flatMap(k => fieldChanges(b.get(k), a.get(k), `${path}[${k}]`));
    }
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (before === undefined) return [`${path}: added ${show(after)}`];
  if (after === undefined) return [`${path}: removed ${show(before)}`];
  return [`${path}: ${show(before)} -> ${show(after)}`];
}
