// Pepr 1.1.4 reads `body.request`, then `request.operation.toUpperCase()`, `request.kind.version`
// and the request object before any binding or hook of ours runs, so a body without those (the API
// server never sends one, but anything that reaches the port can) made the controller answer 500.
// Every body is given harmless values for them as it is parsed: such a request matches no binding
// and is answered 200 (allowed, no patch), as Pepr answers every request it has no binding for.
// Pepr's beforeHook cannot do this: it gets `request` itself, which may be a string or a number.
import { createRequire } from "node:module";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The body Pepr gets: the parsed one, with what Pepr reads before any module code made readable. */
export function normalizeAdmissionBody(body: unknown): Record<string, unknown> {
  const review = isObject(body) ? body : {};
  const request = isObject(review.request) ? review.request : {};
  review.request = request;
  if (typeof request.operation !== "string") request.operation = "";
  if (!isObject(request.kind)) request.kind = { group: "", version: "", kind: "" };
  if (!isObject(request.object)) request.object = {};
  if (!isObject(request.oldObject)) request.oldObject = {};
  return review;
}

type Next = (err?: unknown) => void;
type Middleware = (req: { body?: unknown }, res: unknown, next: Next) => void;
export interface JsonParsers {
  json(options?: unknown): Middleware;
}

/**
 * Makes `json()` of this express (Pepr's, which calls it once when its controller is constructed)
 * return a parser that normalizes what it parsed. A body that is not JSON still gets the parser's
 * own 4xx answer.
 */
export function normalizeParsedBodies(express: JsonParsers): void {
  const json = express.json.bind(express);
  express.json = options => {
    const parse = json(options);
    return (req, res, next) =>
      parse(req, res, err => {
        if (err === undefined) req.body = normalizeAdmissionBody(req.body);
        next(err);
      });
  };
}

/** The express instance Pepr itself loads (not a copy of our own): the one whose parser Pepr uses. */
export const peprExpress = (): JsonParsers => createRequire(require.resolve("pepr"))("express") as JsonParsers;
