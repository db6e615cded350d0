// The offline CLI (`ai-workloads render`), run in process, as the reference the cluster is
// compared with: the same manifest must give the same objects and the same message lines.
import { main } from "../../cli/main";
import { type Obj, parseYamlObjects, toYaml } from "./harness";

export interface Rendered {
  code: number;
  stdout: string;
  stderr: string;
  objects: Obj[];
  /** stderr lines of denials (SPEC §6.3 form). */
  denied: string[];
  /** stderr lines of warnings, with their `warning: ` prefix. */
  warned: string[];
}

export function render(args: readonly string[], stdin = ""): Rendered {
  let stdout = "";
  let stderr = "";
  const code = main(["render", ...args], { stdout: t => (stdout += t), stderr: t => (stderr += t), stdin: () => stdin });
  const lines = stderr.split("\n").filter(l => l !== "");
  return {
    code,
    stdout,
    stderr,
    objects: code === 0 ? parseYamlObjects(stdout) : [],
    denied: lines.filter(l => !l.startsWith("warning: ")),
    warned: lines.filter(l => l.startsWith("warning: ")),
  };
}

/** Renders objects given in memory (`-f -`), with the cluster config file the cluster has. */
export const renderObjects = (objects: readonly unknown[], configFile?: string, namespace?: string): Rendered =>
  render(["-f", "-", ...(configFile ? ["--config", configFile] : []), ...(namespace ? ["-n", namespace] : [])], toYaml(objects));
