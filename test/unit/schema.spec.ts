// Every object the CLI prints for the examples validates against the published schemas:
// kubernetes-models for core kinds, @kubernetes-models/istio for the Istio kinds.
import { Namespace, Service } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1";
import { AuthorizationPolicy, RequestAuthentication } from "@kubernetes-models/istio/security.istio.io/v1";
import { parseAllDocuments } from "yaml";
import { EXAMPLES } from "./examples";
import { runCli } from "./run-cli";

type Model = { validate(): void };
const MODELS: Record<string, (o: any) => Model> = {
  "v1/Namespace": o => new Namespace(o),
  "v1/Service": o => new Service(o),
  "apps/v1/Deployment": o => new Deployment(o),
  "autoscaling/v2/HorizontalPodAutoscaler": o => new HorizontalPodAutoscaler(o),
  "networking.istio.io/v1/VirtualService": o => new VirtualService(o),
  "security.istio.io/v1/RequestAuthentication": o => new RequestAuthentication(o),
  "security.istio.io/v1/AuthorizationPolicy": o => new AuthorizationPolicy(o),
};

describe("every rendered object passes its schema", () => {
  const cases = EXAMPLES.flatMap(({ name, args }) => {
    const { stdout } = runCli(["render", ...args]);
    return parseAllDocuments(stdout).map(d => {
      const o = d.toJS();
      return { id: `${name}: ${o.kind}/${o.metadata.name}`, o };
    });
  });

  it("covers every example", () => {
    expect(new Set(cases.map(c => c.id.split(":")[0]))).toEqual(new Set(EXAMPLES.map(e => e.name)));
  });

  it.each(cases)("$id", ({ o }) => {
    const model = MODELS[`${o.apiVersion}/${o.kind}`];
    expect(model).toBeDefined();
    expect(() => model(o).validate()).not.toThrow();
  });

  it("rejects a broken object, so the check can fail", () => {
    expect(() => new VirtualService({ metadata: { name: "x" }, spec: { http: [{ route: "nope" }] } } as any).validate()).toThrow();
  });
});
