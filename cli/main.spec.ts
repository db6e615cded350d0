// The CLI contract of SPEC §8: inputs, output formats, exit codes and where messages go.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { runCli } from "../test/unit/run-cli";

const deployment = (name: string, extra: { labels?: object; annotations?: object; namespace?: string } = {}): string => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${extra.namespace ? `  namespace: ${extra.namespace}\n` : ""}  labels: ${JSON.stringify(extra.labels ?? { "ai-workloads.io/kind": "mlserver" })}
  annotations: ${JSON.stringify(extra.annotations ?? {})}
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [{ name: main, image: "img:1" }] }
`;

const tmp = (): string => mkdtempSync(join(tmpdir(), "aiw-cli-"));
const kinds = (yamlText: string): string[] => parseAllDocuments(yamlText).map(d => `${d.toJS().kind}/${d.toJS().metadata.name}`);

describe("ai-workloads render", () => {
  it("reads stdin with -f - and gives namespaced objects the -n namespace", () => {
    const r = runCli(["render", "-f", "-", "-n", "team"], deployment("model"));
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.stdout).map(d => d.toJS());
    expect(docs.map(d => d.metadata.namespace)).toEqual(["team", "team", "team"]);
    expect(kinds(r.stdout)).toEqual(["Deployment/model", "Service/model", "HorizontalPodAutoscaler/model"]);
  });

  it("uses namespace default when -n is not given", () => {
    const r = runCli(["render", "-f", "-"], deployment("model"));
    expect(parseAllDocuments(r.stdout)[0].toJS().metadata.namespace).toBe("default");
  });

  it("prints one v1 List with -o json", () => {
    const r = runCli(["render", "-f", "-", "-o", "json"], deployment("model"));
    const list = JSON.parse(r.stdout);
    expect([list.apiVersion, list.kind, list.items.length]).toEqual(["v1", "List", 3]);
  });

  it("expands kind: List documents and passes other objects through unchanged", () => {
    const input = JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "x" }, data: { a: "1" } }],
    });
    const r = runCli(["render", "-f", "-"], input);
    expect(r.code).toBe(0);
    expect(parseAllDocuments(r.stdout).map(d => d.toJS())).toEqual([
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "x" }, data: { a: "1" } },
    ]);
  });

  it("reads directories recursively in name order, taking only manifest files", () => {
    const dir = tmp();
    mkdirSync(join(dir, "a"));
    writeFileSync(join(dir, "b.yaml"), deployment("second", { namespace: "n" }));
    writeFileSync(join(dir, "a", "z.yml"), deployment("first", { namespace: "n" }));
    writeFileSync(join(dir, "notes.txt"), "not yaml: [");
    const r = runCli(["render", "-f", dir]);
    expect(r.code).toBe(0);
    expect(kinds(r.stdout).slice(0, 2)).toEqual(["Deployment/first", "Deployment/second"]);
  });

  it("exits 1 with every violation on stderr in the §6.3 format and nothing on stdout", () => {
    const r = runCli(
      ["render", "-f", "-", "-n", "team"],
      deployment("model", { annotations: { "ai-workloads.io/port": "http", "ai-workloads.io/autoscale": "5-2" } }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        'team/model: metadata.annotations[ai-workloads.io/port]: "http" is not a port; use a whole number from 1 to 65535',
        'team/model: metadata.annotations[ai-workloads.io/autoscale]: minimum 5 is above maximum 2; use "<min>-<max>" with min <= max, such as "2-5"',
        "",
      ].join("\n"),
    );
  });

  it("prints warnings on stderr and still exits 0", () => {
    const chat = deployment("chat", { labels: { "ai-workloads.io/kind": "librechat" } });
    const r = runCli(["render", "-f", "-", "-n", "team"], chat);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "warning: team/chat: spec.template.spec.containers[main].env: MONGO_URI is not set; set MONGO_URI in env or through envFrom (a Secret): LibreChat needs MongoDB\n",
    );
    expect(kinds(r.stdout)).toContain("Service/chat");
  });

  it("exits 2 naming the file and line of a YAML syntax error", () => {
    const dir = tmp();
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n");
    const r = runCli(["render", "-f", file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(new RegExp(`^error: ${file.replace(/[/.]/g, "\\$&")}:\\d+: YAML syntax error: `));
  });

  it("exits 2 for a file it cannot read", () => {
    const r = runCli(["render", "-f", "/nonexistent/x.yaml"]);
    expect([r.code, r.stderr]).toEqual([2, "error: /nonexistent/x.yaml: cannot read: ENOENT\n"]);
  });

  it("exits 2 for a document that is not a Kubernetes object", () => {
    const r = runCli(["render", "-f", "-"], "just: a map\n");
    expect([r.code, r.stderr]).toEqual([2, "error: <stdin>:1: not a Kubernetes object (apiVersion and kind are required)\n"]);
  });

  it("exits 2 on usage errors", () => {
    expect(runCli(["render"]).code).toBe(2);
    expect(runCli(["render", "-f", "-", "-o", "xml"], "").code).toBe(2);
    expect(runCli(["render", "--bogus"]).code).toBe(2);
    expect(runCli(["frobnicate"]).code).toBe(2);
  });

  it("takes the cluster config from --config, and exits 2 on its syntax errors and 1 on invalid values", () => {
    const dir = tmp();
    const good = join(dir, "good.yaml");
    writeFileSync(good, "istio: { host: a.example.com, gateway: gw/gw }\n");
    const ok = runCli(["render", "-f", "-", "-n", "t", "--config", good], deployment("m"));
    expect(kinds(ok.stdout)).toContain("VirtualService/ai-workloads");

    const syntax = join(dir, "syntax.yaml");
    writeFileSync(syntax, "istio:\n  host: [x\n");
    expect(runCli(["render", "-f", "-", "--config", syntax], deployment("m")).code).toBe(2);

    const invalid = join(dir, "invalid.yaml");
    writeFileSync(invalid, "istio: { hots: a.example.com }\n");
    const bad = runCli(["render", "-f", "-", "--config", invalid], deployment("m"));
    expect([bad.code, bad.stdout]).toEqual([1, ""]);
    expect(bad.stderr).toBe(`${invalid}: istio.hots: is not a known key; use only host, gateway, basePath\n`);
  });

  it("takes the cluster config from an ai-workloads-config ConfigMap in the input", () => {
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ai-workloads-config, namespace: pepr-system }\ndata:\n  config.yaml: |\n    istio: { host: a.example.com, gateway: gw/gw }\n---\n`;
    const r = runCli(["render", "-f", "-", "-n", "t"], cm + deployment("m"));
    expect(r.code).toBe(0);
    expect(kinds(r.stdout)).toContain("VirtualService/ai-workloads");
  });
});

describe("the installed bin", () => {
  it("runs `ai-workloads render` as a process with the same output as in process", () => {
    execFileSync(process.execPath, ["hack/build-cli.mjs"]);
    const p = spawnSync(process.execPath, ["bin/ai-workloads.js", "render", "-f", "examples/mlserver-openai-librechat"], {
      encoding: "utf8",
    });
    expect(p.status).toBe(0);
    expect(p.stdout).toBe(runCli(["render", "-f", "examples/mlserver-openai-librechat"]).stdout);
  });

  it("exits 1 with nothing on stdout when the input is denied", () => {
    const p = spawnSync(process.execPath, ["bin/ai-workloads.js", "render", "-f", "-"], {
      encoding: "utf8",
      input: deployment("m", { labels: { "ai-workloads.io/kind": "tensorflow" } }),
    });
    expect([p.status, p.stdout]).toEqual([1, ""]);
    expect(p.stderr).toBe(
      'default/m: metadata.labels[ai-workloads.io/kind]: "tensorflow" is not a known kind; use one of mlserver, librechat, oauth2-proxy\n',
    );
  });
});
