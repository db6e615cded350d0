// Golden output of every example's render. The golden files were reviewed by hand; when the
// output changes on purpose, run `UPDATE_GOLDEN=1 npm test` and review `git diff test/golden`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXAMPLES } from "./examples";
import { runCli } from "./run-cli";

const goldenPath = (name: string): string => join(__dirname, "..", "golden", `render-${name}.yaml`);

describe("render of each bundled example matches its reviewed golden file", () => {
  it.each(EXAMPLES)("$name", ({ name, args }) => {
    const result = runCli(["render", ...args]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const file = goldenPath(name);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, result.stdout);
    if (!existsSync(file)) throw new Error(`${file} is missing: run UPDATE_GOLDEN=1 npm test and review it`);
    // toBe on two multi-line strings prints a line diff: the review happens there.
    expect(result.stdout).toBe(readFileSync(file, "utf8"));
  });

  it("render is deterministic byte for byte across runs", () => {
    const [seed] = EXAMPLES;
    expect(runCli(["render", ...seed.args]).stdout).toBe(runCli(["render", ...seed.args]).stdout);
  });
});
