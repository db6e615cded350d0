// `npm run bench`: builds the benchmark and the floor module, starts the test control plane
// with the module served (hack/e2e/run.mjs up, in its own state dir), runs hack/bench/main.ts,
// and always stops everything.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWithHarness } from "../e2e/bundle.mjs";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// AI_WORKLOADS_BENCH_DIR lets two benchmark runs (each its own control plane) share a checkout.
const DIR = process.env.AI_WORKLOADS_BENCH_DIR ?? join(REPO, ".tmp", "bench");
const env = { ...process.env, AI_WORKLOADS_E2E_DIR: join(DIR, "e2e") };
mkdirSync(DIR, { recursive: true });

const step = (what, cmd, args) => {
  process.stderr.write(`bench: ${what}\n`);
  execFileSync(cmd, args, { cwd: REPO, env, stdio: ["ignore", "inherit", "inherit"] });
};

step("CLI bundle", process.execPath, [join(REPO, "hack", "build-cli.mjs")]);
bundleWithHarness(join(REPO, "hack", "bench", "main.ts"), join(DIR, "bench.js"));
// Pepr builds a module from its own folder (package.json, tsconfig.json, pepr.ts): each floor
// gets one with the module's own package.json, so that only the bindings differ.
function buildFloor(name, entry) {
  const dir = join(DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  copyFileSync(join(REPO, "package.json"), join(dir, "package.json"));
  const tsconfig = JSON.parse(readFileSync(join(REPO, "tsconfig.json"), "utf8"));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ ...tsconfig, include: ["pepr.ts"] }, null, 2));
  writeFileSync(
    join(dir, "pepr.ts"),
    readFileSync(join(REPO, "hack", "bench", entry), "utf8").replace('"../../package.json"', '"./package.json"'),
  );
  process.stderr.write(`bench: ${name} module build\n`);
  execFileSync(process.execPath, [join(REPO, "node_modules", "pepr", "dist", "cli.js"), "build", "-o", "dist"], {
    cwd: dir,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return join(dir, "dist", "pepr-ai-workloads.js");
}
const floorModule = buildFloor("floor", "floor.ts");
// The module's own mutation of the benchmark's Deployment, computed by the core, for floor-patch.
env.AI_WORKLOADS_BENCH_MUTATION = join(DIR, "mutation.json");
writeFileSync(
  env.AI_WORKLOADS_BENCH_MUTATION,
  execFileSync(process.execPath, [join(DIR, "bench.js"), "--print-mutation"], { cwd: REPO, env, encoding: "utf8" }),
);
const floorPatchModule = buildFloor("floor-patch", "floor-patch.ts");

let code = 1;
try {
  step("control plane and module up", process.execPath, [join(REPO, "hack", "e2e", "run.mjs"), "up"]);
  const run = spawnSync(process.execPath, ["--expose-gc", join(DIR, "bench.js"), floorModule, floorPatchModule, DIR], {
    cwd: REPO,
    env,
    stdio: "inherit",
  });
  code = run.status ?? 1;
} finally {
  spawnSync(process.execPath, [join(REPO, "hack", "e2e", "run.mjs"), "down"], { cwd: REPO, env, stdio: ["ignore", "ignore", "inherit"] });
}
process.exit(code);
