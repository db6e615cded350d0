// The applied-defaults record (SPEC §12.1): what admission filled, kept on the Deployment so
// that the next admission can tell the module's fills from the user's fields. Fills whose stored
// value still equals the record are discarded before anything reads the Deployment, then the
// defaults are filled again from the current annotations, Namespace and config.
import type {
  V1Affinity,
  V1Container,
  V1ContainerPort,
  V1EnvVar,
  V1PodSpec,
  V1Probe,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import { equals } from "ramda";
import { APPLIED_DEFAULTS_ANNOTATION } from "./constants";
import { annotationField } from "./parse";
import { type Problem, warn } from "./problems";
import { AFFINITY_PARTS, PROBES, type StringMap, type V1Deployment } from "./types";

/**
 * The record, as stored (JSON, keys in this order, empty parts left out). Each list item is
 * identified by its Kubernetes merge key, never by position: env and volumes by name, ports by
 * containerPort (TCP), volumeMounts by mountPath, args by their text (flag and value),
 * tolerations by key and effect.
 */
export interface AppliedDefaults {
  v: 1;
  /** The primary container the container fills went to. */
  container: string;
  podLabels?: StringMap;
  podAnnotations?: StringMap;
  volumes?: V1Volume[];
  nodeSelector?: StringMap;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
  command?: string[];
  args?: string[];
  ports?: V1ContainerPort[];
  /** Names given to ports the user declared without one: containerPort → name. */
  portNames?: StringMap;
  env?: V1EnvVar[];
  livenessProbe?: V1Probe;
  readinessProbe?: V1Probe;
  startupProbe?: V1Probe;
  volumeMounts?: V1VolumeMount[];
  requests?: StringMap;
  limits?: StringMap;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is StringMap => isObject(v) && Object.values(v).every(x => typeof x === "string");
const isObjectList = (v: unknown): boolean => Array.isArray(v) && v.every(isObject);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(x => typeof x === "string");

const FIELD_CHECKS: Record<string, (v: unknown) => boolean> = {
  v: v => v === 1,
  container: v => typeof v === "string",
  podLabels: isStringMap,
  podAnnotations: isStringMap,
  volumes: v => isObjectList(v) && (v as { name?: unknown }[]).every(x => typeof x.name === "string"),
  nodeSelector: isStringMap,
  tolerations: isObjectList,
  affinity: isObject,
  command: isStringList,
  args: isStringList,
  ports: v => isObjectList(v) && (v as { containerPort?: unknown }[]).every(x => typeof x.containerPort === "number"),
  portNames: isStringMap,
  env: v => isObjectList(v) && (v as { name?: unknown }[]).every(x => typeof x.name === "string"),
  livenessProbe: isObject,
  readinessProbe: isObject,
  startupProbe: isObject,
  volumeMounts: v => isObjectList(v) && (v as { mountPath?: unknown }[]).every(x => typeof x.mountPath === "string"),
  requests: isStringMap,
  limits: isStringMap,
};

/** The record on a Deployment: none when absent; a malformed one counts as none, with a warning. */
export function readRecord(d: V1Deployment, object: string): { record?: AppliedDefaults; problems: Problem[] } {
  const raw = d.metadata?.annotations?.[APPLIED_DEFAULTS_ANNOTATION];
  if (raw === undefined) return { problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const valid =
    isObject(parsed) &&
    parsed.v !== undefined &&
    parsed.container !== undefined &&
    Object.entries(parsed).every(([k, v]) => FIELD_CHECKS[k]?.(v) === true);
  if (valid) return { record: parsed as unknown as AppliedDefaults, problems: [] };
  return {
    problems: [
      warn(object, {
        field: annotationField(APPLIED_DEFAULTS_ANNOTATION),
        what: "is not a record this module wrote, so every present field counts as the user's",
        fix: `remove the annotation (the module writes it again); never edit it by hand`,
      }),
    ],
  };
}

export const serializeRecord = (r: AppliedDefaults): string => JSON.stringify(r);

// ---------------------------------------------------------------------------------------------
// Comparing a recorded fill with the stored value, as the API server stores it.

/** Values the API server fills into what the module writes (probe, port and volume defaulting). */
const SERVER_DEFAULTS: Record<string, unknown> = {
  protocol: "TCP",
  scheme: "HTTP",
  successThreshold: 1,
  failureThreshold: 3,
  timeoutSeconds: 1,
  periodSeconds: 10,
  defaultMode: 420,
};

/**
 * True when `stored` is `recorded` after the API server's defaulting. Plain loops: every
 * re-admission of a stored Deployment compares each recorded fill with its stored value.
 */
export function storedAs(recorded: unknown, stored: unknown): boolean {
  // The same value (a user's field the defaults left alone): no walk.
  if (recorded === stored) return true;
  if (Array.isArray(recorded)) {
    if (!Array.isArray(stored) || stored.length !== recorded.length) return false;
    for (let i = 0; i < recorded.length; i++) if (!storedAs(recorded[i], stored[i])) return false;
    return true;
  }
  if (isObject(recorded)) {
    if (!isObject(stored)) return false;
    for (const k in recorded) if (Object.hasOwn(recorded, k) && !storedAs(recorded[k], stored[k])) return false;
    for (const k in stored)
      if (Object.hasOwn(stored, k) && !(k in recorded) && !(k in SERVER_DEFAULTS && equals(stored[k], SERVER_DEFAULTS[k]))) return false;
    return true;
  }
  return recorded === stored;
}

const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const SUFFIX: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity's value (the API server stores `0.5` as `500m` and `1024Mi` as `1Gi`). */
export function quantityValue(q: unknown): number | undefined {
  const m = QUANTITY.exec(String(q));
  if (!m) return undefined;
  const suffix = m[2] ?? "";
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix];
  return Number(m[1]) * factor;
}

export function sameQuantity(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const x = quantityValue(a);
  const y = quantityValue(b);
  if (x === undefined || y === undefined) return a === b;
  return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}

// ---------------------------------------------------------------------------------------------
// Keys of list items.

const portKey = (p: { containerPort?: number; protocol?: string }): string => `${p.containerPort}/${p.protocol ?? "TCP"}`;
const tolerationKey = (t: V1Toleration): string => `${t.key ?? ""}/${t.effect ?? ""}`;
const byName = (x: { name: string }): string => x.name;
const byMountPath = (x: V1VolumeMount): string => x.mountPath;

/** `list` without the first stored item matching each recorded one; undefined when nothing is left. */
function withoutRecorded<T>(list: T[] | undefined, recorded: T[] | undefined, key: (x: T) => string, same = storedAs): T[] | undefined {
  if (!list || !recorded?.length) return list;
  const left = [...list];
  for (const r of recorded) {
    const i = left.findIndex(x => key(x) === key(r) && same(r, x));
    if (i >= 0) left.splice(i, 1);
  }
  return left.length > 0 ? left : undefined;
}

/** `map` without the keys whose value is the recorded one; undefined when nothing is left. */
function withoutRecordedKeys(
  map: StringMap | undefined,
  recorded: StringMap | undefined,
  same: (a: unknown, b: unknown) => boolean = equals,
): StringMap | undefined {
  if (!map || !recorded) return map;
  const left = Object.fromEntries(Object.entries(map).filter(([k, v]) => !(k in recorded && same(recorded[k], v))));
  return Object.keys(left).length > 0 ? left : undefined;
}

/** Sets or removes `key`: an emptied field is removed, so fill-only rules see it as missing. */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/**
 * A copy of `o` with the keys of `changes` set to their values, in `o`'s order; a key whose new
 * value is undefined is left out (an emptied field is removed, so fill-only rules see it as
 * missing). Built from `{}` rather than deleting from a copy: a deletion turns an object into a
 * slow dictionary, which every later read and copy of it pays for.
 */
function rebuilt<T extends object>(o: T, changes: { [K in keyof T]?: T[K] | undefined }): T {
  const out = {} as Record<string, unknown>;
  const source = o as Record<string, unknown>;
  const changed = changes as Record<string, unknown>;
  for (const k in source) {
    if (!Object.hasOwn(source, k)) continue;
    const v = Object.hasOwn(changed, k) ? changed[k] : source[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

// ---------------------------------------------------------------------------------------------
// Discarding the recorded fills.

/**
 * The Deployment without the fills the record names whose stored value is still the recorded
 * one (a value that differs is the user's and stays). The input is not touched.
 */
export function withoutFills(d: V1Deployment, r: AppliedDefaults): V1Deployment {
  const template = d.spec?.template;
  const pod = template?.spec;
  if (!template || !pod || !Array.isArray(pod.containers)) return d;
  const metadata = template.metadata ?? {};
  const meta = rebuilt(metadata, {
    labels: withoutRecordedKeys(metadata.labels, r.podLabels),
    annotations: withoutRecordedKeys(metadata.annotations, r.podAnnotations),
  });
  const podChanges: { [K in keyof V1PodSpec]?: V1PodSpec[K] } = {
    volumes: withoutRecorded(pod.volumes, r.volumes, byName),
    nodeSelector: withoutRecordedKeys(pod.nodeSelector, r.nodeSelector),
    tolerations: withoutRecorded(pod.tolerations, r.tolerations, tolerationKey),
    containers: pod.containers.map(c => (c.name === r.container ? containerWithoutFills(c, r) : c)),
  };
  if (r.affinity && pod.affinity) {
    const parts: { [K in keyof V1Affinity]?: V1Affinity[K] } = {};
    for (const part of AFFINITY_PARTS) if (r.affinity[part] && storedAs(r.affinity[part], pod.affinity[part])) parts[part] = undefined;
    const affinity = rebuilt(pod.affinity, parts);
    podChanges.affinity = Object.keys(affinity).length > 0 ? affinity : undefined;
  }
  return { ...d, spec: { ...d.spec!, template: { ...template, metadata: meta, spec: rebuilt(pod, podChanges) } } };
}

function containerWithoutFills(container: V1Container, r: AppliedDefaults): V1Container {
  let ports = withoutRecorded(container.ports, r.ports, portKey);
  if (ports && r.portNames) {
    ports = ports.map(p => {
      if (r.portNames![String(p.containerPort)] !== p.name || (p.protocol ?? "TCP") !== "TCP") return p;
      return rebuilt(p, { name: undefined });
    });
  }
  const changes: { [K in keyof V1Container]?: V1Container[K] } = {
    args: withoutRecorded(container.args, r.args, a => a),
    ports,
    env: withoutRecorded(container.env, r.env, byName),
    volumeMounts: withoutRecorded(container.volumeMounts, r.volumeMounts, byMountPath),
  };
  if (r.command && storedAs(r.command, container.command)) changes.command = undefined;
  for (const probe of PROBES) if (r[probe] && storedAs(r[probe], container[probe])) changes[probe] = undefined;
  if (container.resources && (r.requests || r.limits)) {
    const resources = rebuilt(container.resources, {
      requests: withoutRecordedKeys(container.resources.requests, r.requests, sameQuantity),
      limits: withoutRecordedKeys(container.resources.limits, r.limits, sameQuantity),
    });
    changes.resources = Object.keys(resources).length > 0 ? resources : undefined;
  }
  return rebuilt(container, changes);
}

// ---------------------------------------------------------------------------------------------
// Recording what the defaults added.

/** Whether `list` begins with `prefix`'s very items. */
function beginsWith<T>(list: readonly T[], prefix: readonly T[]): boolean {
  if (prefix.length > list.length) return false;
  for (let i = 0; i < prefix.length; i++) if (list[i] !== prefix[i]) return false;
  return true;
}

const added = <T>(before: T[] | undefined, after: T[] | undefined, key: (x: T) => string): T[] => {
  if (!after?.length) return [];
  if (!before?.length) return after.slice();
  // The defaults only append items whose key is missing: after the very items of `before`, the
  // rest is what they added, with no set of keys to build.
  if (beginsWith(after, before)) return after.slice(before.length);
  const had = new Set(before.map(key));
  return after.filter(x => !had.has(key(x)));
};

/** The keys `after` has and `before` lacks, in `after`'s order; undefined when there are none. */
function addedKeys(before: StringMap | undefined, after: StringMap | undefined): StringMap | undefined {
  let out: StringMap | undefined;
  for (const k of Object.keys(after ?? {})) if (before?.[k] === undefined) (out ??= {})[k] = after![k];
  return out;
}

const nonEmpty = <T>(v: T[]): T[] | undefined => (v.length > 0 ? v : undefined);

/**
 * Sets a part of the record only when present. Not a closure in recordFills: Pepr bundles with
 * esbuild's keepNames, which names a named closure with Object.defineProperty each time it is made.
 */
function setPart<K extends keyof AppliedDefaults>(record: AppliedDefaults, key: K, value: AppliedDefaults[K] | undefined): void {
  if (value !== undefined) record[key] = value;
}

/**
 * What `after` (the defaults applied to `before`) adds: the record to store, its parts set in the
 * record's key order and only when present (built once per admitted Deployment: no rebuild to
 * drop the empty parts, and JSON.stringify keeps to its fast path).
 */
export function recordFills(before: V1Deployment, after: V1Deployment, containerIndex: number): AppliedDefaults {
  const b = before.spec!.template;
  const a = after.spec!.template;
  const bc = b.spec!.containers[containerIndex];
  const ac = a.spec!.containers[containerIndex];
  const record = { v: 1 } as AppliedDefaults;
  setPart(record, "container", ac.name);
  setPart(record, "podLabels", addedKeys(b.metadata?.labels, a.metadata?.labels));
  setPart(record, "podAnnotations", addedKeys(b.metadata?.annotations, a.metadata?.annotations));
  setPart(record, "volumes", nonEmpty(added(b.spec!.volumes, a.spec!.volumes, byName)));
  setPart(record, "nodeSelector", addedKeys(b.spec!.nodeSelector, a.spec!.nodeSelector));
  setPart(record, "tolerations", nonEmpty((a.spec!.tolerations ?? []).slice((b.spec!.tolerations ?? []).length)));
  const affinity = a.spec!.affinity;
  if (affinity) {
    let parts: V1Affinity | undefined;
    for (const p of AFFINITY_PARTS)
      if (affinity[p] !== undefined && b.spec!.affinity?.[p] === undefined) (parts ??= {} as V1Affinity)[p] = affinity[p] as never;
    setPart(record, "affinity", parts);
  }
  if (bc.command === undefined) setPart(record, "command", ac.command);
  setPart(record, "args", nonEmpty((ac.args ?? []).slice((bc.args ?? []).length)));
  setPart(record, "ports", nonEmpty(added(bc.ports, ac.ports, portKey)));
  let portNames: StringMap | undefined;
  for (const p of ac.ports ?? [])
    if (p.name !== undefined && (bc.ports ?? []).some(q => portKey(q) === portKey(p) && q.name === undefined))
      (portNames ??= {})[String(p.containerPort)] = p.name;
  setPart(record, "portNames", portNames);
  setPart(record, "env", nonEmpty(added(bc.env, ac.env, byName)));
  for (const probe of PROBES) if (bc[probe] === undefined) setPart(record, probe, ac[probe]);
  setPart(record, "volumeMounts", nonEmpty(added(bc.volumeMounts, ac.volumeMounts, byMountPath)));
  setPart(record, "requests", addedKeys(bc.resources?.requests, ac.resources?.requests));
  setPart(record, "limits", addedKeys(bc.resources?.limits, ac.resources?.limits));
  return record;
}

// ---------------------------------------------------------------------------------------------
// Keeping what is stored: a re-filled value the API server holds in its own form (defaults added,
// quantities canonical) and in its own place stays as stored, so that admitting a stored object
// again gives no patch and an unchanged value never moves (a pod template change rolls it out).

/** `items`, each replaced by its stored form when stored, ordered as stored; new items at the end. */
function asStoredList<T>(items: T[] | undefined, stored: T[] | undefined, key: (x: T) => string): T[] | undefined {
  if (!items || !stored) return items;
  // The stored items themselves, in place, with new ones after them (a first admission's fills
  // appended): already as stored, and no key to match.
  if (stored.length <= items.length && stored.every((x, i) => items[i] === x)) return items;
  // Item for item under the same keys (a re-admission: the user's items, then the fills made
  // again): the stored item wherever it holds the same value, with no maps to build.
  if (stored.length === items.length && items.every((x, i) => x === stored[i] || key(x) === key(stored[i])))
    return items.map((x, i) => (storedAs(x, stored[i]) ? stored[i] : x));
  // A repeated key (an arg given twice) is told apart by its occurrence.
  const occurrences = (list: T[]): string[] => {
    const seen = new Map<string, number>();
    return list.map(x => {
      const n = seen.get(key(x)) ?? 0;
      seen.set(key(x), n + 1);
      return `${n}:${key(x)}`;
    });
  };
  const position = new Map(occurrences(stored).map((k, i) => [k, i]));
  const keys = occurrences(items);
  return items
    .map((x, i) => {
      const at = position.get(keys[i]);
      const kept = at !== undefined && storedAs(x, stored[at]) ? stored[at] : x;
      return { x: kept, i, at: at ?? Number.MAX_SAFE_INTEGER };
    })
    .sort((p, q) => p.at - q.at || p.i - q.i)
    .map(p => p.x);
}

const asStoredValue = <T>(value: T | undefined, stored: T | undefined): T | undefined =>
  value !== undefined && storedAs(value, stored) ? stored : value;

function asStoredQuantities(values: StringMap | undefined, stored: StringMap | undefined): StringMap | undefined {
  if (!values || !stored || values === stored) return values;
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, k in stored && sameQuantity(v, stored[k]) ? stored[k] : v]));
}

/** `mutated` (its writable path, written in place) with what `stored` already holds kept as stored. */
export function keepStored(mutated: V1Deployment, stored: V1Deployment, containerIndex: number): void {
  const pod = mutated.spec!.template.spec!;
  const had = stored.spec!.template.spec!;
  put(pod, "volumes", asStoredList(pod.volumes, had.volumes, byName));
  put(pod, "tolerations", asStoredList(pod.tolerations, had.tolerations, tolerationKey));
  if (pod.affinity && had.affinity) {
    pod.affinity = { ...pod.affinity };
    for (const part of AFFINITY_PARTS) put(pod.affinity, part, asStoredValue(pod.affinity[part], had.affinity[part]));
  }
  const c = pod.containers[containerIndex];
  const s = had.containers[containerIndex];
  if (!c || !s) return;
  put(
    c,
    "args",
    asStoredList(c.args, s.args, a => a),
  );
  put(c, "ports", asStoredList(c.ports, s.ports, portKey));
  put(c, "env", asStoredList(c.env, s.env, byName));
  put(c, "volumeMounts", asStoredList(c.volumeMounts, s.volumeMounts, byMountPath));
  for (const probe of PROBES) put(c, probe, asStoredValue(c[probe], s[probe]));
  if (c.resources && s.resources) {
    c.resources = { ...c.resources };
    put(c.resources, "requests", asStoredQuantities(c.resources.requests, s.resources.requests));
    put(c.resources, "limits", asStoredQuantities(c.resources.limits, s.resources.limits));
  }
}
