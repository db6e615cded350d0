import { describe, expect, it } from "@jest/globals";
import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import type { InfraProfile } from "../config";
import { applyInfraProfile } from "./infra-profile";

// SPEC §3.1, by hand.
const DEFAULT: InfraProfile = { resources: { requests: { cpu: "100m", memory: "256Mi" } } };
const CPU_SMALL: InfraProfile = { resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } } };
const GPU_SMALL: InfraProfile = {
  resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { memory: "16Gi", "nvidia.com/gpu": "1" } },
  nodeSelector: { workload: "gpu" },
  tolerations: [{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
};

const container = (over: Partial<V1Container> = {}): V1Container => ({ name: "main", image: "img", ...over });

/** Applies `profile` to a copy of a pod holding `c` (primary) and returns the pod. */
function run(profile: InfraProfile, c: V1Container = container(), podOver: Partial<V1PodSpec> = {}): V1PodSpec {
  const pod: V1PodSpec = structuredClone({ ...podOver, containers: [c] });
  applyInfraProfile(pod, pod.containers[0], structuredClone(profile));
  return pod;
}

describe("applyInfraProfile resources", () => {
  it("fills requests of the default profile on a container without resources", () => {
    expect(run(DEFAULT).containers[0].resources).toEqual({ requests: { cpu: "100m", memory: "256Mi" } });
  });

  it("fills requests and limits of cpu-small", () => {
    expect(run(CPU_SMALL).containers[0].resources).toEqual({
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    });
  });

  it("fills gpu-small's GPU limit", () => {
    expect(run(GPU_SMALL).containers[0].resources).toEqual({
      requests: { cpu: "2", memory: "8Gi" },
      limits: { memory: "16Gi", "nvidia.com/gpu": "1" },
    });
  });

  it("leaves a resource whole when the user set its request: no profile limit for it either", () => {
    const c = run(CPU_SMALL, container({ resources: { requests: { cpu: "500m" } } })).containers[0];
    expect(c.resources).toEqual({ requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } });
  });

  it("leaves a resource whole when the user set only its limit: no profile request for it", () => {
    const c = run(CPU_SMALL, container({ resources: { limits: { memory: "2Gi" } } })).containers[0];
    expect(c.resources).toEqual({ requests: { cpu: "250m" }, limits: { cpu: "1", memory: "2Gi" } });
  });

  it("changes nothing when the user set every resource the profile names", () => {
    const resources = { requests: { cpu: "3", memory: "1Gi" }, limits: { "nvidia.com/gpu": "2" } };
    expect(run(GPU_SMALL, container({ resources })).containers[0].resources).toEqual(resources);
  });

  it("changes nothing for an empty profile", () => {
    const pod = run({});
    expect(pod).toEqual({ containers: [container()] });
  });

  it("fills only the primary container", () => {
    const pod: V1PodSpec = { containers: [container({ name: "sidecar" }), container()] };
    applyInfraProfile(pod, pod.containers[1], structuredClone(DEFAULT));
    expect(pod.containers[0].resources).toBeUndefined();
    expect(pod.containers[1].resources).toEqual({ requests: { cpu: "100m", memory: "256Mi" } });
  });
});

describe("applyInfraProfile scheduling", () => {
  it("adds the profile's nodeSelector and tolerations to a pod without them", () => {
    const pod = run(GPU_SMALL);
    expect(pod.nodeSelector).toEqual({ workload: "gpu" });
    expect(pod.tolerations).toEqual([{ key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" }]);
  });

  it("keeps the pod's value for a nodeSelector key the profile also sets, and adds the others", () => {
    const profile: InfraProfile = { nodeSelector: { workload: "gpu", zone: "a" } };
    expect(run(profile, container(), { nodeSelector: { workload: "cpu-pool" } }).nodeSelector).toEqual({ workload: "cpu-pool", zone: "a" });
  });

  it("appends the profile's tolerations after the pod's", () => {
    const mine = { key: "spot", operator: "Exists", effect: "NoSchedule" };
    expect(run(GPU_SMALL, container(), { tolerations: [mine] }).tolerations).toEqual([
      mine,
      { key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" },
    ]);
  });

  it("does not duplicate a toleration the pod already has", () => {
    const same = { key: "workload", operator: "Equal", value: "gpu", effect: "NoSchedule" };
    expect(run(GPU_SMALL, container(), { tolerations: [same] }).tolerations).toEqual([same]);
  });

  it("keeps the pod's affinity parts and adds the profile's other parts", () => {
    const mine = {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 1, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] } },
        ],
      },
    };
    const profile: InfraProfile = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "gpu", operator: "Exists" }] }],
          },
        },
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: { topologyKey: "kubernetes.io/hostname" } }],
        },
      },
    };
    expect(run(profile, container(), { affinity: mine }).affinity).toEqual({
      nodeAffinity: mine.nodeAffinity,
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: { topologyKey: "kubernetes.io/hostname" } }],
      },
    });
  });

  it("adds the profile's affinity to a pod without one", () => {
    const profile: InfraProfile = {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
    };
    expect(run(profile).affinity).toEqual({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } });
  });

  it("applying a profile twice equals applying it once", () => {
    const once = run(GPU_SMALL, container({ resources: { requests: { cpu: "1" } } }), {
      tolerations: [{ key: "spot", operator: "Exists" }],
    });
    const twice = structuredClone(once);
    applyInfraProfile(twice, twice.containers[0], structuredClone(GPU_SMALL));
    expect(twice).toEqual(once);
  });

  it("does not change the profile it is given", () => {
    const profile = structuredClone(GPU_SMALL);
    const pod: V1PodSpec = { containers: [container()] };
    applyInfraProfile(pod, pod.containers[0], profile);
    expect(profile).toEqual(GPU_SMALL);
  });
});
