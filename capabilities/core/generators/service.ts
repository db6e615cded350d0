import type { V1Service } from "@kubernetes/client-node";
import type { WorkloadSettings } from "../workload";
import { type Owner, companionLabels, ownerReferences } from "./common";

/**
 * ClusterIP Service `<app>`; targetPort is the container port's name, so a renumbered container
 * follows. mlserver also exposes its gRPC inference port (SPEC §5).
 */
export function generateService(s: WorkloadSettings, targetPortName: string, owner?: Owner, grpcPortName = "grpc"): V1Service {
  const grpc =
    s.kind === "mlserver" ? [{ name: "grpc", port: s.grpcPort, targetPort: grpcPortName, protocol: "TCP", appProtocol: "grpc" }] : [];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: s.app, namespace: s.namespace, labels: companionLabels(s.app), ...ownerReferences(owner) },
    spec: {
      type: "ClusterIP",
      selector: { ...s.selector },
      ports: [{ name: "http", port: s.port, targetPort: targetPortName, protocol: "TCP", appProtocol: "http" }, ...grpc],
    },
  };
}
