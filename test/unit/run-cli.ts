import { main } from "../../cli/main";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in process, as `npx ai-workloads …` would, from the repository root. */
export function runCli(argv: string[], stdin = ""): CliResult {
  let stdout = "";
  let stderr = "";
  const code = main(argv, { stdout: t => (stdout += t), stderr: t => (stderr += t), stdin: () => stdin });
  return { code, stdout, stderr };
}
