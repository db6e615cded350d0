import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { WorkloadSettings } from "../workload";
import { type Owner, companionLabels, ownerReferences } from "./common";

/** autoscaling/v2 HPA on average CPU utilization; undefined when autoscale is off. */
export function generateHpa(s: WorkloadSettings, owner?: Owner): V2HorizontalPodAutoscaler | undefined {
  if (s.autoscale === "off") return undefined;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: s.app, namespace: s.namespace, labels: companionLabels(s.app), ...ownerReferences(owner) },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: s.app },
      minReplicas: s.autoscale.min,
      maxReplicas: s.autoscale.max,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: s.autoscaleCpu } } }],
    },
  };
}
