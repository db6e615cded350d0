// One line per problem: `<namespace>/<name>: <field>: <what is wrong>; <how to fix>` (SPEC §6.3).

export type Severity = "deny" | "warn";

export interface Problem {
  severity: Severity;
  /** `<namespace>/<name>` of the object the problem is on. */
  object: string;
  field: string;
  what: string;
  fix: string;
}

/** Control characters (a name or annotation key can hold "\n") escaped, so a problem stays one line. */
export const oneLine = (s: string): string =>
  s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

export const formatProblem = (p: Problem): string =>
  `${p.severity === "warn" ? "warning: " : ""}${oneLine(p.object)}: ${oneLine(p.field)}: ${oneLine(p.what)}; ${oneLine(p.fix)}`;

export const denials = (problems: readonly Problem[]): Problem[] => problems.filter(p => p.severity === "deny");
export const warnings = (problems: readonly Problem[]): Problem[] => problems.filter(p => p.severity === "warn");

/** A field-level finding before it is attached to an object. */
export interface Finding {
  field: string;
  what: string;
  fix: string;
}

export const deny = (object: string, f: Finding): Problem => ({ severity: "deny", object, ...f });
export const warn = (object: string, f: Finding): Problem => ({ severity: "warn", object, ...f });

/** Keeps messages one line and readable whatever a user put in a value. */
export const quote = (value: string): string => {
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(shown);
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: Finding };
export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = <T>(field: string, what: string, fix: string): Parsed<T> => ({
  ok: false,
  error: { field, what, fix },
});
