import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import { equals } from "ramda";
import type { InfraProfile } from "../config";

/**
 * Fills the primary container's resources per resource name: a resource the user gave a
 * request or a limit for is left whole, so a profile never makes a request exceed a limit.
 * Scheduling merges under what the pod has: the pod's own keys and entries win.
 */
export function applyInfraProfile(pod: V1PodSpec, c: V1Container, profile: InfraProfile): void {
  const userSet = new Set([...Object.keys(c.resources?.requests ?? {}), ...Object.keys(c.resources?.limits ?? {})]);
  for (const part of ["requests", "limits"] as const) {
    const wanted = Object.entries(profile.resources?.[part] ?? {}).filter(([name]) => !userSet.has(name));
    if (wanted.length === 0) continue;
    c.resources = { ...(c.resources ?? {}), [part]: { ...(c.resources?.[part] ?? {}), ...Object.fromEntries(wanted) } };
  }
  const selector = Object.entries(profile.nodeSelector ?? {}).filter(([k]) => pod.nodeSelector?.[k] === undefined);
  if (selector.length > 0) pod.nodeSelector = { ...(pod.nodeSelector ?? {}), ...Object.fromEntries(selector) };

  // Copies, so that the Deployment never shares objects with the module-wide profiles.
  const tolerations = (profile.tolerations ?? []).filter(t => !(pod.tolerations ?? []).some(have => equals(have, t)));
  if (tolerations.length > 0) pod.tolerations = [...(pod.tolerations ?? []), ...structuredClone(tolerations)];

  for (const part of ["nodeAffinity", "podAffinity", "podAntiAffinity"] as const) {
    const value = profile.affinity?.[part];
    if (value !== undefined && pod.affinity?.[part] === undefined)
      pod.affinity = { ...(pod.affinity ?? {}), [part]: structuredClone(value) };
  }
}
