// The types of the fields the module reads, checked before anything reads them. The API server
// enforces these for stored objects, but the CLI reads any YAML: `port: 8000` (a number) must
// be a clear message, not a crash.
import type { Finding } from "./problems";
import { PROBES } from "./types";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A step of the path to a checked value: a field name (dots allowed) or a list index. */
type Step = string | number;

/**
 * Checks values at a path it keeps as a stack of steps, and spells a field name only for a
 * finding: a well-formed Deployment, what every admission gets, is checked without building one.
 */
class Checker {
  readonly findings: Finding[] = [];
  private readonly path: Step[] = [];

  /** The field name of `key` under the current path (the path itself when undefined): `a.b[0].c`. */
  private field(key?: Step): string {
    let out = "";
    for (const step of key === undefined ? this.path : [...this.path, key])
      out = typeof step === "number" ? `${out}[${step}]` : out === "" ? step : `${out}.${step}`;
    return out;
  }

  private add(key: Step | undefined, what: string, fix: string): void {
    this.findings.push({ field: this.field(key), what, fix });
  }

  object(v: unknown, key?: Step, required = false): Record<string, unknown> | undefined {
    if (v === undefined && !required) return undefined;
    if (isObject(v)) return v;
    this.add(key, v === undefined ? "is missing" : "is not a mapping", "write it as a mapping of keys to values");
    return undefined;
  }

  stringMap(v: unknown, key: Step): void {
    const obj = this.object(v, key);
    for (const k in obj) {
      if (Object.hasOwn(obj, k) && typeof obj[k] !== "string")
        this.findings.push({
          field: `${this.field(key)}[${k}]`,
          what: "is not a string",
          fix: 'quote the value, such as "8000" or "true": Kubernetes takes only strings here',
        });
    }
  }

  string(v: unknown, key?: Step, required = false): void {
    if ((v === undefined && !required) || typeof v === "string") return;
    this.add(key, v === undefined ? "is missing" : "is not a string", "write a string");
  }

  /** A list under `key`; `each` checks every item with the path at that item. */
  array(v: unknown, key: Step, each?: (c: Checker, item: unknown) => void): void {
    if (v === undefined) return;
    if (!Array.isArray(v)) return this.add(key, "is not a list", "write a list");
    if (!each) return;
    this.path.push(key);
    for (let i = 0; i < v.length; i++) {
      this.path.push(i);
      each(this, v[i]);
      this.path.pop();
    }
    this.path.pop();
  }

  integer(v: unknown, key: Step, required = false): void {
    if ((v === undefined && !required) || Number.isInteger(v)) return;
    if (v === undefined) this.add(key, "is missing", "write an integer");
    else
      this.add(key, "must be an integer", `write it without quotes, such as ${typeof v === "string" && /^[0-9]+$/.test(v) ? v : "8000"}`);
  }

  strings(v: unknown, key: Step): void {
    this.array(v, key, requiredString);
  }
}

// What each list item must be. Functions of the module, not closures: they run for every item of
// every admitted Deployment.
const requiredString = (c: Checker, item: unknown): void => c.string(item, undefined, true);
const requiredObject = (c: Checker, item: unknown): void => void c.object(item, undefined, true);
const namedItem = (c: Checker, item: unknown): void => c.string(c.object(item, undefined, true)?.name, "name", true);
const mount = (c: Checker, item: unknown): void => c.string(c.object(item, undefined, true)?.mountPath, "mountPath", true);

function port(c: Checker, item: unknown): void {
  const p = c.object(item, undefined, true);
  if (p) c.integer(p.containerPort, "containerPort", true);
  c.string(p?.name, "name");
  c.string(p?.protocol, "protocol");
}

function initPort(c: Checker, item: unknown): void {
  const p = c.object(item, undefined, true);
  if (p) c.integer(p.containerPort, "containerPort", true);
  c.string(p?.name, "name");
}

function container(c: Checker, item: unknown): void {
  const container = c.object(item, undefined, true);
  if (!container) return;
  c.string(container.name, "name", true);
  c.strings(container.command, "command");
  c.strings(container.args, "args");
  c.array(container.env, "env", namedItem);
  c.array(container.envFrom, "envFrom", requiredObject);
  c.array(container.ports, "ports", port);
  c.array(container.volumeMounts, "volumeMounts", mount);
  const resources = c.object(container.resources, "resources");
  c.object(resources?.requests, "resources.requests");
  c.object(resources?.limits, "resources.limits");
  for (const probe of PROBES) c.object(container[probe], probe);
}

/** Init containers matter for their port names only (SPEC §13.1). */
function initContainer(c: Checker, item: unknown): void {
  const container = c.object(item, undefined, true);
  if (!container) return;
  c.string(container.name, "name", true);
  c.array(container.ports, "ports", initPort);
}

/** Type problems of a Deployment's fields that the module reads; none when it is well-formed. */
export function deploymentShape(d: unknown): Finding[] {
  const c = new Checker();
  const root = c.object(d, "(object)", true);
  // A missing child of a broken parent is not reported again.
  const metadata = c.object(root?.metadata, "metadata", root !== undefined);
  c.string(metadata?.name, "metadata.name", metadata !== undefined);
  c.string(metadata?.namespace, "metadata.namespace");
  c.stringMap(metadata?.labels, "metadata.labels");
  c.stringMap(metadata?.annotations, "metadata.annotations");
  const spec = c.object(root?.spec, "spec", root !== undefined);
  const selector = c.object(spec?.selector, "spec.selector");
  c.stringMap(selector?.matchLabels, "spec.selector.matchLabels");
  const template = c.object(spec?.template, "spec.template", spec !== undefined);
  const templateMeta = c.object(template?.metadata, "spec.template.metadata");
  c.stringMap(templateMeta?.labels, "spec.template.metadata.labels");
  c.stringMap(templateMeta?.annotations, "spec.template.metadata.annotations");
  const pod = c.object(template?.spec, "spec.template.spec", template !== undefined);
  c.array(pod?.containers, "spec.template.spec.containers", container);
  c.array(pod?.initContainers, "spec.template.spec.initContainers", initContainer);
  c.array(pod?.volumes, "spec.template.spec.volumes", namedItem);
  c.stringMap(pod?.nodeSelector, "spec.template.spec.nodeSelector");
  c.array(pod?.tolerations, "spec.template.spec.tolerations", requiredObject);
  c.object(pod?.affinity, "spec.template.spec.affinity");
  return c.findings;
}

/** Type problems of a Namespace's annotations. */
export function annotationsShape(annotations: unknown, field = "metadata.annotations"): Finding[] {
  const c = new Checker();
  c.stringMap(annotations, field);
  return c.findings;
}
