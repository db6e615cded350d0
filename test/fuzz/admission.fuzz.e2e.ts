// Bad admission input, sent over HTTPS straight to the real admission controller (the built module,
// served by hack/e2e/run.mjs), on both /mutate/<api path> and /validate/<api path>:
//   - never a 5xx, never a crash or restart (same pid, /healthz ok);
//   - every denial and warning line in the SPEC §6.3 form `<ns>/<name>: <field>: <what>; <fix>`;
//   - every patch applies cleanly (fast-json-patch, operations validated), and when the input was a
//     schema-valid Deployment the patched one is schema-valid too (kubernetes-models apps/v1).
// Run with `npm run test:fuzz` (fixed seed) or `npm run test:fuzz -- --seed <n> [--runs <n>]`.
import fc from "fast-check";
import { applyPatch, deepClone, type Operation } from "fast-json-patch";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { Deployment } from "kubernetes-models/apps/v1";
import { controllerRunning, healthz, state, type ControllerState } from "../e2e/harness";
import { oneLine } from "../../capabilities/core/problems";
import { admissionInput, type FuzzReview } from "./generators";

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const BIG_BYTES = 1.5 * 1024 * 1024;

jest.setTimeout(30 * 60_000);

interface Answer {
  status: number;
  body: string;
}

function post(c: ControllerState, path: string, body: string): Promise<Answer> {
  const s = state();
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: c.port,
        path,
        method: "POST",
        ca: readFileSync(s.tls.ca),
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 30_000,
      },
      res => {
        const chunks: Buffer[] = [];
        res.on("data", d => chunks.push(d));
        res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`no answer to POST ${path} within 30 s`)));
    req.end(body);
  });
}

const pidOf = (c: ControllerState): number => Number(readFileSync(c.pidFile, "utf8").trim());

/** `<subject>: <field>: <what>; <fix>` on one line; the subject is the object the request was about. */
const LINE = /^(warning: )?(.+?): (\S.*?): (.+); (.+)$/;

type Review = NonNullable<FuzzReview["review"]>;
type Obj = { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };

/** The `<ns>/<name>` (or `namespace/<name>`) a message about this request must start with. */
function subject(review: Review): string | undefined {
  const req = review.request;
  const obj = (req?.object ?? {}) as Obj;
  const name = obj?.metadata?.name;
  if (typeof name !== "string") return undefined;
  if (req?.kind?.kind === "Namespace") return oneLine(`namespace/${name}`);
  const ns =
    typeof req?.namespace === "string" && req.namespace !== ""
      ? req.namespace
      : typeof obj.metadata?.namespace === "string"
        ? obj.metadata.namespace
        : "default";
  return oneLine(`${ns}/${name}`);
}

function schemaValid(o: unknown): boolean {
  try {
    new Deployment(o as never).validate();
    return true;
  } catch {
    return false;
  }
}

const stats = {
  requests: 0,
  byLabel: {} as Record<string, number>,
  status: {} as Record<string, number>,
  denied: 0,
  warned: 0,
  patched: 0,
  patchedSchemaChecked: 0,
  maxBytes: 0,
};

/** Every check on one answer; returns the failures (empty: fine). */
function check(kind: "mutate" | "validate", input: FuzzReview, a: Answer): string[] {
  const failures: string[] = [];
  stats.status[a.status] = (stats.status[a.status] ?? 0) + 1;
  if (a.status >= 500) return [`${kind}: HTTP ${a.status}: ${a.body.slice(0, 300)}`];
  if (a.status !== 200 || !input.review) return failures;
  let answer: {
    response?: { uid?: unknown; allowed?: boolean; status?: { message?: string }; patch?: string; patchType?: string; warnings?: string[] };
  };
  try {
    answer = JSON.parse(a.body);
  } catch {
    return [`${kind}: HTTP 200 without a JSON body: ${a.body.slice(0, 200)}`];
  }
  const r = answer.response;
  if (!r) return [`${kind}: no response in ${a.body.slice(0, 200)}`];
  const want = subject(input.review);
  const lineOk = (line: string, warning: boolean): string | undefined => {
    const m = LINE.exec(line);
    if (!m) return `${kind}: not in the §6.3 form: ${JSON.stringify(line)}`;
    if (Boolean(m[1]) !== warning)
      return `${kind}: ${warning ? "warning without" : "denial with"} the "warning: " prefix: ${JSON.stringify(line)}`;
    if (want !== undefined && !line.startsWith(`${warning ? "warning: " : ""}${want}: `))
      return `${kind}: subject is not ${JSON.stringify(want)}: ${JSON.stringify(line)}`;
    return undefined;
  };
  if (r.allowed === false) {
    stats.denied++;
    const message = r.status?.message ?? "";
    if (message === "") failures.push(`${kind}: denial without a message`);
    for (const line of message.split("\n")) {
      const f = lineOk(line, false);
      if (f) failures.push(f);
    }
  }
  for (const w of r.warnings ?? []) {
    stats.warned++;
    for (const line of w.split("\n")) {
      const f = lineOk(line, true);
      if (f) failures.push(f);
    }
  }
  if (r.patch) {
    stats.patched++;
    if (kind === "validate") failures.push("validate: answered with a patch");
    const ops = JSON.parse(Buffer.from(r.patch, "base64").toString("utf8")) as Operation[];
    const original = input.review.request?.object;
    let patched: unknown;
    try {
      patched = applyPatch(deepClone(original), ops, true, false).newDocument;
    } catch (e) {
      failures.push(`${kind}: the patch does not apply: ${e instanceof Error ? e.message : e}: ${JSON.stringify(ops).slice(0, 300)}`);
    }
    if (patched !== undefined && (original as Obj)?.kind === "Deployment" && schemaValid(original)) {
      stats.patchedSchemaChecked++;
      try {
        new Deployment(patched as never).validate();
      } catch (e) {
        failures.push(`${kind}: the patched Deployment fails the schema: ${e instanceof Error ? e.message : e}`);
      }
    }
  }
  return failures;
}

describe(`admission fuzz (seed ${SEED}, ${RUNS} inputs, each to /mutate and /validate)`, () => {
  it("never answers 5xx or crashes; denials are §6.3 lines; patches apply and stay schema-valid", async () => {
    const s = state();
    const c = s.controllers.find(x => x.role === "admission")!;
    const pid = pidOf(c);
    expect(controllerRunning(c)).toBe(true);
    expect(await healthz(c)).toBe(true);

    // fc.sample, not fc.assert: every input is sent (no stop at the first failure, no shrinking of
    // 1.5 MiB bodies), and each failure is reported with the start of its input.
    const inputs = fc.sample(admissionInput(BIG_BYTES), { seed: SEED, numRuns: RUNS });
    const failures: string[] = [];
    let n = 0;
    for (const input of inputs) {
      n++;
      stats.byLabel[input.label] = (stats.byLabel[input.label] ?? 0) + 1;
      stats.maxBytes = Math.max(stats.maxBytes, Buffer.byteLength(input.body));
      const found: string[] = [];
      for (const kind of ["mutate", "validate"] as const) {
        stats.requests++;
        const a = await post(c, `/${kind}/${s.apiPath}`, input.body);
        found.push(...check(kind, input, a));
      }
      if (!controllerRunning(c) || pidOf(c) !== pid) found.push(`the admission process died or was replaced (pid ${pid} -> ${pidOf(c)})`);
      if (n % 25 === 0 && !(await healthz(c))) found.push("/healthz does not answer 200");
      for (const f of found) failures.push(`#${n} [${input.label}] ${f.slice(0, 400)}\n    input: ${input.body.slice(0, 300)}`);
    }
    console.log(`admission fuzz: seed ${SEED}, ${n} inputs, ${JSON.stringify(stats)}`);
    if (failures.length > 0) console.log(`${failures.length} failures:\n${failures.slice(0, 40).join("\n")}`);
    expect(failures).toEqual([]);
    expect(controllerRunning(c)).toBe(true);
    expect(pidOf(c)).toBe(pid);
    expect(await healthz(c)).toBe(true);
  });
});
