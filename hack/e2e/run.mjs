#!/usr/bin/env node
// The integration suite's driver (`npm run test:e2e`):
//   1. hack/controlplane/up.sh  (etcd + kube-apiserver + kube-controller-manager on 127.0.0.1,
//      Istio CRDs; builds the binaries on first use, ~5 min cold)
//   1b. hack/programs/build.sh (MLServer, oauth2-proxy, mockoidc for test/e2e/programs.e2e.ts;
//      installed into ~/.cache/ai-workloads on first use, ~13 min cold on 2 busy cores, then 0.3 s)
//   2. npx pepr build -o .tmp/e2e/dist && node hack/postbuild.mjs .tmp/e2e/dist
//   3. test/e2e/environment.ts setup(): install objects, ServiceAccount token, loopback TLS,
//      webhooks -> https://127.0.0.1:<port>, module process as the ServiceAccount
//   4. jest --selectProjects e2e --runInBand [args]
//   5. always, also on failure or Ctrl-C: stop the module, hack/controlplane/down.sh
//
// Usage: node hack/e2e/run.mjs [jest args...]
//        node hack/e2e/run.mjs up      steps 1-3 only, leave everything running
//                                      (then: npx jest --selectProjects e2e --runInBand <file>)
//        node hack/e2e/run.mjs down    stop what `up` (or a kept run) left running
// Env:   AI_WORKLOADS_E2E_DIR (default <repo>/.tmp/e2e; state, build, logs; must be inside the
//        repository so the module resolves node_modules), AI_WORKLOADS_RUN (control plane run dir,
//        default $AI_WORKLOADS_E2E_DIR/cp), E2E_KEEP=1 (leave everything up after the tests),
//        AI_WORKLOADS_E2E_PROJECT (jest project, default e2e),
//        ISTIO_CRDS, K8S_VERSION, ETCD_VERSION, HELM_VERSION, CP_TIMEOUT (see hack/controlplane/README.md).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWithHarness } from "./bundle.mjs";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DIR = resolve(process.env.AI_WORKLOADS_E2E_DIR ?? join(REPO, ".tmp", "e2e"));
const CP_RUN = resolve(process.env.AI_WORKLOADS_RUN ?? join(DIR, "cp"));
const DIST = join(DIR, "dist");
const LOCK = `${DIR}.lock`;
const KEEP = process.env.E2E_KEEP === "1";
// The jest project to run (hack/fuzz/run.mjs runs `fuzz`, which needs the same served module).
const PROJECT = process.env.AI_WORKLOADS_E2E_PROJECT ?? "e2e";
const env = {
  ...process.env,
  AI_WORKLOADS_E2E_DIR: DIR,
  AI_WORKLOADS_RUN: CP_RUN,
  NO_PROXY: "127.0.0.1,localhost",
  no_proxy: "127.0.0.1,localhost",
};

const t0 = Date.now();
const timings = [];
const log = msg => console.log(`e2e: ${msg}`);
const secs = ms => `${(ms / 1000).toFixed(1)}s`;

async function phase(name, fn) {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    timings.push([name, Date.now() - start]);
    log(`${name}: ${secs(Date.now() - start)}`);
  }
}

let current; // the child we wait on, to forward signals
function exec(cmd, args, { logFile, allowFail = false } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: logFile ? ["ignore", "pipe", "pipe"] : "inherit" });
    current = child;
    let out = "";
    if (logFile) {
      child.stdout.on("data", d => (out += d));
      child.stderr.on("data", d => (out += d));
    }
    child.on("error", reject);
    child.on("close", code => {
      current = undefined;
      if (logFile) writeFileSync(logFile, out);
      if (code === 0 || allowFail) return resolvePromise(code ?? 1);
      if (logFile) console.error(out.split("\n").slice(-40).join("\n"));
      reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}${logFile ? ` (log: ${relative(REPO, logFile)})` : ""}`));
    });
  });
}

/** test/e2e/environment.ts, bundled so that this driver and the suites share one implementation. */
let environment;
function loadEnvironment() {
  if (environment) return environment;
  const out = join(DIR, "environment.cjs");
  bundleWithHarness(join(REPO, "test", "e2e", "environment.ts"), out);
  process.env.AI_WORKLOADS_E2E_DIR = DIR;
  environment = createRequire(import.meta.url)(out);
  return environment;
}

function lock() {
  if (existsSync(LOCK)) {
    const pid = Number(readFileSync(LOCK, "utf8"));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      // stale
    }
    if (alive && pid !== process.pid) throw new Error(`another e2e run (pid ${pid}) uses ${DIR}; remove ${LOCK} if it is gone`);
  }
  mkdirSync(dirname(LOCK), { recursive: true });
  writeFileSync(LOCK, String(process.pid));
}

/** Stops the module and the control plane; returns the module processes that had crashed. */
async function down() {
  let dead = [];
  try {
    if (existsSync(join(DIR, "state.json"))) dead = await loadEnvironment().teardown();
  } catch (e) {
    console.error(`e2e: stopping the module failed: ${e instanceof Error ? e.message : e}`);
  }
  await exec(join(REPO, "hack", "controlplane", "down.sh"), [], { allowFail: true });
  return dead;
}

async function up() {
  lock();
  // Leftovers of an earlier run that was killed hard (or kept): stop them, start clean.
  if (existsSync(DIR)) {
    await down();
    rmSync(DIR, { recursive: true, force: true });
  }
  mkdirSync(DIR, { recursive: true });
  await phase("control plane up", async () => {
    const upScript = join(REPO, "hack", "controlplane", "up.sh");
    try {
      await exec(upScript, []);
    } catch (e) {
      // Ports are drawn at random and checked just before use, so another process can take one
      // in between: one more start on fresh ports, said out loud. A second failure is final.
      console.error(`e2e: ${e instanceof Error ? e.message : e}; starting the control plane once more`);
      await exec(join(REPO, "hack", "controlplane", "down.sh"), [], { allowFail: true });
      await exec(upScript, []);
    }
  });
  // The real programs of test/e2e/programs.e2e.ts (MLServer, oauth2-proxy, a mock OIDC issuer),
  // installed into ~/.cache/ai-workloads on first use; a no-op when cached.
  await phase("programs build", () => exec(join(REPO, "hack", "programs", "build.sh"), []));
  await phase("pepr build + postbuild", async () => {
    await exec("npx", ["--no-install", "pepr", "build", "-o", relative(REPO, DIST)], { logFile: join(DIR, "build.log") });
    await exec(process.execPath, [join(REPO, "hack", "postbuild.mjs"), DIST]);
  });
  await phase("module up", () => loadEnvironment().setup({ dir: DIR, cpRun: CP_RUN, distDir: DIST }));
}

function saveLogs() {
  const logs = join(DIR, "logs");
  mkdirSync(logs, { recursive: true });
  for (const f of ["kube-apiserver.log", "kube-controller-manager.log", "etcd.log", "istio-validation.log", "audit.log"]) {
    if (existsSync(join(CP_RUN, f))) copyFileSync(join(CP_RUN, f), join(logs, f));
  }
  log(`control plane logs kept in ${relative(REPO, logs)}; module logs in ${relative(REPO, DIR)}/*.log`);
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === "down") {
    await down();
    rmSync(LOCK, { force: true });
    return 0;
  }
  let interrupted = false;
  const onSignal = sig => {
    interrupted = true;
    log(`${sig}: stopping`);
    current?.kill("SIGTERM");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let code = 1;
  try {
    await up();
    if (cmd === "up") {
      log(`up; run suites with: npx jest --selectProjects e2e --runInBand [file]; stop with: node hack/e2e/run.mjs down`);
      code = 0;
      return code;
    }
    if (interrupted) throw new Error("interrupted");
    const args = cmd === undefined ? [] : [cmd, ...rest];
    code = await phase("jest", () =>
      exec(process.execPath, [join(REPO, "node_modules", "jest", "bin", "jest.js"), "--selectProjects", PROJECT, "--runInBand", ...args], {
        allowFail: true,
      }),
    );
    // A module process that died during the run fails it, whatever the tests said.
    const crashed = loadEnvironment().deadControllers();
    for (const d of crashed)
      console.error(`e2e: FAIL: the ${d.role} module process died during the run; ${relative(REPO, d.logFile)} ends with:\n${d.log}`);
    if (crashed.length > 0) code = 1;
    // So does a write of the module's that RBAC refused: the emitted ClusterRole lacks a rule.
    const forbidden = loadEnvironment().forbiddenWrites();
    for (const e of forbidden)
      console.error(`e2e: FAIL: RBAC refused the module: ${e.verb} ${e.requestURI}: ${e.responseStatus?.message ?? ""}`);
    if (forbidden.length > 0) code = 1;
  } catch (e) {
    console.error(`e2e: ${e instanceof Error ? e.message : e}`);
    code = 1;
  } finally {
    if (code !== 0 || interrupted) saveLogs();
    if (cmd !== "up" || code !== 0) {
      if (KEEP && !interrupted && cmd !== "up") log(`E2E_KEEP=1: left running; stop with: node hack/e2e/run.mjs down`);
      else await phase("teardown", down);
      rmSync(LOCK, { force: true });
    }
    log(`total ${secs(Date.now() - t0)} (${timings.map(([n, ms]) => `${n} ${secs(ms)}`).join(", ")})`);
  }
  return interrupted ? 130 : code;
}

main().then(
  code => process.exit(code),
  e => {
    console.error(e);
    process.exit(1);
  },
);
