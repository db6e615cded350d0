import { describe, expect, it } from "@jest/globals";
import type { WorkloadSettings } from "../workload";
import { generateService } from "./service";
import { workloadSettings } from "../testing";

const settings = (over: Partial<Omit<WorkloadSettings, "ns">> = {}): WorkloadSettings =>
  workloadSettings(
    "mlserver",
    { app: "runtime-openai", profile: {}, ...over },
    { host: undefined, gateway: undefined, tenantId: undefined },
  );

describe("generateService", () => {
  it("gives a ClusterIP Service <app> on the app port named http, targetPort http, appProtocol http", () => {
    expect(generateService(settings(), "http")).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "runtime-openai",
        namespace: "ai",
        labels: { "app.kubernetes.io/managed-by": "ai-workloads", "ai-workloads.io/app": "runtime-openai" },
      },
      spec: {
        type: "ClusterIP",
        selector: { app: "runtime-openai" },
        ports: [
          { name: "http", port: 8000, targetPort: "http", protocol: "TCP", appProtocol: "http" },
          // MLServer always serves gRPC inference too.
          { name: "grpc", port: 8081, targetPort: "grpc", protocol: "TCP", appProtocol: "grpc" },
        ],
      },
    });
  });

  it("has no ownerReferences without an owner (offline render)", () => {
    expect(generateService(settings(), "http").metadata).not.toHaveProperty("ownerReferences");
  });

  it("carries a controller ownerReference to its Deployment when the owner is known", () => {
    expect(
      generateService(settings(), "http", { name: "runtime-openai", uid: "0c7a4b1e-1111-2222-3333-444455556666" }).metadata
        ?.ownerReferences,
    ).toEqual([
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "runtime-openai",
        uid: "0c7a4b1e-1111-2222-3333-444455556666",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it("uses the librechat port 3000 for a librechat app", () => {
    const svc = generateService(
      settings({ app: "librechat-backend", kind: "librechat", port: 3000, selector: { app: "librechat-backend" } }),
      "http",
    );
    expect(svc.metadata?.name).toBe("librechat-backend");
    expect(svc.spec?.ports).toEqual([{ name: "http", port: 3000, targetPort: "http", protocol: "TCP", appProtocol: "http" }]);
  });

  it("targets the container port by the name it is given", () => {
    expect(generateService(settings(), "web").spec?.ports?.[0].targetPort).toBe("web");
  });

  it("selects the pods by every matchLabel of the Deployment", () => {
    expect(generateService(settings({ selector: { app: "m", tier: "ml" } }), "http").spec?.selector).toEqual({ app: "m", tier: "ml" });
  });

  it("does not share the selector object with the settings", () => {
    const s = settings();
    const svc = generateService(s, "http");
    svc.spec!.selector!.app = "changed";
    expect(s.selector).toEqual({ app: "runtime-openai" });
  });

  it("is placed in the app's namespace", () => {
    expect(generateService(settings({ namespace: "team" }), "http").metadata?.namespace).toBe("team");
  });
});
