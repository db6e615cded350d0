import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import { equals } from "ramda";
import type { InfraProfile } from "../config";
import { AFFINITY_PARTS, type StringMap, extensibleCopy } from "../types";

const RESOURCE_PARTS = ["requests", "limits"] as const;

const hasKey = (map: StringMap | undefined, key: string): boolean => map !== undefined && Object.hasOwn(map, key);

/** The entries of `from` whose key neither `a` nor `b` has; undefined when there are none. */
function entriesMissingFrom(from: StringMap | undefined, a: StringMap | undefined, b?: StringMap): StringMap | undefined {
  let out: StringMap | undefined;
  for (const key in from) if (Object.hasOwn(from, key) && !hasKey(a, key) && !hasKey(b, key)) (out ??= {})[key] = from[key];
  return out;
}

/**
 * Fills the primary container's resources per resource name: a resource the user gave a
 * request or a limit for is left whole, so a profile never makes a request exceed a limit.
 * Scheduling merges under what the pod has: the pod's own keys and entries win.
 * Plain loops and no closures: this runs in every admission.
 */
export function applyInfraProfile(pod: V1PodSpec, c: V1Container, profile: InfraProfile): void {
  const { requests: givenRequests, limits: givenLimits } = c.resources ?? {};
  for (const part of RESOURCE_PARTS) {
    const wanted = entriesMissingFrom(profile.resources?.[part], givenRequests, givenLimits);
    if (wanted) {
      const resources = extensibleCopy(c.resources);
      resources[part] = Object.assign(extensibleCopy(resources[part]), wanted);
      c.resources = resources;
    }
  }
  const selector = entriesMissingFrom(profile.nodeSelector, pod.nodeSelector);
  if (selector) pod.nodeSelector = Object.assign(extensibleCopy(pod.nodeSelector), selector);

  // Copies, so that the Deployment never shares objects with the module-wide profiles.
  if (profile.tolerations?.length) {
    const tolerations = profile.tolerations.filter(t => !(pod.tolerations ?? []).some(have => equals(have, t)));
    if (tolerations.length > 0) pod.tolerations = [...(pod.tolerations ?? []), ...structuredClone(tolerations)];
  }

  for (const part of AFFINITY_PARTS) {
    const value = profile.affinity?.[part];
    if (value !== undefined && pod.affinity?.[part] === undefined)
      pod.affinity = { ...(pod.affinity ?? {}), [part]: structuredClone(value) };
  }
}
