// Per-kind defaults (SPEC §4): fill only what is missing; idempotent; deterministic.
import { COMPONENT_LABEL, POD_INFRA_PROFILE_ANNOTATION } from "../constants";
import type { V1Container } from "@kubernetes/client-node";
import { type V1Deployment, extensibleCopy } from "../types";
import type { WorkloadSettings } from "../workload";
import { applyInfraProfile } from "./infra-profile";
import { applyLibrechatDefaults } from "./librechat";
import { applyMlserverDefaults } from "./mlserver";
import { applyOauth2ProxyDefaults } from "./oauth2-proxy";

/**
 * A copy of the objects the defaults write to: the path from the Deployment down to the primary
 * container, and that container's ports (a port may get its name). The rest is shared with the
 * input, which is never written to. A deep copy of the whole object was the biggest part of an
 * admission's own cost (hack/bench: a kubectl-applied Deployment carries itself in an annotation).
 */
function writablePath(deployment: V1Deployment, containerIndex: number): V1Deployment {
  const template = deployment.spec!.template;
  const pod = template.spec!;
  const containers = pod.containers.map((c, i) => (i === containerIndex ? writableContainer(c) : c));
  const podSpec = extensibleCopy(pod);
  podSpec.containers = containers;
  return {
    ...deployment,
    spec: { ...deployment.spec!, template: { ...template, metadata: extensibleCopy(template.metadata), spec: podSpec } },
  };
}

/** A copy of the container, and of its ports, that the defaults add fields to. */
function writableContainer(c: V1Container): V1Container {
  const copy = extensibleCopy(c);
  if (c.ports) copy.ports = c.ports.map(p => extensibleCopy(p));
  return copy;
}

/** Returns a new Deployment with the kind's defaults filled in; the input is not touched. */
export function applyDefaults(deployment: V1Deployment, s: WorkloadSettings): V1Deployment {
  const out = writablePath(deployment, s.containerIndex);
  const template = out.spec!.template;
  const pod = template.spec!;
  const c = pod.containers[s.containerIndex];
  const podMeta = template.metadata!;

  if (podMeta.labels?.[COMPONENT_LABEL] === undefined) {
    podMeta.labels = extensibleCopy(podMeta.labels);
    podMeta.labels[COMPONENT_LABEL] = s.kind;
  }
  if (podMeta.annotations?.[POD_INFRA_PROFILE_ANNOTATION] === undefined) {
    podMeta.annotations = extensibleCopy(podMeta.annotations);
    podMeta.annotations[POD_INFRA_PROFILE_ANNOTATION] = s.profileName;
  }
  switch (s.kind) {
    case "mlserver":
      applyMlserverDefaults(pod, c, s);
      break;
    case "librechat":
      applyLibrechatDefaults(c, s);
      break;
    case "oauth2-proxy":
      applyOauth2ProxyDefaults(c, s);
      break;
  }
  applyInfraProfile(pod, c, s.profile);
  return out;
}
