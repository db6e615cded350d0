#!/usr/bin/env node
// `npm run test:fuzz [-- --seed <n>] [--runs <n>]`: the admission fuzz (test/fuzz/*.fuzz.e2e.ts)
// against the module served for real. hack/e2e/run.mjs brings up the control plane and the module
// and runs jest project `fuzz`; the seed (default fixed, for CI) and the number of inputs reach
// the test as FUZZ_SEED / FUZZ_RUNS. Other arguments go to jest.
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);
const env = { ...process.env, AI_WORKLOADS_E2E_PROJECT: "fuzz" };
const rest = [];
for (let i = 0; i < args.length; i++) {
  const m = /^--(seed|runs)(?:=(.*))?$/.exec(args[i]);
  if (!m) {
    rest.push(args[i]);
    continue;
  }
  const value = m[2] ?? args[++i];
  if (!/^-?\d+$/.test(value ?? "")) {
    console.error(`fuzz: --${m[1]} needs an integer`);
    process.exit(2);
  }
  env[m[1] === "seed" ? "FUZZ_SEED" : "FUZZ_RUNS"] = value;
}
console.log(`fuzz: seed ${env.FUZZ_SEED ?? "20261127 (default)"}, ${env.FUZZ_RUNS ?? "300 (default)"} inputs`);
const r = spawnSync(process.execPath, [join(REPO, "hack", "e2e", "run.mjs"), ...rest], { cwd: REPO, env, stdio: "inherit" });
process.exit(r.status ?? 1);
