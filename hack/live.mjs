// What `npm start` (hack/start.mjs) and `npm stop` (hack/stop.mjs) share: where the run lives,
// which processes it started, and how to stop them all.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** State, build and logs of the live run; its own dir, so it never meets an e2e run's. */
export const DIR = resolve(process.env.AI_WORKLOADS_START_DIR ?? join(REPO, ".tmp", "start"));
export const CP_RUN = join(DIR, "cp");
/** test/e2e/environment.ts writes it once the module runs. */
export const STATE = join(DIR, "state.json");
export const LOCK = `${DIR}.lock`;
export const EXAMPLE = join(REPO, "examples", "mlserver-openai-librechat");
/** The processes hack/controlplane/up.sh records as $AI_WORKLOADS_RUN/<name>.pid. */
export const CP_PROCS = ["etcd", "kube-apiserver", "kube-controller-manager", "istio-validation"];

export const childEnv = () => ({
  ...process.env,
  AI_WORKLOADS_E2E_DIR: DIR,
  AI_WORKLOADS_RUN: CP_RUN,
  NO_PROXY: "127.0.0.1,localhost",
  no_proxy: "127.0.0.1,localhost",
});

/** Running and not a zombie (an exited child nobody has reaped yet counts as gone). */
export function pidAlive(pid) {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The pid only counts while it still runs our program: pids get reused. */
function runs(pid, needle) {
  try {
    return (
      pidAlive(pid) &&
      readFileSync(`/proc/${pid}/cmdline`, "utf8")
        .split("\0")
        .some(a => a.includes(needle))
    );
  } catch {
    return false;
  }
}

const readPid = file => {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
};

/** Every process the run recorded (module controllers, control plane), alive or not. */
export function runningProcesses() {
  const procs = [];
  if (existsSync(STATE)) {
    const s = JSON.parse(readFileSync(STATE, "utf8"));
    for (const c of s.controllers ?? []) {
      const pid = readPid(c.pidFile);
      procs.push({ name: c.role, pid, alive: pid !== undefined && runs(pid, s.moduleFile) });
    }
  }
  for (const name of CP_PROCS) {
    const pid = readPid(join(CP_RUN, `${name}.pid`));
    if (pid) procs.push({ name, pid, alive: runs(pid, `/${name}`) });
  }
  return procs;
}

/** The pid of another live start holding the lock, if any. */
export function lockHolder() {
  const pid = readPid(LOCK);
  return pid && pid !== process.pid && runs(pid, "start.mjs") ? pid : undefined;
}

/**
 * Stops the module processes and the control plane (`node hack/e2e/run.mjs down` on this dir),
 * after copying the control plane's logs to <dir>/logs (down.sh removes its run dir).
 */
export function stopAll({ quiet = false } = {}) {
  if (existsSync(CP_RUN)) {
    mkdirSync(join(DIR, "logs"), { recursive: true });
    for (const p of [...CP_PROCS, "audit"]) {
      const f = join(CP_RUN, `${p}.log`);
      if (existsSync(f)) copyFileSync(f, join(DIR, "logs", `${p}.log`));
    }
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(REPO, "hack", "e2e", "run.mjs"), "down"], {
      cwd: REPO,
      env: childEnv(),
      stdio: ["ignore", quiet ? "ignore" : "inherit", quiet ? "ignore" : "inherit"],
    });
    child.on("error", reject);
    child.on("close", code => resolvePromise(code ?? 1));
  });
}
