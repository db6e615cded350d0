// `ai-workloads access`: the SPEC §11 format for the seed example, the output formats, and
// render's inputs and exit codes (1 policy violations, 2 bad input or usage).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "./main";

const SEED = "examples/mlserver-openai-librechat";

function run(argv: string[], stdin = ""): { code: number; stdout: string; stderr: string } {
  let stdout = "";
  let stderr = "";
  const code = main(argv, { stdout: t => (stdout += t), stderr: t => (stderr += t), stdin: () => stdin });
  return { code, stdout, stderr };
}

const row = (app: string, path: string, caller: string, outcome: string, decidedBy: string) => ({
  namespace: "ai",
  app,
  path,
  caller,
  outcome,
  decidedBy,
});
const JWT = "AuthorizationPolicy ai/ai-workloads-require-jwt";

describe("ai-workloads access -o json on the seed example", () => {
  const r = run(["access", "-f", SEED, "-o", "json"]);

  it("exits 0 with nothing on stderr", () => {
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("is the SPEC §11 AccessMatrix, rows in order", () => {
    expect(JSON.parse(r.stdout)).toEqual({
      apiVersion: "ai-workloads.io/v1",
      kind: "AccessMatrix",
      rows: [
        row("librechat", "/", "internet", "allow", "AuthorizationPolicy ai/librechat-public"),
        row("librechat", "/", "internet+jwt", "allow", JWT),
        row("librechat", "/", "same-namespace", "allow", JWT),
        row("librechat", "/", "other-namespace", "allow", "AuthorizationPolicy ai/librechat-public"),
        row("librechat", "/*", "internet", "allow", "AuthorizationPolicy ai/librechat-public"),
        row("librechat", "/*", "internet+jwt", "allow", JWT),
        row("librechat", "/*", "same-namespace", "allow", JWT),
        row("librechat", "/*", "other-namespace", "allow", "AuthorizationPolicy ai/librechat-public"),
        row("librechat-backend", "/", "internet", "not-routed", "no route"),
        row("librechat-backend", "/", "internet+jwt", "not-routed", "no route"),
        row("librechat-backend", "/", "same-namespace", "allow", JWT),
        row("librechat-backend", "/", "other-namespace", "deny", JWT),
        row("runtime-openai", "/", "internet", "deny", JWT),
        row("runtime-openai", "/", "internet+jwt", "allow", JWT),
        row("runtime-openai", "/", "same-namespace", "allow", JWT),
        row("runtime-openai", "/", "other-namespace", "deny", JWT),
        row("runtime-openai", "/docs", "internet", "allow", "AuthorizationPolicy ai/runtime-openai-public"),
        row("runtime-openai", "/docs", "internet+jwt", "allow", JWT),
        row("runtime-openai", "/docs", "same-namespace", "allow", JWT),
        row("runtime-openai", "/docs", "other-namespace", "allow", "AuthorizationPolicy ai/runtime-openai-public"),
      ],
    });
  });

  it("keeps the SPEC's key order in every row", () => {
    expect(Object.keys(JSON.parse(r.stdout).rows[0])).toEqual(["namespace", "app", "path", "caller", "outcome", "decidedBy"]);
  });

  it("is deterministic byte for byte", () => {
    expect(run(["access", "-f", SEED, "-o", "json"]).stdout).toBe(r.stdout);
  });
});

describe("output formats", () => {
  it("table is the default: a header and aligned columns", () => {
    const t = run(["access", "-f", SEED]);
    expect(t.code).toBe(0);
    expect(t.stdout).toBe(run(["access", "-f", SEED, "-o", "table"]).stdout);
    const lines = t.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(21);
    expect(lines[0]).toMatch(/^NAMESPACE {3}APP {17}PATH {4}CALLER {12}OUTCOME {6}DECIDED BY$/);
    expect(lines).toContain("ai          librechat-backend   /       internet          not-routed   no route");
  });

  it("markdown is a GitHub table, one line per app path", () => {
    const md = run(["access", "-f", SEED, "-o", "markdown"]);
    expect(md.code).toBe(0);
    const lines = md.stdout.split("\n");
    expect(lines[0]).toBe("| namespace | app | path | internet | internet+jwt | same-namespace | other-namespace |");
    expect(lines).toContain(
      "| ai | runtime-openai | `/` | deny `ai/ai-workloads-require-jwt` | allow `ai/ai-workloads-require-jwt` | allow `ai/ai-workloads-require-jwt` | deny `ai/ai-workloads-require-jwt` |",
    );
    expect(lines.filter(l => l.startsWith("| ai |"))).toHaveLength(5);
  });

  it.each(["yaml", "mermaid", "JSON"])("rejects -o %s with exit 2", format => {
    const bad = run(["access", "-f", SEED, "-o", format]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain(`-o must be table, json or markdown, not "${format}"`);
  });
});

describe("inputs and exit codes, as render", () => {
  const dir = mkdtempSync(join(tmpdir(), "aiw-access-"));

  it("policy violations: exit 1, nothing on stdout, one §6.3 line each on stderr", () => {
    const bad = `apiVersion: apps/v1
kind: Deployment
metadata: { name: model, namespace: team, labels: { ai-workloads.io/kind: tensorflow } }
spec:
  selector: { matchLabels: { app: model } }
  template: { metadata: { labels: { app: model } }, spec: { containers: [{ name: main, image: img }] } }
`;
    const r = run(["access", "-f", "-"], bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^team\/model: metadata\.labels\[ai-workloads\.io\/kind\]: "tensorflow" is not a known kind; use one of mlserver, librechat, oauth2-proxy\n$/,
    );
  });

  it("unreadable input: exit 2", () => {
    const r = run(["access", "-f", join(dir, "missing.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing\.yaml: cannot read/);
  });

  it("a YAML syntax error: exit 2 with file and line", () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: Namespace\nmetadata: { name: [oops\n");
    const r = run(["access", "-f", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:\d+: YAML syntax error/);
  });

  it("warnings go to stderr without changing the exit code", () => {
    const librechat = `apiVersion: apps/v1
kind: Deployment
metadata: { name: chat, labels: { ai-workloads.io/kind: librechat } }
spec:
  selector: { matchLabels: { app: chat } }
  template: { metadata: { labels: { app: chat } }, spec: { containers: [{ name: main, image: img }] } }
`;
    const r = run(["access", "-f", "-", "-n", "team", "-o", "json"], librechat);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: team\/chat: /);
    // No Istio settings at all: no route, no policy.
    expect(JSON.parse(r.stdout).rows.map((x: { outcome: string }) => x.outcome)).toEqual(["not-routed", "not-routed", "allow", "allow"]);
  });

  it("--config supplies the cluster config", () => {
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      "istio: { host: ai.example.com, gateway: istio-system/gw }\naad: { tenantId: 8f1c4e9a-7d49-4a7a-9a5b-2d4f2e6b9c01, apiAudience: api://3b3c6b2c-1a2d-4e6a-9f22-03f2e7c1d8ab, requestAuth: true, requireJwt: true, allowSameNamespace: false }\n",
    );
    const model = `apiVersion: apps/v1
kind: Deployment
metadata: { name: model, labels: { ai-workloads.io/kind: mlserver } }
spec:
  selector: { matchLabels: { app: model } }
  template: { metadata: { labels: { app: model } }, spec: { containers: [{ name: main, image: img }] } }
`;
    const r = run(["access", "-f", "-", "-n", "team", "--config", config, "-o", "json"], model);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).rows.map((x: { caller: string; outcome: string }) => `${x.caller}=${x.outcome}`)).toEqual([
      "internet=deny",
      "internet+jwt=allow",
      "same-namespace=deny",
      "other-namespace=deny",
    ]);
  });

  it("an invalid --config value is a violation (exit 1)", () => {
    const config = join(dir, "bad-config.yaml");
    writeFileSync(config, "istio: { basePath: not-a-path }\n");
    const r = run(["access", "-f", SEED, "--config", config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
  });

  it("is listed in the usage", () => {
    expect(run(["--help"]).stdout).toContain("ai-workloads access -f <file|dir|->");
  });
});
