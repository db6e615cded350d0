#!/usr/bin/env node
// `npm stop`: stops everything `npm start` (hack/start.mjs) started: the module's admission and
// watcher processes and the control plane (etcd, kube-apiserver, kube-controller-manager,
// istio-validation), through `node hack/e2e/run.mjs down` on the start dir. The build and the
// logs stay in the start dir (the control plane's in <dir>/logs). Nothing running: exit 0.
// Env: AI_WORKLOADS_START_DIR, as for hack/start.mjs.
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { CP_RUN, DIR, REPO, lockHolder, pidAlive, runningProcesses, stopAll } from "./live.mjs";

const log = msg => console.log(`stop: ${msg}`);
const rel = p => relative(REPO, p) || ".";
const delay = ms => new Promise(r => setTimeout(r, ms));

async function main() {
  // A start still under way stops what it started itself on SIGTERM.
  const starting = lockHolder();
  if (starting) {
    log(`npm start (pid ${starting}) is still starting; stopping it`);
    process.kill(starting, "SIGTERM");
    for (let i = 0; i < 1200 && pidAlive(starting); i++) await delay(100);
  }

  const before = runningProcesses().filter(p => p.alive);
  if (before.length === 0 && !existsSync(CP_RUN)) {
    log(`nothing is running (no live run in ${rel(DIR)})`);
    return 0;
  }
  const code = await stopAll();
  const left = before.filter(p => pidAlive(p.pid));
  if (left.length > 0) {
    console.error(`stop: still running: ${left.map(p => `${p.name} (pid ${p.pid})`).join(", ")}`);
    return 1;
  }
  if (code !== 0) {
    console.error(`stop: node hack/e2e/run.mjs down exited with ${code}`);
    return 1;
  }
  log(`stopped ${before.map(p => `${p.name} (pid ${p.pid})`).join(", ") || "nothing (no process was alive)"}; logs kept in ${rel(DIR)}`);
  return 0;
}

main().then(
  code => process.exit(code),
  e => {
    console.error(`stop: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
