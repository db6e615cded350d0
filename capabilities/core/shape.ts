// The types of the fields the module reads, checked before anything reads them. The API server
// enforces these for stored objects, but the CLI reads any YAML: `port: 8000` (a number) must
// be a clear message, not a crash.
import type { Finding } from "./problems";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

class Checker {
  readonly findings: Finding[] = [];

  private add(field: string, what: string, fix: string): void {
    this.findings.push({ field, what, fix });
  }

  object(v: unknown, field: string, required = false): Record<string, unknown> | undefined {
    if (v === undefined && !required) return undefined;
    if (isObject(v)) return v;
    this.add(field, v === undefined ? "is missing" : "is not a mapping", "write it as a mapping of keys to values");
    return undefined;
  }

  stringMap(v: unknown, field: string): void {
    const obj = this.object(v, field);
    for (const [k, value] of Object.entries(obj ?? {})) {
      if (typeof value !== "string")
        this.add(`${field}[${k}]`, "is not a string", 'quote the value, such as "8000" or "true": Kubernetes takes only strings here');
    }
  }

  string(v: unknown, field: string, required = false): void {
    if ((v === undefined && !required) || typeof v === "string") return;
    this.add(field, v === undefined ? "is missing" : "is not a string", "write a string");
  }

  array(v: unknown, field: string, each?: (item: unknown, field: string) => void): void {
    if (v === undefined) return;
    if (!Array.isArray(v)) return this.add(field, "is not a list", "write a list");
    v.forEach((item, i) => each?.(item, `${field}[${i}]`));
  }

  integer(v: unknown, field: string, required = false): void {
    if ((v === undefined && !required) || Number.isInteger(v)) return;
    if (v === undefined) this.add(field, "is missing", "write an integer");
    else
      this.add(field, "must be an integer", `write it without quotes, such as ${typeof v === "string" && /^[0-9]+$/.test(v) ? v : "8000"}`);
  }

  strings(v: unknown, field: string): void {
    this.array(v, field, (item, f) => this.string(item, f, true));
  }
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
  if (pod && pod.containers === undefined) c.array([], "spec.template.spec.containers");
  c.array(pod?.containers, "spec.template.spec.containers", (item, f) => {
    const container = c.object(item, f, true);
    if (!container) return;
    c.string(container.name, `${f}.name`, true);
    c.strings(container.command, `${f}.command`);
    c.strings(container.args, `${f}.args`);
    c.array(container.env, `${f}.env`, (e, ef) => c.string(c.object(e, ef, true)?.name, `${ef}.name`, true));
    c.array(container.envFrom, `${f}.envFrom`, (e, ef) => c.object(e, ef, true));
    c.array(container.ports, `${f}.ports`, (p, pf) => {
      const port = c.object(p, pf, true);
      if (port) c.integer(port.containerPort, `${pf}.containerPort`, true);
      c.string(port?.name, `${pf}.name`);
      c.string(port?.protocol, `${pf}.protocol`);
    });
    c.array(container.volumeMounts, `${f}.volumeMounts`, (m, mf) => c.string(c.object(m, mf, true)?.mountPath, `${mf}.mountPath`, true));
    const resources = c.object(container.resources, `${f}.resources`);
    c.object(resources?.requests, `${f}.resources.requests`);
    c.object(resources?.limits, `${f}.resources.limits`);
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) c.object(container[probe], `${f}.${probe}`);
  });
  // Init containers matter for their port names only (SPEC §13.1).
  c.array(pod?.initContainers, "spec.template.spec.initContainers", (item, f) => {
    const container = c.object(item, f, true);
    if (!container) return;
    c.string(container.name, `${f}.name`, true);
    c.array(container.ports, `${f}.ports`, (p, pf) => {
      const port = c.object(p, pf, true);
      if (port) c.integer(port.containerPort, `${pf}.containerPort`, true);
      c.string(port?.name, `${pf}.name`);
    });
  });
  c.array(pod?.volumes, "spec.template.spec.volumes", (v, vf) => c.string(c.object(v, vf, true)?.name, `${vf}.name`, true));
  c.stringMap(pod?.nodeSelector, "spec.template.spec.nodeSelector");
  c.array(pod?.tolerations, "spec.template.spec.tolerations", (t, tf) => c.object(t, tf, true));
  c.object(pod?.affinity, "spec.template.spec.affinity");
  return c.findings;
}

/** Type problems of a Namespace's annotations. */
export function annotationsShape(annotations: unknown, field = "metadata.annotations"): Finding[] {
  const c = new Checker();
  c.stringMap(annotations, field);
  return c.findings;
}
