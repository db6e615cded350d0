// Pepr 1.1.4 reads `operation.toUpperCase()`, `kind.version` and the request object before any
// binding runs, so an AdmissionReview missing those (the API server never sends one, but anything
// that reaches the port can) made the controller answer 500. This beforeHook (it gets the very
// request object Pepr then processes) gives such envelopes harmless values: they match no binding
// and are answered 200 (allowed, no patch), as Pepr answers every request it has no binding for.
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function normalizeAdmissionRequest(request: unknown): void {
  // A primitive `request` (a string, a number, true) cannot be repaired in place: Pepr still answers 500.
  if (typeof request !== "object" || request === null) return;
  const r = request as Record<string, unknown>;
  if (typeof r.operation !== "string") r.operation = "";
  if (!isObject(r.kind)) r.kind = { group: "", version: "", kind: "" };
  if (!isObject(r.object)) r.object = {};
  if (!isObject(r.oldObject)) r.oldObject = {};
}
