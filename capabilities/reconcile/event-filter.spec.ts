import type { KubeObject } from "../core/types";
import { deploymentChangeMatters } from "./event-filter";

const stored: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "m",
    namespace: "ai",
    uid: "u1",
    generation: 3,
    resourceVersion: "10",
    labels: { "ai-workloads.io/kind": "mlserver" },
    annotations: { "ai-workloads.io/autoscale": "1-3" },
  },
  spec: { replicas: 1 },
  status: { observedGeneration: 2 },
};
const changed = (edit: (o: KubeObject) => void): KubeObject => {
  const o = structuredClone(stored);
  edit(o);
  return o;
};

describe("deploymentChangeMatters", () => {
  it("skips what only the controllers write: status, and the resourceVersion that comes with it", () => {
    const statusOnly = changed(o => {
      o.status = { observedGeneration: 3, replicas: 1 };
      o.metadata!.resourceVersion = "11";
    });
    expect(deploymentChangeMatters(stored, statusOnly, "MODIFIED")).toBe(false);
  });

  it("skips annotations a pass does not read: the controller's revision, kubectl's last-applied", () => {
    const rolledOut = changed(o => {
      o.metadata!.annotations = {
        ...o.metadata!.annotations,
        "deployment.kubernetes.io/revision": "2",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
      };
    });
    expect(deploymentChangeMatters(stored, rolledOut, "MODIFIED")).toBe(false);
  });

  it.each<[string, (o: KubeObject) => void]>([
    ["a new spec (generation)", o => (o.metadata!.generation = 4)],
    ["a label", o => (o.metadata!.labels = { "ai-workloads.io/kind": "librechat" })],
    ["an annotation", o => (o.metadata!.annotations = { "ai-workloads.io/autoscale": "off" })],
    ["an annotation added", o => (o.metadata!.annotations = { ...o.metadata!.annotations, "ai-workloads.io/expose": "true" })],
    ["an annotation removed", o => (o.metadata!.annotations = {})],
    ["the module's record", o => (o.metadata!.annotations = { ...o.metadata!.annotations, "ai-workloads.io/applied-defaults": "{}" })],
    ["the start of a deletion", o => (o.metadata!.deletionTimestamp = "2026-12-02T00:00:00Z" as unknown as Date)],
    ["an owner", o => (o.metadata!.ownerReferences = [{ apiVersion: "v1", kind: "X", name: "x", uid: "x" }])],
    ["a finalizer", o => (o.metadata!.finalizers = ["example.com/hold"])],
    ["another object under the name", o => (o.metadata!.uid = "u2")],
  ])("runs a pass for %s", (_what, edit) => {
    expect(deploymentChangeMatters(stored, changed(edit), "MODIFIED")).toBe(true);
  });

  it("runs a pass for what it has not seen, for a deletion, and when no generation tells specs apart", () => {
    expect(deploymentChangeMatters(undefined, stored, "ADDED")).toBe(true);
    expect(deploymentChangeMatters(stored, stored, "DELETED")).toBe(true);
    const noGeneration = changed(o => delete o.metadata!.generation);
    expect(deploymentChangeMatters(noGeneration, noGeneration, "MODIFIED")).toBe(true);
  });
});
