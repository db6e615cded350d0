// Bad input through `ai-workloads render`: exit 0, 1 or 2 only, never a stack trace.
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { main } from "../../cli/main";
import { manifestText } from "./generators";

const seed = Number(process.env.FUZZ_SEED ?? 20261127);

describe("ai-workloads render on generated bad input", () => {
  it("exits 0, 1 or 2 with a clean message, in process (300 inputs)", () => {
    fc.assert(
      fc.property(manifestText, text => {
        let out = "";
        let err = "";
        const code = main(["render", "-f", "-"], { stdout: t => (out += t), stderr: t => (err += t), stdin: () => text });
        expect([0, 1, 2]).toContain(code);
        if (code !== 0) expect(out).toBe("");
        expect(err).not.toMatch(/\n\s+at .+:\d+:\d+/);
      }),
      { numRuns: 300, seed },
    );
  });

  it("does the same as a process (20 inputs)", () => {
    execFileOnce();
    const samples = fc.sample(manifestText, { numRuns: 20, seed });
    for (const text of samples) {
      const p = spawnSync(process.execPath, ["build/cli.js", "render", "-f", "-"], { input: text, encoding: "utf8" });
      expect([0, 1, 2]).toContain(p.status);
      expect(p.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
  });
});

function execFileOnce(): void {
  spawnSync(process.execPath, ["hack/build-cli.mjs"], { stdio: "inherit" });
}
