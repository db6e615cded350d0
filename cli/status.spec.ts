// `ai-workloads status` and the live CLI's shell (SPEC §14.4): the table and JSON over an
// in-memory cluster with every state (golden files, reviewed by hand), exit codes, kubeconfig and
// context handling, and one line when the API server cannot be asked. `UPDATE_GOLDEN=1` rewrites
// the golden files; review `git diff test/golden` then.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeCluster } from "../capabilities/reconcile/fake-cluster";
import { expectGolden } from "../test/unit/golden-file";
import { settledLiveCluster } from "../test/unit/live-cluster";
import { type LiveOptions, LiveError, loadKubeConfig, parseLiveArgs, readOnlyClusterApi } from "./live";
import { type Io, run } from "./main";
import { type StatusFormat, formatColumns, statusOf } from "./status";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { io: Io; result: () => Omit<Run, "code"> } {
  let stdout = "";
  let stderr = "";
  return {
    io: { stdout: t => (stdout += t), stderr: t => (stderr += t), stdin: () => "" },
    result: () => ({ stdout, stderr }),
  };
}

async function status(cluster: FakeCluster, opts: LiveOptions, format: StatusFormat = "table"): Promise<Run> {
  const { io, result } = capture();
  const code = await statusOf(cluster, opts, opts.namespace ?? "default", format, io);
  return { code, ...result() };
}

/** The CLI in process, as bin.ts runs it. */
async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const saved = Object.fromEntries(Object.keys(env).map(k => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    const { io, result } = capture();
    const code = await run(argv, io);
    return { code, ...result() };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const kubeconfig = (server: string, namespace?: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), "aiw-kc-")), "config");
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts:
  - { name: one, context: { cluster: c, user: u${namespace ? `, namespace: ${namespace}` : ""} } }
  - { name: two, context: { cluster: c, user: u } }
current-context: one
`,
  );
  return file;
};

describe("ai-workloads status", () => {
  let cluster: FakeCluster;
  beforeAll(async () => {
    cluster = await settledLiveCluster();
  });

  it("prints the table of every namespace with -A, the details below it, and exits 1", async () => {
    const r = await status(cluster, { all: true });
    expect([r.code, r.stderr]).toEqual([1, ""]);
    expectGolden("status-table.txt", r.stdout);
  });

  it("prints the full detail as JSON with -o json", async () => {
    const r = await status(cluster, { all: true }, "json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).ok).toBe(false);
    expectGolden("status.json", r.stdout);
  });

  it("exits 0 for an all-ok namespace given with -n, and reads only that namespace", async () => {
    const r = await status(cluster, { all: false, namespace: "quiet" });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").map(l => l.split(/\s+/)[0])).toEqual(["NAMESPACE", "quiet", ""]);
  });

  it("is deterministic", async () => {
    expect((await status(cluster, { all: true })).stdout).toBe((await status(cluster, { all: true })).stdout);
  });

  it("says when a namespace does not exist", async () => {
    const r = await status(cluster, { all: false, namespace: "nowhere" });
    expect(r).toEqual({ code: 0, stdout: "No managed Deployments found.\n", stderr: "warning: namespace nowhere does not exist\n" });
  });

  it("warns on an invalid config.yaml, judges with no valid config, and is not ok", async () => {
    const c = await settledLiveCluster();
    c.put({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ai-workloads-config", namespace: "pepr-system" },
      data: { "config.yaml": "istio: { hots: x }\n" },
    });
    const r = await status(c, { all: false, namespace: "quiet" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^warning: pepr-system\/ai-workloads-config: data\[config.yaml\]\.istio\.hots: is not a known key/);
    expect(r.stderr).toMatch(/warning: pepr-system\/ai-workloads-config: invalid config.yaml; judged with the built-in defaults/);
    expect(r.stdout).toMatch(/ unknown /);
  });

  it("a ConfigMap gone while the module's security objects exist counts as no valid config", async () => {
    const c = await settledLiveCluster();
    c.remove("ConfigMap", "pepr-system", "ai-workloads-config");
    const r = await status(c, { all: false, namespace: "quiet" });
    expect([r.code, r.stderr]).toEqual([
      1,
      "warning: ConfigMap pepr-system/ai-workloads-config is gone; judged with the built-in defaults, and no RequestAuthentication, AuthorizationPolicy or VirtualService counts for deletion (the module keeps its last valid config)\n",
    ]);
  });

  it("a refused read is one line (exit 2 through run), a bug is not dressed up as one", async () => {
    const c = await settledLiveCluster();
    c.failReads.set("Service/ai/web", 'services "web" is forbidden');
    await expect(status(c, { all: false, namespace: "ai" })).rejects.toThrow(new LiveError('forbidden (403): services "web" is forbidden'));
    const broken = Object.assign(await settledLiveCluster(), {
      namespaceAnnotations: async () => {
        throw new TypeError("x is not a function");
      },
    });
    await expect(status(broken, { all: false, namespace: "ai" })).rejects.toThrow(TypeError);
  });

  it("formats columns as kubectl does: three spaces apart, no trailing spaces", () => {
    expect(
      formatColumns([
        ["A", "BB", "C"],
        ["aaaa", "b", ""],
      ]),
    ).toBe("A      BB   C\naaaa   b\n");
  });
});

describe("the live commands' shell", () => {
  it("parses -n, -A, --kubeconfig, --context and -o, and refuses the rest", () => {
    expect(parseLiveArgs(["-n", "ai", "--kubeconfig=k", "--context", "c", "-o", "json"], true)).toEqual({
      all: false,
      namespace: "ai",
      kubeconfig: "k",
      context: "c",
      output: "json",
    });
    expect(parseLiveArgs(["-A"], false)).toEqual({ all: true });
    expect(() => parseLiveArgs(["-n", "a", "-A"], true)).toThrow("give -n <namespace> or -A, not both");
    expect(() => parseLiveArgs(["-o", "json"], false)).toThrow('unknown argument "-o"');
  });

  it("exits 2 on usage errors", async () => {
    expect((await cli(["status", "-A", "-n", "x"])).code).toBe(2);
    expect((await cli(["status", "-o", "yaml", "--kubeconfig", kubeconfig("http://127.0.0.1:1")])).code).toBe(2);
    expect((await cli(["diff", "--bogus"])).code).toBe(2);
  });

  it("takes the namespace from the context, else default; an unknown context is a usage error", () => {
    const file = kubeconfig("http://127.0.0.1:1", "team");
    expect(loadKubeConfig({ all: false, kubeconfig: file }).namespace).toBe("team");
    expect(loadKubeConfig({ all: false, kubeconfig: file, context: "two" }).namespace).toBe("default");
    expect(loadKubeConfig({ all: false, kubeconfig: file, namespace: "x" }).namespace).toBe("x");
    expect(() => loadKubeConfig({ all: false, kubeconfig: file, context: "three" })).toThrow(
      'no context "three" in the kubeconfig; it has one, two',
    );
  });

  it("reads KUBECONFIG when --kubeconfig is not given", () => {
    const file = kubeconfig("http://127.0.0.1:1", "from-env");
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = file;
    try {
      expect(loadKubeConfig({ all: false }).namespace).toBe("from-env");
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it("exits 2 with one line for a kubeconfig it cannot read", async () => {
    const r = await cli(["status", "--kubeconfig", "/nonexistent/kc"]);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, "", "error: /nonexistent/kc: cannot read kubeconfig: ENOENT\n"]);
  });

  it("exits 2 with one line when the API server cannot be reached", async () => {
    const r = await cli(["status", "-n", "x", "--kubeconfig", kubeconfig("http://127.0.0.1:1")]);
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect(r.stderr).toMatch(/^error: cannot reach the API server: .*ECONNREFUSED.*\n$/);
    expect(r.stderr.split("\n")).toHaveLength(2);
  });

  it.each([
    [401, "error: the API server refused the credentials (401 Unauthorized); check the kubeconfig's user\n"],
    [403, 'error: forbidden (403): namespaces "x" is forbidden: User "u" cannot get resource "namespaces"\n'],
  ])("exits 2 with one line when the API server answers %d", async (statusCode, line) => {
    const server = createServer((_, res) => {
      res.writeHead(statusCode, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          code: statusCode,
          message: statusCode === 403 ? 'namespaces "x" is forbidden: User "u" cannot get resource "namespaces"' : "Unauthorized",
        }),
      );
    });
    await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (const command of ["status", "diff"]) {
        const r = await cli([command, "-n", "x", "--kubeconfig", kubeconfig(`http://127.0.0.1:${port}`)]);
        expect([r.code, r.stdout, r.stderr]).toEqual([2, "", line]);
      }
    } finally {
      server.close();
    }
  });

  it("the ClusterApi it uses cannot write", async () => {
    const api = readOnlyClusterApi(loadKubeConfig({ all: false, kubeconfig: kubeconfig("http://127.0.0.1:1") }).kc);
    await expect(api.apply({ kind: "Service" })).rejects.toThrow("ai-workloads status and diff only read; apply refused");
    await expect(api.delete({ apiVersion: "v1", kind: "Service", namespace: "a", name: "b" })).rejects.toThrow("delete refused");
    await expect(api.createEvent({ kind: "Event" })).rejects.toThrow("createEvent refused");
  });

  it("the synchronous main refuses a live command rather than return a promise", () => {
    const { main } = jest.requireActual<typeof import("./main")>("./main");
    const { io } = capture();
    expect(() => main(["status"], io)).toThrow("ai-workloads status reads a live cluster: call run() and await it");
  });
});
