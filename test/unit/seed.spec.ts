// SPEC §9: what the seed example must render to, written out from the spec by hand.
import { parseAllDocuments } from "yaml";
import { runCli } from "./run-cli";

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: any };

const rendered = (): Obj[] => {
  const result = runCli(["render", "-f", "examples/mlserver-openai-librechat"]);
  expect(result.code).toBe(0);
  return parseAllDocuments(result.stdout).map(d => d.toJS() as Obj);
};

const names = (objs: Obj[], kind: string): string[] =>
  objs
    .filter(o => o.kind === kind)
    .map(o => o.metadata.name)
    .sort();

describe("seed example mlserver-openai-librechat (SPEC §9)", () => {
  const objs = rendered();
  const get = (kind: string, name: string): Obj => objs.find(o => o.kind === kind && o.metadata.name === name)!;
  const env = (deployment: string, name: string): string | undefined =>
    get("Deployment", deployment).spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === name)?.value;

  it("renders exactly the Namespace, 3 Deployments and the listed companions", () => {
    expect(objs.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Namespace/ai",
      "Deployment/runtime-openai",
      "Deployment/librechat-backend",
      "Deployment/librechat",
      "Service/librechat",
      "Service/librechat-backend",
      "Service/runtime-openai",
      "HorizontalPodAutoscaler/runtime-openai",
      "VirtualService/ai-workloads",
      "RequestAuthentication/ai-workloads-aad",
      "AuthorizationPolicy/ai-workloads-require-jwt",
      "AuthorizationPolicy/librechat-public",
      "AuthorizationPolicy/runtime-openai-public",
    ]);
    expect(objs.filter(o => o.kind !== "Namespace").every(o => o.metadata.namespace === "ai")).toBe(true);
  });

  it("gives the Services ports 8000, 3000 and 4180", () => {
    const port = (name: string): number => get("Service", name).spec.ports[0].port;
    expect([port("runtime-openai"), port("librechat-backend"), port("librechat")]).toEqual([8000, 3000, 4180]);
  });

  it("autoscales runtime-openai 1 to 10 at 60% CPU", () => {
    const hpa = get("HorizontalPodAutoscaler", "runtime-openai").spec;
    expect([hpa.minReplicas, hpa.maxReplicas, hpa.metrics[0].resource.target.averageUtilization]).toEqual([1, 10, 60]);
  });

  it("routes /apps/runtime-openai and /apps/librechat only", () => {
    const vs = get("VirtualService", "ai-workloads").spec;
    expect(vs.hosts).toEqual(["ai.example.com"]);
    expect(vs.gateways).toEqual(["istio-system/ai-workloads-gateway"]);
    expect(vs.http.map((r: { match: { uri: { exact?: string } }[] }) => r.match.find(m => m.uri.exact)?.uri.exact)).toEqual([
      "/apps/runtime-openai",
      "/apps/librechat",
    ]);
  });

  it("makes /docs public on runtime-openai and everything public on the oauth2-proxy", () => {
    expect(names(objs, "AuthorizationPolicy")).toEqual(["ai-workloads-require-jwt", "librechat-public", "runtime-openai-public"]);
    expect(get("AuthorizationPolicy", "runtime-openai-public").spec.rules).toEqual([{ to: [{ operation: { paths: ["/docs"] } }] }]);
    expect(get("AuthorizationPolicy", "librechat-public").spec.rules).toEqual([{ to: [{ operation: { paths: ["/*"] } }] }]);
  });

  it("points LibreChat at the MLServer's OpenAI API and oauth2-proxy at LibreChat", () => {
    expect(env("librechat-backend", "OPENAI_API_BASE")).toBe("http://runtime-openai.ai.svc.cluster.local:8000/v1");
    expect(env("librechat-backend", "OPENAI_REVERSE_PROXY")).toBe("http://runtime-openai.ai.svc.cluster.local:8000/v1");
    expect(get("Deployment", "librechat").spec.template.spec.containers[0].args).toContain(
      "--upstream=http://librechat-backend.ai.svc.cluster.local:3000",
    );
  });

  it("trusts both Entra ID issuers for the namespace", () => {
    const rules = get("RequestAuthentication", "ai-workloads-aad").spec.jwtRules;
    expect(rules.map((r: { issuer: string }) => r.issuer)).toEqual([
      "https://login.microsoftonline.com/8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01/v2.0",
      "https://sts.windows.net/8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01/",
    ]);
  });
});
