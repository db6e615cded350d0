// The API server calls Mutate and then Validate for every write of a labelled Deployment. When
// Mutate changes nothing (a day-two update: an image bump or a re-apply of a Deployment whose
// defaults are in place), Validate gets the object Mutate judged, in the same context, and the
// judgement is a pure function of those: Validate takes Mutate's problems instead of judging
// the same object again. Anything else (a create, whose Validate sees the filled-in object; a
// changed Namespace, config or stored Deployment, even by a status update; a Mutate served by
// another replica) is judged in full.
import type { ClusterConfig, resolveNamespace } from "./core/config";
import type { Problem } from "./core/problems";
import type { V1Deployment } from "./core/types";
import type { WorkloadSettings } from "./core/workload";

/** Everything a judgement reads: the request and, by identity, what admission read for it. */
export interface JudgementInputs {
  operation: string;
  /** The request's namespace as given (it decides the namespace judged). */
  namespace: string | undefined;
  object: V1Deployment;
  oldObject: V1Deployment | undefined;
  config: ClusterConfig;
  /** The resolved Namespace: the memo hands out the same object while the Namespace and config are unchanged. */
  ns: ReturnType<typeof resolveNamespace>;
  /** The namespace's stored managed Deployments and the apps of other namespaces sharing its URL space. */
  stored: readonly V1Deployment[];
  elsewhere: readonly WorkloadSettings[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep equality of JSON values (what a parsed admission request holds). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(k => Object.prototype.hasOwnProperty.call(b, k) && sameJson(a[k], b[k]));
}

/**
 * Pepr writes `<module uuid>.pepr.dev/<capability>` on the object around each Mutate ("started"
 * before, "succeeded" after), so Mutate and Validate see different values of it. No check reads
 * it beyond its being a string (SPEC §12.3 shape checks), so two strings there count as the same.
 */
const isPeprStatus = (key: string): boolean => key.includes(".pepr.dev/");

function sameAnnotations(a: unknown, b: unknown): boolean {
  if (!isObject(a) || !isObject(b)) return sameJson(a, b);
  const ours = (m: Record<string, unknown>): string[] => Object.keys(m).filter(k => !(isPeprStatus(k) && typeof m[k] === "string"));
  const keys = ours(a);
  return keys.length === ours(b).length && keys.every(k => Object.prototype.hasOwnProperty.call(b, k) && sameJson(a[k], b[k]));
}

/**
 * The API server raises `metadata.generation` between the two calls of an update that changes the
 * spec (seen on the test control plane: an image bump reaches Mutate at 1 and Validate at 2). No
 * check reads it.
 */
const SET_BETWEEN_CALLS = "generation";

/** The same Deployment for a judgement: equal JSON, Pepr's status annotation and the generation aside. */
export function sameForJudgement(a: V1Deployment, b: V1Deployment): boolean {
  if (a === b) return true;
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(k => {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (k !== "metadata" || !isObject(x) || !isObject(y)) return sameJson(x, y);
    const compared = (m: Record<string, unknown>): string[] => Object.keys(m).filter(f => f !== SET_BETWEEN_CALLS);
    const fields = compared(x);
    return (
      fields.length === compared(y).length &&
      fields.every(
        f => Object.prototype.hasOwnProperty.call(y, f) && (f === "annotations" ? sameAnnotations(x[f], y[f]) : sameJson(x[f], y[f])),
      )
    );
  });
}

const sameItems = <T>(a: readonly T[], b: readonly T[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export function sameInputs(a: JudgementInputs, b: JudgementInputs): boolean {
  return (
    a.operation === b.operation &&
    a.namespace === b.namespace &&
    a.config === b.config &&
    a.ns === b.ns &&
    sameItems(a.stored, b.stored) &&
    sameItems(a.elsewhere, b.elsewhere) &&
    (a.oldObject === undefined || b.oldObject === undefined ? a.oldObject === b.oldObject : sameForJudgement(a.oldObject, b.oldObject)) &&
    sameForJudgement(a.object, b.object)
  );
}

/**
 * Mutate's judgements, each waiting for the Validate of its request. Bounded and oldest-first:
 * a Validate served by another replica never takes its entry, which then only ages out.
 */
export class MutateJudgements {
  private readonly kept = new Map<string, { inputs: JudgementInputs; problems: Problem[] }>();

  constructor(private readonly max = 256) {}

  get size(): number {
    return this.kept.size;
  }

  keep(key: string, inputs: JudgementInputs, problems: Problem[]): void {
    this.kept.delete(key);
    if (this.kept.size >= this.max) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(key, { inputs, problems });
  }

  /** Mutate's problems when Validate judges the same inputs; the entry is used up either way. */
  take(key: string, inputs: JudgementInputs): Problem[] | undefined {
    const entry = this.kept.get(key);
    if (entry === undefined) return undefined;
    this.kept.delete(key);
    return sameInputs(entry.inputs, inputs) ? entry.problems : undefined;
  }
}
