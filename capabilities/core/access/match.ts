// Matching primitives of the access evaluator: three-valued truth, Istio string patterns,
// and sets of request paths / source namespaces, so that a row can stand for many requests
// (`/*`, "any other namespace") and still get an exact answer, or an honest "unknown".

/**
 * Three-valued truth: certain, excluded, or dependent on something the evaluator does not
 * model — then `unknown` names the field (`<Kind> <ns>/<name>: <field>`).
 */
export type Tri = true | false | { unknown: string };

export const unknown = (field: string): Tri => ({ unknown: field });
export const isUnknown = (t: Tri): t is { unknown: string } => typeof t === "object";

/** Kleene AND: one `false` decides; otherwise the first unknown; otherwise `true`. */
export function and(values: readonly Tri[]): Tri {
  let first: Tri = true;
  for (const v of values) {
    if (v === false) return false;
    if (isUnknown(v) && first === true) first = v;
  }
  return first;
}

/** Kleene OR: one `true` decides; otherwise the first unknown; otherwise `false`. */
export function or(values: readonly Tri[]): Tri {
  let first: Tri = false;
  for (const v of values) {
    if (v === true) return true;
    if (isUnknown(v) && first === false) first = v;
  }
  return first;
}

export const not = (t: Tri): Tri => (isUnknown(t) ? t : !t);

/** An Istio string pattern: exact `abc`, prefix `abc*`, suffix `*abc`, presence `*`. */
export type Matcher = { kind: "exact" | "prefix" | "suffix"; value: string } | { kind: "presence" };

export function parsePattern(pattern: string): Matcher {
  if (pattern === "*") return { kind: "presence" };
  if (pattern.startsWith("*")) return { kind: "suffix", value: pattern.slice(1) };
  if (pattern.endsWith("*")) return { kind: "prefix", value: pattern.slice(0, -1) };
  return { kind: "exact", value: pattern };
}

export function matches(m: Matcher, value: string): boolean {
  switch (m.kind) {
    case "presence":
      return value !== "";
    case "exact":
      return value === m.value;
    case "prefix":
      return value.startsWith(m.value);
    case "suffix":
      return value.endsWith(m.value);
  }
}

/** How a matcher relates to a set of values: it matches every one, some, or none of them. */
export type Relation = "all" | "some" | "none";

/** A set of request paths: one path, or every path that starts with `prefix` and ends with `suffix`. */
export type PathSet = { exact: string } | { prefix: string; suffix: string };

/** A row's path as a set: `/a` is one path; `/a*`, `*.js` and `*` stand for every path they match. */
export function pathSetOf(pattern: string): PathSet {
  const m = parsePattern(pattern);
  switch (m.kind) {
    case "presence":
      return { prefix: "/", suffix: "" };
    case "prefix":
      return { prefix: m.value, suffix: "" };
    case "suffix":
      return { prefix: "/", suffix: m.value };
    case "exact":
      return { exact: m.value };
  }
}

/**
 * Exact for every pair. For a pattern set G = {s : s starts with a, ends with b}, which is
 * infinite: a prefix q covers G when a starts with q, meets part of it when q extends a;
 * a suffix q covers G when b ends with q, meets part of it when q extends b; otherwise the
 * two cannot overlap.
 */
export function relatePath(set: PathSet, m: Matcher): Relation {
  if ("exact" in set) return matches(m, set.exact) ? "all" : "none";
  const { prefix: a, suffix: b } = set;
  switch (m.kind) {
    case "presence":
      return "all";
    case "exact":
      return m.value.startsWith(a) && m.value.endsWith(b) ? "some" : "none";
    case "prefix":
      return a.startsWith(m.value) ? "all" : m.value.startsWith(a) ? "some" : "none";
    case "suffix":
      return b.endsWith(m.value) ? "all" : m.value.endsWith(b) ? "some" : "none";
  }
}

/** Source namespaces of a caller class: one namespace, or any namespace but one. */
export type NamespaceSet = { exact: string } | { except: string };

/** Namespace names are unbounded, so only `*` covers "any namespace but N", and only N itself misses it. */
export function relateNamespace(set: NamespaceSet, m: Matcher): Relation {
  if ("exact" in set) return matches(m, set.exact) ? "all" : "none";
  if (m.kind === "presence") return "all";
  if (m.kind === "exact" && m.value === set.except) return "none";
  return "some";
}

/** A relation as truth: "some" means the answer depends on which request of the row it is. */
export const fromRelation = (r: Relation, field: string): Tri => (r === "all" ? true : r === "none" ? false : unknown(field));
