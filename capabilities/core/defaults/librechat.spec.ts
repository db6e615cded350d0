import { describe, expect, it } from "@jest/globals";
import type { V1Container } from "@kubernetes/client-node";
import type { V1Deployment } from "../types";
import type { WorkloadSettings } from "../workload";
import { applyDefaults } from "./index";
import { applyLibrechatDefaults } from "./librechat";
import { workloadSettings } from "../testing";

const BACKEND = "http://runtime-openai.ai.svc.cluster.local:8000/v1";

const settings = ({ ns, kind: _kind, ...over }: Partial<WorkloadSettings> = {}): WorkloadSettings =>
  workloadSettings("librechat", { profile: {}, ...over }, { host: undefined, gateway: undefined, tenantId: undefined, ...ns });

const container = (over: Partial<V1Container> = {}): V1Container => ({
  name: "chat",
  image: "ghcr.io/danny-avila/librechat:v0.8.0",
  ...over,
});

function run(c: V1Container, over: Partial<WorkloadSettings> = {}): V1Container {
  const copy = structuredClone(c);
  applyLibrechatDefaults(copy, settings(over));
  return copy;
}

function deployment(c: V1Container): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "chat", namespace: "ai", labels: { "ai-workloads.io/kind": "librechat" } },
    spec: { selector: { matchLabels: { app: "chat" } }, template: { metadata: { labels: { app: "chat" } }, spec: { containers: [c] } } },
  };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object") {
    Object.values(o as object).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}

const LIVE = { httpGet: { path: "/health", port: "http" }, initialDelaySeconds: 10, periodSeconds: 15, timeoutSeconds: 2 };
const READY = { httpGet: { path: "/health", port: "http" }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2 };
// /health appears only once LibreChat's database is connected: liveness waits for it.
const STARTUP = { httpGet: { path: "/health", port: "http" }, periodSeconds: 10, failureThreshold: 30 };

describe("librechat defaults", () => {
  it("fills a bare container without a backend: port http, PORT, HOST, /health probes", () => {
    expect(run(container())).toEqual({
      name: "chat",
      image: "ghcr.io/danny-avila/librechat:v0.8.0",
      ports: [{ name: "http", containerPort: 3000 }],
      env: [
        { name: "PORT", value: "3000" },
        { name: "HOST", value: "0.0.0.0" },
      ],
      livenessProbe: LIVE,
      readinessProbe: READY,
      startupProbe: STARTUP,
    });
  });

  it("sets OPENAI_REVERSE_PROXY and OPENAI_API_BASE to the backend URL when a backend is given", () => {
    expect(run(container(), { openaiBackend: BACKEND }).env).toEqual([
      { name: "PORT", value: "3000" },
      { name: "HOST", value: "0.0.0.0" },
      { name: "OPENAI_REVERSE_PROXY", value: BACKEND },
      { name: "OPENAI_API_BASE", value: BACKEND },
    ]);
  });

  it("sets no OpenAI env without a backend", () => {
    const names = (run(container()).env ?? []).map(e => e.name);
    expect(names).not.toContain("OPENAI_REVERSE_PROXY");
    expect(names).not.toContain("OPENAI_API_BASE");
  });

  it("follows the annotated port in the container port and PORT", () => {
    const c = run(container(), { port: 3080 });
    expect(c.ports).toEqual([{ name: "http", containerPort: 3080 }]);
    expect(c.env).toContainEqual({ name: "PORT", value: "3080" });
  });

  it("keeps the user's OPENAI_API_BASE and still adds OPENAI_REVERSE_PROXY", () => {
    const mine = { name: "OPENAI_API_BASE", value: "https://elsewhere.example.com/v1" };
    const env = run(container({ env: [mine] }), { openaiBackend: BACKEND }).env ?? [];
    expect(env.filter(e => e.name === "OPENAI_API_BASE")).toEqual([mine]);
    expect(env).toContainEqual({ name: "OPENAI_REVERSE_PROXY", value: BACKEND });
  });

  it("keeps the user's PORT and HOST", () => {
    const env = run(
      container({
        env: [
          { name: "HOST", value: "127.0.0.1" },
          { name: "PORT", value: "3080" },
        ],
      }),
    ).env;
    expect(env).toEqual([
      { name: "HOST", value: "127.0.0.1" },
      { name: "PORT", value: "3080" },
    ]);
  });

  it("keeps a user env var given from a Secret", () => {
    const mongo = { name: "MONGO_URI", valueFrom: { secretKeyRef: { name: "mongo", key: "uri" } } };
    expect(run(container({ env: [mongo] })).env?.[0]).toEqual(mongo);
  });

  it('keeps a user port named "web" on the app port and points the probes at "web"', () => {
    const c = run(container({ ports: [{ name: "web", containerPort: 3000 }] }));
    expect(c.ports).toEqual([{ name: "web", containerPort: 3000 }]);
    expect(c.livenessProbe?.httpGet?.port).toBe("web");
    expect(c.readinessProbe?.httpGet?.port).toBe("web");
  });

  it("keeps the user's readiness probe", () => {
    const mine = { httpGet: { path: "/api/health", port: "http" }, periodSeconds: 3 };
    const c = run(container({ readinessProbe: mine }));
    expect(c.readinessProbe).toEqual(mine);
    expect(c.livenessProbe).toEqual(LIVE);
  });

  it("adds no command or args", () => {
    const c = run(container());
    expect(c.command).toBeUndefined();
    expect(c.args).toBeUndefined();
  });

  it("does not mutate the input Deployment (applyDefaults)", () => {
    const input = deployment(container());
    const copy = structuredClone(input);
    deepFreeze(input);
    applyDefaults(input, settings({ openaiBackend: BACKEND }));
    expect(input).toEqual(copy);
  });

  it("applying the defaults twice equals applying them once", () => {
    const once = applyDefaults(deployment(container()), settings({ openaiBackend: BACKEND }));
    expect(applyDefaults(once, settings({ openaiBackend: BACKEND }))).toEqual(once);
  });
});
