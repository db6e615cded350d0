import { readFileSync } from "node:fs";
import { run } from "./main";

// Output is collected and written once, so that nothing reaches stdout when the run fails.
let out = "";
let err = "";
const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t), stdin: () => readFileSync(0, "utf8") };

/** A bug, not bad input: say so in one line rather than with a stack trace. */
const internal = (e: unknown): number => {
  err += `error: internal error: ${(e as Error).message}\n`;
  return 3;
};

// One way for every command: offline ones return their code, live ones (status, diff) a promise of it.
void (async () => {
  let code: number;
  try {
    code = await run(process.argv.slice(2), io);
  } catch (e) {
    code = internal(e);
  }
  if (err) process.stderr.write(err);
  if (out) process.stdout.write(out);
  process.exitCode = code;
})();
