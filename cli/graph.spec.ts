// `ai-workloads graph`: the seed example's Mermaid picture is a reviewed golden file.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "./main";

const SEED = "examples/mlserver-openai-librechat";
const GOLDEN = join(__dirname, "..", "test", "golden", "graph-seed.mmd");

function run(argv: string[], stdin = ""): { code: number; stdout: string; stderr: string } {
  let stdout = "";
  let stderr = "";
  const code = main(argv, { stdout: t => (stdout += t), stderr: t => (stderr += t), stdin: () => stdin });
  return { code, stdout, stderr };
}

/** A unified-style line diff (longest common subsequence): `-` golden, `+` actual. */
function lineDiff(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const lcs = a.map(() => new Array<number>(b.length + 1).fill(0));
  lcs.push(new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) (out.push(`  ${a[i++]}`), j++);
    else if (j < b.length && (i === a.length || lcs[i][j + 1] > lcs[i + 1][j])) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out.join("\n");
}

describe("ai-workloads graph -o mermaid on the seed example", () => {
  const r = run(["graph", "-f", SEED, "-o", "mermaid"]);

  it("exits 0 with nothing on stderr", () => {
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("matches the reviewed golden file test/golden/graph-seed.mmd", () => {
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, r.stdout);
    if (!existsSync(GOLDEN))
      throw new Error(`${GOLDEN} is missing: run UPDATE_GOLDEN=1 npx jest --selectProjects unit -- cli/graph and review it`);
    const golden = readFileSync(GOLDEN, "utf8");
    if (r.stdout !== golden) {
      throw new Error(
        `graph output differs from ${GOLDEN} (- golden, + now):\n${lineDiff(golden, r.stdout)}\n\n` +
          "If the change is intended: UPDATE_GOLDEN=1 npx jest --selectProjects unit -- cli/graph, then review `git diff test/golden`.",
      );
    }
  });

  it("is the default format", () => {
    expect(run(["graph", "-f", SEED]).stdout).toBe(r.stdout);
  });

  it("shows each routed path, and the app that has no route", () => {
    expect(r.stdout).toContain('-->|"/apps/runtime-openai"| svc_ai_runtime_openai');
    expect(r.stdout).toContain('-->|"/apps/librechat"| svc_ai_librechat\n');
    expect(r.stdout).not.toMatch(/-->\|[^|]*\| svc_ai_librechat_backend/);
    expect(r.stdout).toContain("no route from the gateway");
  });
});

describe("ai-workloads graph -o dot", () => {
  const r = run(["graph", "-f", SEED, "-o", "dot"]);

  it("is a Graphviz digraph with one cluster per namespace", () => {
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("digraph access {\n")).toBe(true);
    expect(r.stdout.endsWith("}\n")).toBe(true);
    expect(r.stdout).toContain('subgraph "cluster_ai" {');
    expect(r.stdout).toContain('"vs:ai/ai-workloads" -> "svc:ai/runtime-openai" [label="/apps/runtime-openai"];');
    expect(r.stdout).toContain('"app:ai/librechat" -> "svc:ai/librechat-backend" [label="upstream", style=dashed];');
    expect(r.stdout).toContain('label="runtime-openai\\nkind: mlserver\\npublic: /docs\\nJWT: required, same namespace exempt"');
  });

  it("does not depend on the order of the input documents", () => {
    const files = ["00-namespace.yaml", "10-runtime-openai.yaml", "20-librechat-backend.yaml", "30-librechat.yaml"].map(f => join(SEED, f));
    const reversed = run(["graph", ...files.reverse().flatMap(f => ["-f", f]), "-o", "dot"]);
    expect(reversed.stdout).toBe(r.stdout);
  });
});

describe("graph inputs and exit codes", () => {
  it.each(["json", "png", "table"])("rejects -o %s with exit 2", format => {
    const bad = run(["graph", "-f", SEED, "-o", format]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain(`-o must be mermaid or dot, not "${format}"`);
  });

  it("policy violations: exit 1, nothing on stdout", () => {
    const bad = `apiVersion: apps/v1
kind: Deployment
metadata: { name: model, labels: { ai-workloads.io/kind: mlserver }, annotations: { ai-workloads.io/port: "99999" } }
spec:
  selector: { matchLabels: { app: model } }
  template: { metadata: { labels: { app: model } }, spec: { containers: [{ name: main, image: img }] } }
`;
    const r = run(["graph", "-f", "-"], bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^default\/model: metadata\.annotations\[ai-workloads\.io\/port\]: /);
  });

  it("the line diff marks removed and added lines", () => {
    expect(lineDiff("a\nb\nc", "a\nx\nc")).toBe("  a\n- b\n+ x\n  c");
  });

  it("is listed in the usage", () => {
    expect(run(["--help"]).stdout).toContain("ai-workloads graph  -f <file|dir|->");
  });
});
