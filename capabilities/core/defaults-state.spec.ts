// Defaults state (SPEC §14.4): current when the stored object is what admission gives it now;
// outdated, naming each field re-admission would change; never admitted without the record.
import { BUILT_IN_PROFILES, type ClusterConfig, DEFAULT_CLUSTER_CONFIG } from "./config";
import { APPLIED_DEFAULTS_ANNOTATION, KIND_LABEL } from "./constants";
import { defaultsState, fieldChanges } from "./defaults-state";
import { admitDeployment } from "./plan";
import { asStored, namespaceSettings } from "./testing";
import type { V1Deployment } from "./types";

const ns = namespaceSettings();

function deployment(kind: string, annotations: Record<string, string> = {}): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "app", namespace: ns.name, labels: { [KIND_LABEL]: kind }, annotations },
    spec: {
      selector: { matchLabels: { app: "app" } },
      template: { metadata: { labels: { app: "app" } }, spec: { containers: [{ name: "main", image: "img:1" }] } },
    },
  };
}

/** Admitted under `cluster`, then stored as the API server stores it. */
const admitted = (d: V1Deployment, cluster: ClusterConfig = DEFAULT_CLUSTER_CONFIG): V1Deployment =>
  asStored(admitDeployment(d, ns, cluster, []).mutated);

const withSmallerProfile: ClusterConfig = {
  ...DEFAULT_CLUSTER_CONFIG,
  infraProfiles: {
    ...BUILT_IN_PROFILES,
    "cpu-small": { resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
  },
};

describe("defaultsState", () => {
  it.each(["mlserver", "librechat", "oauth2-proxy"])("is current for a %s Deployment just admitted and stored", kind => {
    const annotations: Record<string, string> = kind === "oauth2-proxy" ? { "ai-workloads.io/upstream": "chat" } : {};
    const stored = admitted(deployment(kind, annotations));
    expect(defaultsState(stored, ns, DEFAULT_CLUSTER_CONFIG)).toEqual({ state: "current" });
  });

  it("is never-admitted without the record, listing what admission would fill", () => {
    const state = defaultsState(asStored(deployment("mlserver")), ns, DEFAULT_CLUSTER_CONFIG);
    expect(state?.state).toBe("never-admitted");
    const changes = state?.state === "never-admitted" ? state.changes : [];
    expect(changes).toContain('spec.template.metadata.labels["app.kubernetes.io/component"]: added "mlserver"');
    // A list the stored object lacks is added whole.
    expect(changes.some(c => c.startsWith('spec.template.spec.containers[main].env: added [{"name":"MLSERVER_HTTP_PORT"'))).toBe(true);
    expect(changes.some(c => c.startsWith("spec.template.spec.containers[main].startupProbe: added"))).toBe(true);
    // The record itself is not a change a pod sees.
    expect(changes.some(c => c.includes(APPLIED_DEFAULTS_ANNOTATION))).toBe(false);
  });

  it("is never-admitted with no changes when the user wrote every default by hand", () => {
    const filled = admitted(deployment("mlserver"));
    delete filled.metadata!.annotations![APPLIED_DEFAULTS_ANNOTATION];
    expect(defaultsState(filled, ns, DEFAULT_CLUSTER_CONFIG)).toEqual({ state: "never-admitted", changes: [] });
  });

  it("is outdated after a profile changed in the config, naming the field and both values", () => {
    const stored = admitted(deployment("mlserver", { "ai-workloads.io/infra-profile": "cpu-small" }));
    expect(defaultsState(stored, ns, DEFAULT_CLUSTER_CONFIG)).toEqual({ state: "current" });
    expect(defaultsState(stored, ns, withSmallerProfile)).toEqual({
      state: "outdated",
      changes: ['spec.template.spec.containers[main].resources.requests.cpu: "250m" -> "500m"'],
    });
  });

  it("is current again once the stored object is re-admitted under the new config", () => {
    const stored = admitted(deployment("mlserver", { "ai-workloads.io/infra-profile": "cpu-small" }));
    const readmitted = asStored(admitDeployment(stored, ns, withSmallerProfile, []).mutated);
    expect(defaultsState(readmitted, ns, withSmallerProfile)).toEqual({ state: "current" });
  });

  it("is undefined for a Deployment that does not resolve (admission would deny it)", () => {
    const stored = admitted(deployment("mlserver", { "ai-workloads.io/infra-profile": "cpu-small" }));
    const gone: ClusterConfig = { ...DEFAULT_CLUSTER_CONFIG, infraProfiles: { default: BUILT_IN_PROFILES.default } };
    expect(defaultsState(stored, ns, gone)).toBeUndefined();
  });
});

describe("fieldChanges", () => {
  it("matches list items by their merge key, whatever their order", () => {
    const before = {
      env: [
        { name: "A", value: "1" },
        { name: "B", value: "2" },
      ],
    };
    const after = {
      env: [
        { name: "B", value: "2" },
        { name: "A", value: "3" },
        { name: "C", value: "4" },
      ],
    };
    expect(fieldChanges(before, after)).toEqual(['env[A].value: "1" -> "3"', 'env[C]: added {"name":"C","value":"4"}']);
  });

  it("compares lists without a key whole, as they are replaced whole", () => {
    expect(fieldChanges({ args: ["--a", "--b"] }, { args: ["--b", "--a"] })).toEqual(['args: ["--a","--b"] -> ["--b","--a"]']);
  });

  it("says removed for a field only the stored object has, and shortens long values", () => {
    const long = "x".repeat(200);
    const [line] = fieldChanges({ a: { b: long } }, { a: {} });
    expect(line.startsWith('a.b: removed "xxx')).toBe(true);
    expect(line.endsWith("...")).toBe(true);
    expect(line.length).toBeLessThan(100);
  });

  it("finds nothing between equal objects", () => {
    expect(fieldChanges({ a: [{ name: "x", v: [1, 2] }] }, { a: [{ name: "x", v: [1, 2] }] })).toEqual([]);
  });
});
