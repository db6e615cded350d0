// `ai-workloads access`: who can reach what (SPEC §11). Same inputs and exit codes as render.
import { type AccessModel, buildAccessModel } from "../capabilities/core/access/model";
import { MATRIX_FORMATS, type MatrixFormat, accessMatrix, formatMatrix } from "../capabilities/core/access/matrix";
import { denials, formatProblem, warnings } from "../capabilities/core/problems";
import { readSources } from "./input";
import { type Io, UsageError, loadConfig, parseArgs } from "./main";

/** `-o`: one of `formats`, the first being the default; anything else is a usage error (exit 2). */
export function outputFormat<F extends string>(output: string | undefined, formats: readonly F[]): F {
  if (output === undefined) return formats[0];
  if ((formats as readonly string[]).includes(output)) return output as F;
  const choices = `${formats.slice(0, -1).join(", ")} or ${formats[formats.length - 1]}`;
  throw new UsageError(`-o must be ${choices}, not ${JSON.stringify(output)}`);
}

/**
 * Reads and renders like `render`: warnings to stderr; violations to stderr with exit 1
 * (returned as a number); bad input throws for exit 2.
 */
export function loadModel(opts: ReturnType<typeof parseArgs>, io: Io): AccessModel | number {
  const { config, lines: configLines } = opts.configFile ? loadConfig(opts.configFile) : { config: undefined, lines: [] };
  const input = readSources(opts.files, io.stdin);
  const { model, problems } = buildAccessModel(input, { defaultNamespace: opts.namespace, config });
  for (const w of warnings(problems)) io.stderr(`${formatProblem(w)}\n`);
  const denied = [...configLines, ...denials(problems).map(formatProblem)];
  if (denied.length > 0 || !model) {
    for (const line of denied) io.stderr(`${line}\n`);
    return 1;
  }
  return model;
}

export function runAccess(args: readonly string[], io: Io): number {
  const opts = parseArgs(args);
  const format: MatrixFormat = outputFormat(opts.output, MATRIX_FORMATS);
  const model = loadModel(opts, io);
  if (typeof model === "number") return model;
  io.stdout(formatMatrix(accessMatrix(model), format));
  return 0;
}
