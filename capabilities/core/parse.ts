// Parsers for annotation and config values. Each returns a value or a finding that names
// the field and the fix; none throws, and each is linear in the input's length.
import { APPLIED_DEFAULTS_ANNOTATION } from "./constants";
import { type Parsed, type Problem, deny, fail, ok, quote } from "./problems";

const annotationField = (key: string): string => `metadata.annotations[${key}]`;
export { annotationField };

export type Take = <T>(key: string, parse: (field: string, raw: string) => Parsed<T>) => T | undefined;

/**
 * Reads an object's annotations through parsers: each malformed value, and each
 * `ai-workloads.io/*` key that is not `known` (a typo would otherwise do nothing), becomes
 * a denial in `problems`; `take` then gives a parsed value or undefined.
 */
export function annotationReader(
  annotations: Record<string, string>,
  object: string,
  problems: Problem[],
  known: readonly string[],
  owner: string,
): Take {
  // Sorted for a stable order of problems; only the unknown keys, which are rare, are sorted.
  const unknown = Object.keys(annotations).filter(key => key.startsWith("ai-workloads.io/") && !known.includes(key));
  for (const key of unknown.sort()) {
    problems.push(
      deny(object, {
        field: annotationField(key),
        what: `is not a known ${owner} annotation`,
        // The module's own record is known but is not one to set.
        fix: `use one of ${known.filter(k => k !== APPLIED_DEFAULTS_ANNOTATION).join(", ")}`,
      }),
    );
  }
  return <T>(key: string, parse: (field: string, raw: string) => Parsed<T>): T | undefined => {
    const raw = annotations[key];
    if (raw === undefined) return undefined;
    const parsed = parse(annotationField(key), raw);
    if (parsed.ok) return parsed.value;
    problems.push(deny(object, parsed.error));
    return undefined;
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;

export const isDnsLabel = (s: string): boolean => DNS_LABEL.test(s);

export const isDnsSubdomain = (s: string): boolean => s.length > 0 && s.length <= 253 && s.split(".").every(part => DNS_LABEL.test(part));

export function parseBoolean(field: string, raw: string): Parsed<boolean> {
  if (raw === "true") return ok(true);
  if (raw === "false") return ok(false);
  return fail(field, `${quote(raw)} is not a boolean`, `use "true" or "false"`);
}

export function parsePort(field: string, raw: string): Parsed<number> {
  if (/^[0-9]{1,5}$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= 65535) return ok(n);
  }
  return fail(field, `${quote(raw)} is not a port`, "use a whole number from 1 to 65535");
}

export function parsePercent(field: string, raw: string): Parsed<number> {
  if (/^[0-9]{1,3}$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= 100) return ok(n);
  }
  return fail(field, `${quote(raw)} is not a CPU utilization target`, "use a whole number from 1 to 100");
}

export interface Autoscale {
  min: number;
  max: number;
}

export function parseAutoscale(field: string, raw: string): Parsed<Autoscale | "off"> {
  if (raw === "off") return ok("off");
  const m = /^([0-9]{1,6})-([0-9]{1,6})$/.exec(raw);
  if (!m) return fail(field, `${quote(raw)} is not a replica range`, `use "<min>-<max>" such as "1-10", or "off"`);
  const min = Number(m[1]);
  const max = Number(m[2]);
  if (min < 1) return fail(field, `minimum ${min} is below 1`, `use a minimum of at least 1, such as "1-${Math.max(max, 1)}"`);
  if (min > max)
    return fail(field, `minimum ${min} is above maximum ${max}`, `use "<min>-<max>" with min <= max, such as "${Math.max(max, 1)}-${min}"`);
  return ok({ min, max });
}

/**
 * A URL path root: starts with `/`, segments of unreserved characters, no empty segment.
 * A trailing `/` is dropped, so `/apps/` and `/apps` are the same path.
 */
export function parsePath(field: string, raw: string): Parsed<string> {
  const trimmed = raw.length > 1 && raw.endsWith("/") ? raw.slice(0, -1) : raw;
  if (raw === "/") return ok("/");
  const segments = trimmed.split("/");
  if (trimmed.startsWith("/") && trimmed.length <= 1024 && segments.slice(1).every(s => PATH_SEGMENT.test(s) && s !== "." && s !== "..")) {
    return ok(trimmed);
  }
  return fail(
    field,
    `${quote(raw)} is not a URL path`,
    `use a path such as "/apps/chat" (letters, digits, "-", ".", "_", "~" between single slashes)`,
  );
}

/** Route path from `path-prefix`: absolute if it starts with `/`, else under the base path. */
export function parsePathPrefix(field: string, raw: string, basePath: string): Parsed<string> {
  if (raw === "") return fail(field, "is empty", `use a path such as "/apps/chat", or a name such as "chat" under the base path`);
  if (raw.startsWith("/")) return parsePath(field, raw);
  const joined = `${basePath === "/" ? "" : basePath}/${raw}`;
  const parsed = parsePath(field, joined);
  return parsed.ok ? parsed : fail(field, `${quote(raw)} is not a URL path`, parsed.error.fix);
}

/** Istio path patterns: exact `/a`, prefix `/a*`, suffix `*.js`, presence `*`. */
export function parsePublicPaths(field: string, raw: string): Parsed<string[]> {
  if (raw === "none") return ok([]);
  const items = raw.split(",").map(s => s.trim());
  const fix = `use a comma list of paths such as "/docs,/static/*" (a "*" only at the start or end), or "none"`;
  const bad = items.find(p => !isIstioPathPattern(p));
  if (bad !== undefined) {
    return fail(field, bad === "" ? "has an empty entry" : `${quote(bad)} is not an Istio path pattern`, fix);
  }
  return ok([...new Set(items)]);
}

const PATH_CHARS = /^[A-Za-z0-9._~\-/%:@!$&'()+;=]*$/;

export function isIstioPathPattern(p: string): boolean {
  if (p === "*") return true;
  if (p.length === 0 || p.length > 1024) return false;
  const body = p.startsWith("*") ? p.slice(1) : p.endsWith("*") ? p.slice(0, -1) : p;
  if (body.includes("*") || !PATH_CHARS.test(body) || body.length === 0) return false;
  // Exact and prefix patterns are paths; a suffix pattern may be any tail such as ".js".
  return p.startsWith("*") || body.startsWith("/");
}

export function parseName(field: string, raw: string, what: string): Parsed<string> {
  if (isDnsSubdomain(raw)) return ok(raw);
  return fail(field, `${quote(raw)} is not a valid ${what} name`, 'use a lowercase DNS name such as "my-name"');
}

export function parseLabelName(field: string, raw: string, what: string): Parsed<string> {
  if (isDnsLabel(raw)) return ok(raw);
  return fail(field, `${quote(raw)} is not a valid ${what} name`, 'use a lowercase DNS label such as "my-name" (at most 63 characters)');
}

/** `<name>`, `<name>:<port>` or an http(s) URL, resolved within the namespace. */
export function parseReference(field: string, raw: string, namespace: string, defaultPort: number, pathSuffix: string): Parsed<string> {
  const fix = `use "<service>", "<service>:<port>" or an http(s):// URL`;
  if (/^https?:\/\//.test(raw)) {
    try {
      const url = new URL(raw);
      if (url.hostname && !/\s/.test(raw)) return ok(raw);
    } catch {
      // falls through to the message below
    }
    return fail(field, `${quote(raw)} is not a valid URL`, fix);
  }
  if (raw.includes("://")) return fail(field, `${quote(raw)} is not an http(s) URL`, fix);
  const m = /^([^:]*)(?::([^:]*))?$/.exec(raw);
  if (m && isDnsLabel(m[1])) {
    const port = m[2] === undefined ? ok(defaultPort) : parsePort(field, m[2]);
    if (!port.ok) return fail(field, `${quote(raw)} has an invalid port`, fix);
    return ok(`http://${m[1]}.${namespace}.svc.cluster.local:${port.value}${pathSuffix}`);
  }
  return fail(field, `${quote(raw)} is not a service reference`, fix);
}

export function parseHost(field: string, raw: string): Parsed<string> {
  const body = raw.startsWith("*.") ? raw.slice(2) : raw;
  if (isDnsSubdomain(body) && body.includes(".")) return ok(raw);
  return fail(field, `${quote(raw)} is not a DNS host name`, `use a lowercase host name such as "ai.example.com"`);
}

export function parseGateway(field: string, raw: string): Parsed<string> {
  const parts = raw.split("/");
  if (parts.length === 2 && isDnsLabel(parts[0]) && isDnsSubdomain(parts[1])) return ok(raw);
  return fail(field, `${quote(raw)} is not a gateway reference`, `use "<namespace>/<gateway>" such as "istio-system/ai-workloads-gateway"`);
}

export function parseTenantId(field: string, raw: string): Parsed<string> {
  if (GUID.test(raw)) return ok(raw.toLowerCase());
  return fail(field, `${quote(raw)} is not a tenant id`, 'use the Entra ID tenant\'s GUID, such as "8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01"');
}

export function parseAudience(field: string, raw: string): Parsed<string> {
  if (raw.length > 0 && raw.length <= 256 && !/[\s,]/.test(raw)) return ok(raw);
  return fail(field, `${quote(raw)} is not a token audience`, `use "api://<application-id>" or the application's GUID`);
}

/** For `api://<guid>`, the bare GUID too: Entra ID v2 tokens carry the application id. */
export function audiencesFor(audience: string): string[] {
  const m = /^api:\/\/(.+)$/.exec(audience);
  return m && GUID.test(m[1]) ? [audience, m[1]] : [audience];
}

/** The first line of a `yaml` error, without its position (reported apart as the line). */
export const yamlErrorText = (message: string): string => message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
