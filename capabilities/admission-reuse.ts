// The API server calls Mutate and then Validate for every write of a labelled Deployment. When
// Mutate changes nothing (a day-two update: an image bump or a re-apply of a Deployment whose
// defaults are in place), Validate gets the object Mutate judged, in the same context, and the
// judgement is a pure function of those: Validate takes Mutate's problems instead of judging
// the same object again. Anything else (a create, whose Validate sees the filled-in object; a
// changed Namespace, config or stored Deployment; a Mutate served by
// another replica) is judged in full. A status write to a stored Deployment changes nothing here:
// the watch copy keeps the object it holds (`keptCopy`).
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

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

// Where a value sits in the Deployment: what is set aside depends on it.
const ROOT = 0;
const METADATA = 1;
const ANNOTATIONS = 2;
const OTHER = 3;
type At = typeof ROOT | typeof METADATA | typeof ANNOTATIONS | typeof OTHER;

const childAt = (at: At, key: string): At =>
  at === ROOT && key === "metadata" ? METADATA : at === METADATA && key === "annotations" ? ANNOTATIONS : OTHER;

/** Whether the value under `key`, at `at`, is left out of a comparison. */
type SetAside = (at: At, key: string, value: unknown) => boolean;

/**
 * What Mutate and Validate of one request see differently although no check reads it:
 * - `metadata.generation`: the API server raises it between the two calls of an update that
 *   changes the spec (seen on the test control plane: an image bump reaches Mutate at 1 and
 *   Validate at 2);
 * - Pepr's status annotation `<module uuid>.pepr.dev/<capability>`, "started" during Mutate and
 *   "succeeded" after. Checks only read that every annotation is a string, so only a string is
 *   set aside.
 */
const betweenCalls: SetAside = (at, key, value) =>
  (at === METADATA && key === "generation") || (at === ANNOTATIONS && typeof value === "string" && key.includes(".pepr.dev/"));

/**
 * What the controllers write on a stored object without changing anything admission reads:
 * its status, with the resourceVersion and managedFields that come with every write.
 */
const statusWrites: SetAside = (at, key) =>
  (at === ROOT && key === "status") || (at === METADATA && (key === "resourceVersion" || key === "managedFields"));

// Plain loops: this runs on every Validate and every watch event, and allocates nothing.
function same(a: unknown, b: unknown, at: At, setAside: SetAside): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i], OTHER, setAside)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let unmatched = 0;
  for (const k in x) {
    if (!hasOwn(x, k) || setAside(at, k, x[k])) continue;
    unmatched++;
    if (!hasOwn(y, k) || !same(x[k], y[k], childAt(at, k), setAside)) return false;
  }
  for (const k in y) if (hasOwn(y, k) && !setAside(at, k, y[k])) unmatched--;
  return unmatched === 0;
}

const nothing: SetAside = () => false;

/** Deep equality of JSON values (what a parsed admission request holds). */
export const sameJson = (a: unknown, b: unknown): boolean => same(a, b, OTHER, nothing);

/** The same Deployment for a judgement: equal JSON, apart from what `betweenCalls` names. */
export const sameForJudgement = (a: V1Deployment, b: V1Deployment): boolean => same(a, b, ROOT, betweenCalls);

/**
 * The object admission keeps in its watch copy for `incoming`: the one it holds when only a status
 * write came in. The memos and Mutate's kept judgements go by identity, so a rollout's status
 * updates in a namespace no longer make them resolve and judge again.
 */
export const keptCopy = <T>(held: T | undefined, incoming: T): T =>
  held !== undefined && same(held, incoming, ROOT, statusWrites) ? held : incoming;

const sameItems = <T>(a: readonly T[], b: readonly T[]): boolean => a === b || (a.length === b.length && a.every((x, i) => x === b[i]));

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

/** What Validate gets from the Mutate of its request. */
export interface FromMutate {
  /** Mutate's problems, only when Validate has the inputs Mutate judged. */
  problems?: Problem[];
  /**
   * Warnings Validate must give whatever it sees: Mutate keeps the stored replica count (SPEC
   * §14.2), so Validate never sees the change the warning is about.
   */
  carried: string[];
}

/**
 * What each Mutate leaves for the Validate of its request. Bounded and oldest-first: a Validate
 * served by another replica never takes its entry, which then only ages out.
 */
export class MutateJudgements {
  private readonly kept = new Map<string, { inputs: JudgementInputs; problems: Problem[]; carried: string[] }>();

  constructor(private readonly max = 256) {}

  get size(): number {
    return this.kept.size;
  }

  keep(key: string, inputs: JudgementInputs, problems: Problem[], carried: string[] = []): void {
    this.kept.delete(key);
    if (this.kept.size >= this.max) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(key, { inputs, problems, carried });
  }

  /** What Mutate left for this Validate; the entry is used up either way. */
  take(key: string, inputs: JudgementInputs): FromMutate {
    const entry = this.kept.get(key);
    if (entry === undefined) return { carried: [] };
    this.kept.delete(key);
    return { problems: sameInputs(entry.inputs, inputs) ? entry.problems : undefined, carried: entry.carried };
  }
}
