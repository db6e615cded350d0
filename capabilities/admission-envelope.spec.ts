// What Pepr gets for a malformed AdmissionReview body: something it can read without throwing
// (it answers 500 otherwise), while a well-formed review reaches it unchanged.
import express from "express";
import type { AddressInfo } from "node:net";
import { type JsonParsers, normalizeAdmissionBody, normalizeParsedBodies } from "./admission-envelope";

const EMPTY_REQUEST = { operation: "", kind: { group: "", version: "", kind: "" }, object: {}, oldObject: {} };

describe("normalizeAdmissionBody", () => {
  it.each([
    ["a number", { request: 5 }],
    ["a string", { request: "CREATE" }],
    ["true", { request: true }],
    ["null", { request: null }],
    ["an array", { request: [1, 2] }],
    ["missing", { apiVersion: "admission.k8s.io/v1" }],
  ])("gives a request that is %s an empty one", (_, body) => {
    expect(normalizeAdmissionBody(body).request).toEqual(EMPTY_REQUEST);
  });

  it.each([
    ["an array", [{ request: {} }]],
    ["a string", "review"],
    ["null", null],
  ])("gives a body that is %s an empty request", (_, body) => {
    expect(normalizeAdmissionBody(body)).toEqual({ request: EMPTY_REQUEST });
  });

  it("fills only the fields that are missing or not of their type", () => {
    const body = { request: { uid: "u", operation: 7, kind: "Deployment", object: { metadata: { name: "a" } }, oldObject: null } };
    expect(normalizeAdmissionBody(body)).toEqual({
      request: { uid: "u", operation: "", kind: EMPTY_REQUEST.kind, object: { metadata: { name: "a" } }, oldObject: {} },
    });
  });

  it("leaves a well-formed UPDATE review as it is", () => {
    const review = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u",
        operation: "UPDATE",
        kind: { group: "apps", version: "v1", kind: "Deployment" },
        object: { metadata: { name: "a", labels: { "ai-workloads.io/kind": "mlserver" } } },
        oldObject: { metadata: { name: "a" } },
      },
    };
    expect(normalizeAdmissionBody(structuredClone(review))).toEqual(review);
  });
});

describe("normalizeParsedBodies", () => {
  // A real express app whose json() is the wrapped one, as Pepr's controller gets it.
  async function post(body: string): Promise<{ status: number; seen?: unknown }> {
    const parsers = { json: express.json };
    // Our type of json() is only what the wrapper needs; express's own is wider.
    normalizeParsedBodies(parsers as unknown as JsonParsers);
    const app = express();
    app.use(parsers.json({ limit: "2mb" }));
    let seen: unknown;
    app.post("/mutate", (req, res) => {
      seen = req.body;
      res.send("ok");
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise(r => server.once("listening", r));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/mutate`, { method: "POST", headers: { "content-type": "application/json" }, body });
      await res.text();
      return { status: res.status, seen };
    } finally {
      server.close();
    }
  }

  it("hands the route an empty request for a body whose request is a bare value", async () => {
    expect(await post('{"request": 42}')).toEqual({ status: 200, seen: { request: EMPTY_REQUEST } });
  });

  it("hands the route a parsed review with its fields", async () => {
    const review = {
      request: { uid: "u", operation: "CREATE", kind: { group: "apps", version: "v1", kind: "Deployment" }, object: {}, oldObject: {} },
    };
    expect(await post(JSON.stringify(review))).toEqual({ status: 200, seen: review });
  });

  it("keeps the parser's own 400 for a body that is not JSON (the route is not reached)", async () => {
    expect(await post("{not json")).toEqual({ status: 400, seen: undefined });
  });
});
