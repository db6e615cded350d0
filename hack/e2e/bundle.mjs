// Bundles a script that uses test/e2e/harness.ts into one CommonJS file for node (hack/e2e/run.mjs,
// hack/bench/run.mjs). The harness finds the repository from its own location, which bundling
// would move, so its __dirname is fixed to where it lives.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function bundleWithHarness(entry, outfile) {
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "warning",
    define: { __dirname: JSON.stringify(join(REPO, "test", "e2e")) },
  });
}
