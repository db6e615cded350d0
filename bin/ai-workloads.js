#!/usr/bin/env node
// Entry point of `npx ai-workloads`; build/cli.js is written by `npm ci` (prepare script).
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const bundle = join(__dirname, "..", "build", "cli.js");
if (!existsSync(bundle)) {
  process.stderr.write("error: build/cli.js is missing; run `npm ci` (or `node hack/build-cli.mjs`) first\n");
  process.exit(2);
}
require(bundle);
