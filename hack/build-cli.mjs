// Bundles the CLI into build/cli.js (run by `npm ci` through the prepare script), so that
// `npx ai-workloads` starts plain Node with no TypeScript loader.
import { buildSync } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
buildSync({
  entryPoints: [join(root, "cli/bin.ts")],
  outfile: join(root, "build/cli.js"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  logLevel: "warning",
});
