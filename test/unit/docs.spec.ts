// The access matrix and graph in README.md and docs/access.md are the commands' own output.
import { spawnSync } from "node:child_process";

it("README.md and docs/access.md show what `access` and `graph` print today", () => {
  const run = spawnSync(process.execPath, ["hack/gen-access-docs.mjs", "--check"], { encoding: "utf8" });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
});
