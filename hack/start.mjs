#!/usr/bin/env node
// `npm start`: the module live on this machine, in one command.
//   1. hack/controlplane/up.sh (the e2e control plane: etcd, kube-apiserver,
//      kube-controller-manager, Istio CRDs and istiod's validation; binaries cached in
//      ~/.cache/ai-workloads, built on first use)
//   2. npx pepr build + hack/postbuild.mjs, as `npm run build`
//   3. test/e2e/environment.ts setup(): the built module as its admission and watcher
//      processes, webhooks -> https://127.0.0.1:<port> (the same pieces as
//      `node hack/e2e/run.mjs up`, without the programs the e2e suite alone needs)
//   4. kubectl apply -f examples/mlserver-openai-librechat, then wait for every companion
//      `ai-workloads render` lists for it
//   5. `ai-workloads status -A`, the kubeconfig and kubectl hints
// Everything keeps running detached after this exits; `npm stop` (hack/stop.mjs) stops it.
// Run again while up, it only prints the status and the hints again.
//
// Env: AI_WORKLOADS_START_DIR (default <repo>/.tmp/start; state, build, logs; must be inside
//      the repository so the module resolves node_modules), plus the control plane's
//      (CP_TIMEOUT, K8S_VERSION, ...; see hack/controlplane/README.md).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { bundleWithHarness } from "./e2e/bundle.mjs";
import { CP_RUN, DIR, EXAMPLE, LOCK, REPO, STATE, childEnv, lockHolder, runningProcesses, stopAll } from "./live.mjs";

const t0 = Date.now();
const log = msg => console.log(`start: ${msg}`);
const secs = ms => `${(ms / 1000).toFixed(1)} s`;
const rel = p => relative(REPO, p) || ".";

let interrupted = false;
const children = new Set(); // killed on Ctrl-C / SIGTERM, so that up() stops where it is

/** Runs a command; resolves with its exit code and output (printed live unless `quiet`). */
function exec(cmd, args, { quiet = false, logFile } = {}) {
  return new Promise((resolvePromise, reject) => {
    // Own process group, so that an interrupt reaches what npx and up.sh start beneath them.
    const child = spawn(cmd, args, { cwd: REPO, env: childEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    children.add(child);
    let out = "";
    const take = stream => d => {
      out += d;
      if (!quiet) stream.write(d);
    };
    child.stdout.on("data", take(process.stdout));
    child.stderr.on("data", take(process.stderr));
    child.on("error", reject);
    child.on("close", code => {
      children.delete(child);
      if (logFile) writeFileSync(logFile, out);
      resolvePromise({ code: code ?? 1, out });
    });
  });
}

async function execOk(cmd, args, opts = {}) {
  const r = await exec(cmd, args, opts);
  if (interrupted) throw new Error("interrupted");
  if (r.code !== 0) {
    if (opts.quiet) {
      // pepr build puts its error first and esbuild's goroutine dump last: the error lines say more.
      const lines = r.out.split("\n");
      const errors = lines.filter(l => /error/i.test(l)).slice(0, 20);
      console.error((errors.length > 0 ? errors : lines.slice(-40)).join("\n"));
    }
    throw new Error(`${rel(cmd)} ${args.join(" ")} exited with ${r.code}${opts.logFile ? ` (log: ${rel(opts.logFile)})` : ""}`);
  }
  return r.out;
}

async function phase(name, fn, about = "") {
  if (interrupted) throw new Error("interrupted");
  log(`${name}${about}...`);
  const start = Date.now();
  const value = await fn();
  log(`${name}: ${secs(Date.now() - start)}`);
  return value;
}

const planeEnv = () => {
  const env = {};
  for (const line of readFileSync(join(CP_RUN, "env"), "utf8").split("\n")) {
    const m = /^export ([A-Z_]+)="(.*)"$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
};

const kubectl = (args, opts) => {
  const plane = planeEnv();
  return exec(plane.KUBECTL, ["--kubeconfig", plane.KUBECONFIG, ...args], opts);
};

/** The objects `ai-workloads render` generates for the example (the inputs are not companions). */
async function expectedCompanions() {
  const out = await execOk(process.execPath, [join(REPO, "bin", "ai-workloads.js"), "render", "-f", EXAMPLE, "-o", "json"], {
    quiet: true,
  });
  return JSON.parse(out).items.filter(o => o.metadata?.labels?.["app.kubernetes.io/managed-by"] === "ai-workloads");
}

/** kubectl's type for an object: `service`, `virtualservice.networking.istio.io`. */
const typeOf = o => (o.apiVersion.includes("/") ? `${o.kind.toLowerCase()}.${o.apiVersion.split("/")[0]}` : o.kind.toLowerCase());
const key = o => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;

async function waitForCompanions(timeoutMs) {
  const want = await expectedCompanions();
  const types = [...new Set(want.map(typeOf))].join(",");
  const namespaces = [...new Set(want.map(o => o.metadata.namespace))];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const have = new Set();
    for (const ns of namespaces) {
      const r = await kubectl(["get", types, "-n", ns, "-o", "json"], { quiet: true });
      if (r.code === 0) for (const o of JSON.parse(r.out).items) have.add(key(o));
    }
    const missing = want.filter(o => !have.has(key(o))).map(key);
    if (missing.length === 0) return want;
    if (Date.now() >= deadline)
      throw new Error(
        `after ${secs(timeoutMs)} these companions of ${rel(EXAMPLE)} are still missing: ${missing.join(", ")}` +
          ` (module logs: ${rel(join(DIR, "watcher.log"))}, ${rel(join(DIR, "admission.log"))})`,
      );
    await new Promise(r => setTimeout(r, 500));
  }
}

/**
 * `ai-workloads status -A` against the plane, printed. Exit 1 (something not ok) is retried for a
 * while, as the watcher may still be settling; any other non-zero code is final.
 */
async function status(kubeconfig) {
  const deadline = Date.now() + 30_000;
  let r;
  for (;;) {
    r = await exec(process.execPath, [join(REPO, "bin", "ai-workloads.js"), "status", "-A", "--kubeconfig", kubeconfig], { quiet: true });
    if (r.code !== 1 || Date.now() >= deadline) break;
    await new Promise(res => setTimeout(res, 2000));
  }
  console.log(`\n$ npx ai-workloads status -A\n${r.out.trimEnd()}\n`);
  if (r.code === 0) log("status: all ok");
  else log(`status is not all ok (exit ${r.code}); the output above says why`);
  return r.code;
}

function hints(kubeconfig) {
  const plane = planeEnv();
  const ns = "ai";
  console.log(`
The control plane and the module keep running until \`npm stop\`.
  kubeconfig: ${kubeconfig}
  export KUBECONFIG=${kubeconfig}
  export PATH=${join(plane.KUBECTL, "..")}:$PATH   # the pinned kubectl (or: source ${rel(join(CP_RUN, "env"))})

Try:
  kubectl get deployments,services,hpa,virtualservices,requestauthentications,authorizationpolicies -n ${ns}
  kubectl get services,hpa,virtualservices,authorizationpolicies -n ${ns} -l app.kubernetes.io/managed-by=ai-workloads -o yaml
  kubectl describe deployment runtime-openai -n ${ns}    # the module's Events at the end
  npx ai-workloads status -A
  npm stop
Pods stay Pending: the plane has no kubelet. Module logs: ${rel(join(DIR, "admission.log"))}, ${rel(join(DIR, "watcher.log"))}.`);
}

/** Stops what this run started, after a failure or Ctrl-C; the logs stay. */
async function cleanUp() {
  await stopAll({ quiet: true });
  // A module process the in-process setup() started while the first pass ran.
  if (runningProcesses().some(p => p.alive)) await stopAll({ quiet: true });
  log(`stopped everything it had started; logs in ${rel(DIR)}`);
}

async function up() {
  await phase(
    "control plane up",
    () => execOk(join(REPO, "hack", "controlplane", "up.sh"), [], { quiet: true, logFile: join(DIR, "controlplane.log") }),
    " (hack/controlplane/up.sh; the first time it builds its binaries, see hack/controlplane/README.md)",
  );
  const dist = join(DIR, "dist");
  await phase(
    "pepr build + postbuild",
    async () => {
      await execOk("npx", ["--no-install", "pepr", "build", "-o", relative(REPO, dist)], { quiet: true, logFile: join(DIR, "build.log") });
      await execOk(process.execPath, [join(REPO, "hack", "postbuild.mjs"), dist], { quiet: true });
    },
    " (about a minute)",
  );
  await phase(
    "module up",
    async () => {
      // The harness reads AI_WORKLOADS_E2E_DIR when it loads: set before require.
      process.env.AI_WORKLOADS_E2E_DIR = DIR;
      const bundle = join(DIR, "environment.cjs");
      bundleWithHarness(join(REPO, "test", "e2e", "environment.ts"), bundle);
      const environment = createRequire(import.meta.url)(bundle);
      await environment.setup({ dir: DIR, cpRun: CP_RUN, distDir: dist, log: () => {} });
    },
    " (admission and watcher processes, webhooks to 127.0.0.1)",
  );
  await phase(`kubectl apply -f ${rel(EXAMPLE)}`, async () => {
    const r = await kubectl(["apply", "-f", EXAMPLE]);
    if (r.code !== 0) throw new Error(`kubectl apply -f ${rel(EXAMPLE)} exited with ${r.code}`);
  });
  const companions = await phase("companions created", () => waitForCompanions(120_000), " (waiting for what `ai-workloads render` lists)");
  log(`${companions.length} companions of ${rel(EXAMPLE)} exist: ${companions.map(key).join(", ")}`);
}

async function main() {
  const outside = relative(REPO, DIR);
  if (outside.startsWith("..") || outside === "") throw new Error(`AI_WORKLOADS_START_DIR=${DIR} must be a directory inside ${REPO}`);

  const holder = lockHolder();
  if (holder) throw new Error(`another run (pid ${holder}) is using ${rel(DIR)}; wait for it or run \`npm stop\``);
  mkdirSync(dirname(LOCK), { recursive: true });
  writeFileSync(LOCK, String(process.pid));

  // Already up: the same cluster again, nothing restarted.
  const procs = runningProcesses();
  if (existsSync(STATE) && existsSync(join(CP_RUN, "env")) && procs.length > 0 && procs.every(p => p.alive)) {
    log(
      `already running (${procs.map(p => `${p.name} ${p.pid}`).join(", ")}); \`npm stop\` stops it, \`npm stop && npm start\` runs changed code`,
    );
    rmSync(LOCK, { force: true });
    const kubeconfig = planeEnv().KUBECONFIG;
    await status(kubeconfig);
    hints(kubeconfig);
    return 0;
  }
  if (procs.some(p => p.alive) || existsSync(CP_RUN)) {
    // A half-stopped or crashed earlier run: stop what is left and start clean.
    log(`found an earlier run in ${rel(DIR)} that is not fully running; stopping it and starting clean`);
    await stopAll({ quiet: true });
  }
  // The files of the earlier run (build, logs) make way for this one's.
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });

  const onSignal = sig => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping what was started`);
    for (const c of children) {
      try {
        process.kill(-c.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    // setup() runs in this process and cannot be interrupted: stop everything, then leave.
    cleanUp().finally(() => {
      rmSync(LOCK, { force: true });
      process.exit(130);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    await up();
  } catch (e) {
    if (interrupted) return new Promise(() => {}); // onSignal stops everything and exits
    console.error(`start: FAILED: ${e instanceof Error ? e.message : e}`);
    await cleanUp();
    rmSync(LOCK, { force: true });
    return 1;
  }
  if (interrupted) return new Promise(() => {});
  // Up: from here an interrupt leaves it running, as `npm start` would have.
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  rmSync(LOCK, { force: true });
  log(`up in ${secs(Date.now() - t0)}`);
  const kubeconfig = planeEnv().KUBECONFIG;
  await status(kubeconfig);
  hints(kubeconfig);
  return 0;
}

main().then(
  code => process.exit(code),
  e => {
    console.error(`start: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
