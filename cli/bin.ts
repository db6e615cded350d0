import { readFileSync } from "node:fs";
import { main } from "./main";

// Output is collected and written once, so that nothing reaches stdout when the run fails.
let out = "";
let err = "";
let code: number;
try {
  code = main(process.argv.slice(2), {
    stdout: t => (out += t),
    stderr: t => (err += t),
    stdin: () => readFileSync(0, "utf8"),
  });
} catch (e) {
  // A bug, not bad input: say so in one line rather than with a stack trace.
  err += `error: internal error: ${(e as Error).message}\n`;
  code = 3;
}
if (err) process.stderr.write(err);
if (out) process.stdout.write(out);
process.exitCode = code;
