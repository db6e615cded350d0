import type { V1Container } from "@kubernetes/client-node";
import type { WorkloadSettings } from "../workload";
import { LIVENESS, READINESS, ensureEnv, ensureNamedPort, ensureProbe, httpProbe } from "./container";

export function applyLibrechatDefaults(c: V1Container, s: WorkloadSettings): void {
  const http = ensureNamedPort(c, s.port, "http");
  ensureEnv(c, { name: "PORT", value: String(s.port) });
  ensureEnv(c, { name: "HOST", value: "0.0.0.0" });
  if (s.openaiBackend) {
    // LibreChat reads OPENAI_REVERSE_PROXY; OPENAI_API_BASE is kept for the seed chart's users.
    ensureEnv(c, { name: "OPENAI_REVERSE_PROXY", value: s.openaiBackend });
    ensureEnv(c, { name: "OPENAI_API_BASE", value: s.openaiBackend });
  }
  if (http) {
    ensureProbe(c, "livenessProbe", httpProbe("/health", http, LIVENESS));
    ensureProbe(c, "readinessProbe", httpProbe("/health", http, READINESS));
    // LibreChat serves /health only once its database is connected: liveness waits for that.
    ensureProbe(c, "startupProbe", httpProbe("/health", http, { periodSeconds: 10, failureThreshold: 30 }));
  }
}
