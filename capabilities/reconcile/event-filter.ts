// Which Deployment watch events can change a pass's outcome. A pass reads a Deployment's
// metadata and spec; the controllers write its status many times over (observedGeneration,
// conditions, replica counts), and each of those events would otherwise cost a pass over the
// whole namespace. The controller also sets its own annotation (deployment.kubernetes.io/revision)
// on each rollout: a pass reads only the module's annotations (ai-workloads.io/*), so only those count.
import { ANNOTATION_PREFIX } from "../core/constants";
import type { KubeObject } from "../core/types";

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The annotations a pass reads; the same when only others changed. */
function moduleAnnotationsSame(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  const ours = (m: Record<string, string>): string[] => Object.keys(m).filter(k => k.startsWith(ANNOTATION_PREFIX));
  const keys = ours(a);
  return keys.length === ours(b).length && keys.every(k => k in b && a[k] === b[k]);
}

/**
 * False only when `after` is `before` with nothing a pass reads changed: the same object
 * (uid), the same spec (generation), and the same labels, ai-workloads.io annotations, owners,
 * finalizers and deletion state.
 */
export function deploymentChangeMatters(before: KubeObject | undefined, after: KubeObject, phase: string): boolean {
  if (phase === "DELETED" || before === undefined) return true;
  const [b, a] = [before.metadata ?? {}, after.metadata ?? {}];
  return !(
    b.uid === a.uid &&
    b.generation !== undefined &&
    b.generation === a.generation &&
    b.deletionTimestamp === a.deletionTimestamp &&
    same(b.labels, a.labels) &&
    moduleAnnotationsSame(b.annotations, a.annotations) &&
    same(b.ownerReferences, a.ownerReferences) &&
    same(b.finalizers, a.finalizers)
  );
}
