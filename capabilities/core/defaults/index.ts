// Per-kind defaults (SPEC §4): fill only what is missing; idempotent; deterministic.
import { COMPONENT_LABEL, POD_INFRA_PROFILE_ANNOTATION } from "../constants";
import type { V1Deployment } from "../types";
import type { WorkloadSettings } from "../workload";
import { applyInfraProfile } from "./infra-profile";
import { applyLibrechatDefaults } from "./librechat";
import { applyMlserverDefaults } from "./mlserver";
import { applyOauth2ProxyDefaults } from "./oauth2-proxy";

/** Returns a new Deployment with the kind's defaults filled in; the input is not touched. */
export function applyDefaults(deployment: V1Deployment, s: WorkloadSettings): V1Deployment {
  const out = structuredClone(deployment);
  const template = out.spec!.template;
  const pod = template.spec!;
  const c = pod.containers[s.containerIndex];

  template.metadata ??= {};
  if (template.metadata.labels?.[COMPONENT_LABEL] === undefined) {
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [COMPONENT_LABEL]: s.kind };
  }
  if (template.metadata.annotations?.[POD_INFRA_PROFILE_ANNOTATION] === undefined) {
    template.metadata.annotations = { ...(template.metadata.annotations ?? {}), [POD_INFRA_PROFILE_ANNOTATION]: s.profileName };
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
