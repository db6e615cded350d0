// `npm start` and `npm stop` (hack/start.mjs, hack/stop.mjs) run as a user runs them, as processes:
// start brings up a second control plane with the module and the seed example, prints the
// kubeconfig, the status and kubectl hints, and exits leaving it all running; stop stops every
// process start started. Its own dir (<e2e dir>.npm-start) and free ports keep it apart from the
// suite's control plane, which must still answer at the end.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { E2E_DIR, type Obj, REPO, type Result, expectModuleAlive, kubectl, portOpen, run } from "./harness";
import { render } from "./render";

jest.setTimeout(20 * 60_000);

afterAll(() => expectModuleAlive());

const START_DIR = `${E2E_DIR}.npm-start`;
const CP_RUN = join(START_DIR, "cp");
const KUBECONFIG = join(CP_RUN, "kubeconfig");
const EXAMPLE = "examples/mlserver-openai-librechat";
/** What start runs: the module's two controllers and the control plane's processes. */
const PROCESSES = ["admission", "watcher", "etcd", "kube-apiserver", "kube-controller-manager", "istio-validation"];

const npm = (script: "start" | "stop", timeoutMs = 5 * 60_000): Promise<Result> =>
  run("npm", [script], { env: { AI_WORKLOADS_START_DIR: START_DIR }, timeoutMs });
const output = (r: Result): string => r.stdout + r.stderr;

/** The exit code must be `code`; the failure shows what the command printed. */
function expectExit(r: Result, code: number, what: string): void {
  if (r.code !== code) throw new Error(`${what} exited with ${r.code}, not ${code}; it printed:\n${output(r)}`);
}

/** The exports of the started plane's env file (kubectl, ports). */
function planeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(CP_RUN, "env"), "utf8").split("\n")) {
    const m = /^export ([A-Z_]+)="(.*)"$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** Every pid start recorded, by process name. */
function startedPids(): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const name of PROCESSES) {
    const file = ["admission", "watcher"].includes(name) ? join(START_DIR, `${name}.pid`) : join(CP_RUN, `${name}.pid`);
    pids[name] = Number(readFileSync(file, "utf8").trim());
  }
  return pids;
}

/** Running and not a zombie: nobody may reap a detached process whose parent is gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

const key = (o: Obj): string => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;

describe("npm start, then npm stop", () => {
  let started: Result;

  beforeAll(async () => {
    // An earlier run of this file that was killed hard may have left its plane up.
    await npm("stop");
    started = await npm("start", 15 * 60_000);
  });

  afterAll(async () => {
    // Whatever failed above, nothing this file started keeps running.
    await npm("stop");
  });

  it("exits 0 and prints the kubeconfig, how to use it, the status and the kubectl hints", () => {
    expectExit(started, 0, "npm start");
    const out = output(started);
    expect(out).toContain(`kubeconfig: ${KUBECONFIG}`);
    expect(out).toContain(`export KUBECONFIG=${KUBECONFIG}`);
    expect(out).toContain("$ npx ai-workloads status -A");
    for (const hint of [
      `kubectl get deployments`,
      `kubectl describe deployment runtime-openai -n ai`,
      "npx ai-workloads status -A",
      "npm stop",
    ])
      expect(out).toContain(`  ${hint}`);
  });

  it("leaves every companion `ai-workloads render` lists for the example created by the module", async () => {
    const rendered = render(["-f", EXAMPLE]);
    expect(rendered.code).toBe(0);
    const want = rendered.objects.filter(o => o.metadata.labels?.["app.kubernetes.io/managed-by"] === "ai-workloads");
    expect(want.length).toBeGreaterThan(0);
    const kubectlBin = planeEnv().KUBECTL;
    const found: string[] = [];
    for (const o of want) {
      const type = o.apiVersion.includes("/") ? `${o.kind.toLowerCase()}.${o.apiVersion.split("/")[0]}` : o.kind.toLowerCase();
      const r = await run(kubectlBin, [
        "--kubeconfig",
        KUBECONFIG,
        "get",
        type,
        o.metadata.name,
        "-n",
        o.metadata.namespace!,
        "-o",
        "json",
      ]);
      if (r.code === 0 && (JSON.parse(r.stdout) as Obj).metadata.labels?.["app.kubernetes.io/managed-by"] === "ai-workloads")
        found.push(key(o));
    }
    expect(found).toEqual(want.map(key));
  });

  it("`ai-workloads status -A` is all ok (exit 0), and start said so", async () => {
    const r = await run(process.execPath, [join(REPO, "bin", "ai-workloads.js"), "status", "-A", "--kubeconfig", KUBECONFIG]);
    expectExit(r, 0, "ai-workloads status -A");
    expect(output(started)).toContain("start: status: all ok");
  });

  it("run again while up, says it is already running, prints the hints and restarts nothing", async () => {
    const before = startedPids();
    const again = await npm("start");
    expectExit(again, 0, "npm start (again)");
    expect(output(again)).toContain("start: already running");
    expect(output(again)).toContain(`export KUBECONFIG=${KUBECONFIG}`);
    expect(startedPids()).toEqual(before);
    expect(Object.values(before).filter(pid => !alive(pid))).toEqual([]);
  });

  it("npm stop stops every process start started; the API server and the module no longer answer", async () => {
    const pids = startedPids();
    expect(Object.keys(pids).sort()).toEqual([...PROCESSES].sort());
    expect(Object.entries(pids).filter(([, pid]) => !alive(pid))).toEqual([]);
    const apiserverPort = Number(planeEnv().CP_APISERVER_PORT);
    const state = JSON.parse(readFileSync(join(START_DIR, "state.json"), "utf8")) as { controllers: { role: string; port: number }[] };
    const ports = [apiserverPort, ...state.controllers.map(c => c.port)];
    expect(await portOpen(apiserverPort)).toBe(true);

    const stopped = await npm("stop");
    expectExit(stopped, 0, "npm stop");
    expect(Object.entries(pids).filter(([, pid]) => alive(pid))).toEqual([]);
    for (const port of ports) expect({ port, answers: await portOpen(port) }).toEqual({ port, answers: false });
  });

  it("npm stop with nothing running says so and exits 0", async () => {
    const again = await npm("stop");
    expectExit(again, 0, "npm stop (again)");
    expect(output(again)).toContain("stop: nothing is running");
  });

  it("left the suite's own control plane and module alone", async () => {
    const r = await kubectl(["get", "--raw", "/readyz"]);
    expect(r.stdout.trim()).toBe("ok");
    expectModuleAlive();
  });
});
