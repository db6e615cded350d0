// The watch's copy of one kind: the newest version per object, in the order of the stream.
import { Mirror, identityOnly } from "./mirror";

describe("Mirror", () => {
  it("keeps the newest object per name, and a DELETED of an older incarnation leaves the new one", () => {
    const m = new Mirror("v1", "Service");
    m.apply({ metadata: { name: "a", namespace: "x", uid: "1" } }, "ADDED");
    m.apply({ metadata: { name: "a", namespace: "x", uid: "2" } }, "ADDED");
    m.apply({ metadata: { name: "a", namespace: "x", uid: "1" } }, "DELETED");
    expect(m.get("x", "a")).toEqual({ apiVersion: "v1", kind: "Service", metadata: { name: "a", namespace: "x", uid: "2" } });
    m.apply({ metadata: { name: "b", namespace: "y", uid: "3" } }, "MODIFIED");
    expect(m.namespaces().sort()).toEqual(["x", "y"]);
    expect(m.size).toBe(2);
    m.apply({ metadata: { name: "b", namespace: "y", uid: "3" } }, "DELETED");
    expect(m.namespaces()).toEqual(["x"]);
    expect(m.inNamespace("y")).toEqual([]);
  });
});

describe("Mirror versions", () => {
  it("does not bring back an object deleted after a read from the API server was answered, and keeps one relabelled later", () => {
    const m = new Mirror("apps/v1", "Deployment");
    const d = (rv: string) => ({ metadata: { name: "a", namespace: "x", uid: "1", resourceVersion: rv } });
    m.apply(d("10"), "ADDED");
    // A pass's read was answered at version 10; the deletion (version 12) is handled before the read's answer.
    m.apply(d("12"), "DELETED");
    m.apply(d("10"), "MODIFIED");
    expect(m.get("x", "a")).toBeUndefined();
    // The label-selected watch reports a Deployment that loses the label as DELETED; the label back is a newer version.
    m.apply(d("14"), "ADDED");
    expect(m.get("x", "a")?.metadata?.resourceVersion).toBe("14");
    // The watch library's relist reports an object missing from a list that raced a change as DELETED at the
    // version it held: a read of that version brings it back.
    m.apply(d("14"), "DELETED");
    m.apply(d("14"), "MODIFIED");
    expect(m.get("x", "a")?.metadata?.resourceVersion).toBe("14");
  });

  it("keeps a newer version than one that arrives late (a read from the API server got there first)", () => {
    const m = new Mirror("apps/v1", "Deployment");
    m.apply({ metadata: { name: "a", namespace: "x", uid: "1", resourceVersion: "20" } }, "MODIFIED");
    m.apply({ metadata: { name: "a", namespace: "x", uid: "1", resourceVersion: "15" } }, "MODIFIED");
    expect(m.get("x", "a")?.metadata?.resourceVersion).toBe("20");
    m.apply({ metadata: { name: "a", namespace: "x", uid: "1", resourceVersion: "21" } }, "MODIFIED");
    expect(m.get("x", "a")?.metadata?.resourceVersion).toBe("21");
    m.clear();
    expect(m.size).toBe(0);
  });
});

describe("what a copy keeps", () => {
  /** A Service as the API server returns it: the module's fields, the server's defaults, status and managedFields. */
  const stored = () => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "a",
      namespace: "x",
      uid: "1",
      resourceVersion: "7",
      generation: 1,
      labels: { "app.kubernetes.io/managed-by": "ai-workloads" },
      annotations: { note: "kept" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "a", uid: "d1" }],
      managedFields: [{ manager: "ai-workloads", operation: "Apply", fieldsV1: { "f:spec": {} } }],
    },
    spec: { ports: [{ name: "http", port: 8080, protocol: "TCP", targetPort: 8080 }], clusterIP: "10.96.0.1" },
    status: { loadBalancer: {} },
  });

  it("drops status and managedFields, in the object handed over (the watch library caches that one), and keeps all else", () => {
    const m = new Mirror("v1", "Service");
    const o = stored();
    m.apply(o, "ADDED");
    const { status: _status, ...rest } = stored();
    const { managedFields: _managedFields, ...metadata } = rest.metadata;
    expect(m.get("x", "a")).toEqual({ ...rest, metadata });
    expect(o).not.toHaveProperty("status");
    expect(o.metadata).not.toHaveProperty("managedFields");
  });

  it("drops them from an object read from the API server too", () => {
    const m = new Mirror("v1", "Service");
    m.apply(stored(), "MODIFIED");
    expect(Object.keys(m.get("x", "a")!).sort()).toEqual(["apiVersion", "kind", "metadata", "spec"]);
  });
});

describe("identityOnly: what the settings ConfigMap watch keeps of each ConfigMap", () => {
  it("keeps the name, namespace, uid and resourceVersion, in the object the watch library holds, and drops the data", () => {
    const cm = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "dashboards",
        namespace: "monitoring",
        uid: "u1",
        resourceVersion: "42",
        labels: { grafana_dashboard: "1" },
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": "x".repeat(10_000) },
        managedFields: [{ manager: "kubectl" }],
      },
      data: { "big.json": "y".repeat(100_000) },
      binaryData: { "logo.png": "eQ==" },
      immutable: false,
    };
    const kept = identityOnly(cm);
    expect(kept).toBe(cm);
    expect(cm).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "dashboards", namespace: "monitoring", uid: "u1", resourceVersion: "42" },
    });
  });
});
