// The applied-defaults record (SPEC §12.1): the module's own fills are told from the user's
// fields, so that every annotation change takes effect on the next admission, whatever the client.
import { DEFAULT_CLUSTER_CONFIG, resolveNamespace } from "./config";
import { APPLIED_DEFAULTS_ANNOTATION, KIND_LABEL } from "./constants";
import { admitDeployment } from "./plan";
import { formatProblem, warnings } from "./problems";
import { quantityValue, readRecord, sameQuantity, storedAs } from "./record";
import { TEST_TENANT, asStored } from "./testing";
import type { V1Container, V1Deployment } from "./types";

const ns = resolveNamespace(
  "ai",
  { "ai-workloads.io/aad-tenant-id": TEST_TENANT, "ai-workloads.io/host": "ai.example.com" },
  DEFAULT_CLUSTER_CONFIG,
).settings;

function deployment(
  kind: string,
  annotations: Record<string, string> = {},
  containers: V1Container[] = [{ name: "main", image: "img:1" }],
): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "app", namespace: "ai", labels: { [KIND_LABEL]: kind }, annotations },
    spec: { selector: { matchLabels: { app: "app" } }, template: { metadata: { labels: { app: "app" } }, spec: { containers } } },
  };
}

const admit = (d: V1Deployment) => admitDeployment(d, ns, DEFAULT_CLUSTER_CONFIG, []);

/** The stored object with other annotations, as `kubectl apply` (three-way merge) or `kubectl edit` sends it. */
const withAnnotations = (d: V1Deployment, annotations: Record<string, string>): V1Deployment => ({
  ...d,
  metadata: {
    ...d.metadata,
    annotations: { ...annotations, [APPLIED_DEFAULTS_ANNOTATION]: d.metadata!.annotations![APPLIED_DEFAULTS_ANNOTATION] },
  },
});

const primary = (d: V1Deployment): V1Container => d.spec!.template.spec!.containers[0];

describe("the applied-defaults record", () => {
  it("records what was filled, identified by merge key, in a deterministic compact JSON", () => {
    const record = admit(deployment("librechat", { "ai-workloads.io/openai-backend": "model" })).mutated.metadata!.annotations![
      APPLIED_DEFAULTS_ANNOTATION
    ];
    expect(JSON.parse(record)).toEqual({
      v: 1,
      container: "main",
      podLabels: { "app.kubernetes.io/component": "librechat" },
      podAnnotations: { "ai-workloads.io/infra-profile": "default" },
      ports: [{ name: "http", containerPort: 3000 }],
      env: [
        { name: "PORT", value: "3000" },
        { name: "HOST", value: "0.0.0.0" },
        { name: "OPENAI_REVERSE_PROXY", value: "http://model.ai.svc.cluster.local:8000/v1" },
        { name: "OPENAI_API_BASE", value: "http://model.ai.svc.cluster.local:8000/v1" },
      ],
      livenessProbe: { httpGet: { path: "/health", port: "http" }, initialDelaySeconds: 10, periodSeconds: 15, timeoutSeconds: 2 },
      readinessProbe: { httpGet: { path: "/health", port: "http" }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2 },
      startupProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 10, failureThreshold: 30 },
      requests: { cpu: "100m", memory: "256Mi" },
    });
    expect(record).not.toMatch(/\s{2}|\n/);
  });

  it("is idempotent: admitting the stored object again changes nothing", () => {
    const once = asStored(admit(deployment("mlserver", { "ai-workloads.io/infra-profile": "gpu-small" })).mutated);
    expect(admit(once).mutated).toEqual(once);
  });

  it("changing the infra profile removes what the previous one added (gpu-small → cpu-small)", () => {
    const stored = asStored(admit(deployment("mlserver", { "ai-workloads.io/infra-profile": "gpu-small" })).mutated);
    const changed = admit(withAnnotations(stored, { "ai-workloads.io/infra-profile": "cpu-small" })).mutated;
    const pod = changed.spec!.template.spec!;
    expect(primary(changed).resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } });
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.tolerations).toBeUndefined();
    expect(changed.spec!.template.metadata!.annotations!["ai-workloads.io/infra-profile"]).toBe("cpu-small");
  });

  it("changing the port moves every fill that depends on it (no denial telling the user to undo it)", () => {
    const stored = asStored(admit(deployment("librechat", { "ai-workloads.io/port": "3000" })).mutated);
    const { mutated, problems } = admit(withAnnotations(stored, { "ai-workloads.io/port": "3080" }));
    expect(problems.filter(p => p.severity === "deny")).toEqual([]);
    expect(primary(mutated).ports).toEqual([{ name: "http", containerPort: 3080 }]);
    expect(primary(mutated).env).toEqual([
      { name: "PORT", value: "3080" },
      { name: "HOST", value: "0.0.0.0" },
    ]);
  });

  it("removing an annotation returns its fields to the default", () => {
    const stored = asStored(admit(deployment("librechat", { "ai-workloads.io/openai-backend": "model" })).mutated);
    const env = primary(admit(withAnnotations(stored, {})).mutated).env!.map(e => e.name);
    expect(env).toEqual(["PORT", "HOST"]);
  });

  it("changing the kind replaces the previous kind's fills", () => {
    const stored = asStored(admit(deployment("mlserver")).mutated);
    const moved = { ...stored, metadata: { ...stored.metadata, labels: { [KIND_LABEL]: "librechat" } } };
    const fresh = admit(deployment("librechat")).mutated;
    expect(asStored(admit(moved).mutated).spec).toEqual(asStored(fresh).spec);
  });

  it("a user's edit of a filled field survives a later annotation change", () => {
    const stored = asStored(admit(deployment("librechat")).mutated);
    primary(stored).livenessProbe!.timeoutSeconds = 9;
    const changed = admit(withAnnotations(stored, { "ai-workloads.io/port": "3080" })).mutated;
    expect(primary(changed).livenessProbe!.timeoutSeconds).toBe(9);
    expect(primary(changed).livenessProbe!.httpGet!.port).toBe("http");
  });

  it("identifies list items by key, not position: a user's inserted or reordered env is no confusion", () => {
    const stored = asStored(admit(deployment("librechat", { "ai-workloads.io/openai-backend": "model" })).mutated);
    primary(stored).env = [{ name: "MONGO_URI", value: "mongodb://db" }, ...primary(stored).env!.reverse()];
    const changed = admit(withAnnotations(stored, { "ai-workloads.io/openai-backend": "other" })).mutated;
    expect(primary(changed).env).toEqual([
      { name: "MONGO_URI", value: "mongodb://db" },
      { name: "OPENAI_API_BASE", value: "http://other.ai.svc.cluster.local:8000/v1" },
      { name: "OPENAI_REVERSE_PROXY", value: "http://other.ai.svc.cluster.local:8000/v1" },
      { name: "HOST", value: "0.0.0.0" },
      { name: "PORT", value: "3000" },
    ]);
  });

  it("keeps the stored order of a re-filled list, so that an unchanged value does not roll the Deployment out", () => {
    const stored = asStored(admit(deployment("librechat")).mutated);
    primary(stored).env = [...primary(stored).env!, { name: "MONGO_URI", value: "x" }];
    expect(primary(admit(stored).mutated).env!.map(e => e.name)).toEqual(["PORT", "HOST", "MONGO_URI"]);
  });

  it("moves the container fills when the primary container changes", () => {
    const two = [
      { name: "a", image: "x" },
      { name: "b", image: "y" },
    ];
    const stored = asStored(admit(deployment("librechat", {}, two)).mutated);
    const moved = admit(withAnnotations(stored, { "ai-workloads.io/container": "b" })).mutated;
    expect(moved.spec!.template.spec!.containers[0]).toEqual({ name: "a", image: "x" });
    expect(moved.spec!.template.spec!.containers[1].env!.map(e => e.name)).toEqual(["PORT", "HOST"]);
  });

  it("without a record every present field is the user's (fill-only, as before)", () => {
    const stored = asStored(admit(deployment("librechat", { "ai-workloads.io/port": "3000" })).mutated);
    delete stored.metadata!.annotations![APPLIED_DEFAULTS_ANNOTATION];
    const { problems } = admit({ ...stored, metadata: { ...stored.metadata, annotations: { "ai-workloads.io/port": "3080" } } });
    // The PORT the module filled now reads as the app's own port setting (SPEC §13.1).
    expect(problems.map(formatProblem)).toContain(
      'ai/app: spec.template.spec.containers[main].env[PORT]: makes the app listen on port 3000, but ai-workloads.io/port is "3080"; make them agree, or remove ai-workloads.io/port so that the app\'s own setting is the app port',
    );
  });

  it("a malformed record counts as none, with a warning", () => {
    const stored = asStored(admit(deployment("librechat")).mutated);
    stored.metadata!.annotations![APPLIED_DEFAULTS_ANNOTATION] = '{"v":1,"container":3}';
    const { mutated, problems } = admit(stored);
    expect(warnings(problems).map(formatProblem)).toEqual([
      "warning: ai/app: metadata.annotations[ai-workloads.io/applied-defaults]: is not a record this module wrote, so every present field counts as the user's; remove the annotation (the module writes it again); never edit it by hand",
      "warning: ai/app: spec.template.spec.containers[main].env: MONGO_URI is not set; set MONGO_URI in env or through envFrom (a Secret): LibreChat needs MongoDB",
    ]);
    expect(mutated.spec).toEqual(stored.spec);
    expect(readRecord(mutated, "ai/app").record).toBeDefined();
  });

  it("an unresolvable Deployment is stored as sent: no fill removed or added, the record unchanged", () => {
    const stored = asStored(admit(deployment("mlserver", { "ai-workloads.io/infra-profile": "gpu-small" })).mutated);
    const sent = withAnnotations(stored, { "ai-workloads.io/infra-profile": "gone" });
    expect(admit(sent).mutated).toBe(sent);
  });
});

describe("comparing a fill with its stored form", () => {
  it("accepts the API server's defaults and nothing else", () => {
    const probe = { httpGet: { path: "/x", port: "http" }, periodSeconds: 15 };
    expect(
      storedAs(probe, {
        httpGet: { path: "/x", port: "http", scheme: "HTTP" },
        periodSeconds: 15,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      }),
    ).toBe(true);
    expect(storedAs(probe, { httpGet: { path: "/x", port: "http" }, periodSeconds: 15, failureThreshold: 5 })).toBe(false);
    expect(storedAs(probe, { httpGet: { path: "/x", port: "http", scheme: "HTTPS" }, periodSeconds: 15 })).toBe(false);
  });

  it("compares quantities by value, as canonicalised", () => {
    expect(sameQuantity("0.5", "500m")).toBe(true);
    expect(sameQuantity("1024Mi", "1Gi")).toBe(true);
    expect(sameQuantity("1", "1000m")).toBe(true);
    expect(sameQuantity("1e3", "1k")).toBe(true);
    expect(sameQuantity("1Gi", "1G")).toBe(false);
    expect(quantityValue("nonsense")).toBeUndefined();
  });
});
