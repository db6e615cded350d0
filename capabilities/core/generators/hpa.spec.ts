import { describe, expect, it } from "@jest/globals";
import type { WorkloadSettings } from "../workload";
import { generateHpa } from "./hpa";
import { workloadSettings } from "../testing";

const settings = (over: Partial<Omit<WorkloadSettings, "ns">> = {}): WorkloadSettings =>
  workloadSettings(
    "mlserver",
    { app: "runtime-openai", profile: {}, ...over },
    { host: undefined, gateway: undefined, tenantId: undefined },
  );

describe("generateHpa", () => {
  it("gives an autoscaling/v2 HPA <app> on the Deployment with min, max and the CPU Utilization target", () => {
    expect(generateHpa(settings())).toEqual({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: {
        name: "runtime-openai",
        namespace: "ai",
        labels: { "app.kubernetes.io/managed-by": "ai-workloads", "ai-workloads.io/app": "runtime-openai" },
      },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "runtime-openai" },
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }],
      },
    });
  });

  it("gives nothing when autoscale is off", () => {
    expect(generateHpa(settings({ autoscale: "off" }))).toBeUndefined();
  });

  it("uses the annotated replica range and CPU target", () => {
    const hpa = generateHpa(settings({ autoscale: { min: 2, max: 5 }, autoscaleCpu: 80 }));
    expect([hpa?.spec?.minReplicas, hpa?.spec?.maxReplicas, hpa?.spec?.metrics?.[0].resource?.target.averageUtilization]).toEqual([
      2, 5, 80,
    ]);
  });

  it("has no ownerReferences without an owner", () => {
    expect(generateHpa(settings())?.metadata).not.toHaveProperty("ownerReferences");
  });

  it("carries a controller ownerReference to its Deployment when the owner is known", () => {
    expect(generateHpa(settings(), { name: "runtime-openai", uid: "u-1" })?.metadata?.ownerReferences).toEqual([
      { apiVersion: "apps/v1", kind: "Deployment", name: "runtime-openai", uid: "u-1", controller: true, blockOwnerDeletion: true },
    ]);
  });
});
