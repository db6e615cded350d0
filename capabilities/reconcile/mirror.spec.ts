// The watch's copy of one kind: the newest version per object, in the order of the stream.
import { Mirror } from "./mirror";

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
