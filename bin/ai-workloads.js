#!/usr/bin/env node
// Entry point of `npx ai-workloads`. build/cli.js is bundled by `npm ci` (prepare script);
// in a checkout it is rebuilt when a source file is newer, so the CLI never runs stale code.
const { existsSync, readdirSync, statSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const bundle = join(root, "build", "cli.js");

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = ["cli", "capabilities"].map(d => join(root, d)).filter(existsSync);
const stale = !existsSync(bundle) || sources.some(d => newestSource(d) > statSync(bundle).mtimeMs);
if (stale) {
  try {
    require("node:child_process").execFileSync(process.execPath, [join(root, "hack", "build-cli.mjs")], { stdio: "inherit" });
  } catch {
    process.stderr.write("error: build/cli.js is missing or stale and could not be built; run `npm ci`\n");
    process.exit(2);
  }
}
require(bundle);
