// `ai-workloads` CLI: a thin shell over the pure core. Exit codes: 0 ok, 1 policy violations
// (status: something not ok; diff: changes), 2 unreadable input, a YAML syntax error, a usage
// error or an API server that cannot be asked (SPEC §8, §14.4).
import { type ClusterConfig, parseClusterConfig } from "../capabilities/core/config";
import { render } from "../capabilities/core/plan";
import { denials, formatProblem, warnings } from "../capabilities/core/problems";
import { runAccess } from "./access";
import { runDiff } from "./diff";
import { runGraph } from "./graph";
import { InputError, readSources, readText } from "./input";
import { LiveError } from "./live";
import { type Format, formatObjects } from "./output";
import { runStatus } from "./status";

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: () => string;
}

const USAGE = `usage:
  ai-workloads render -f <file|dir|-> [-f ...] [--config <config.yaml>] [-n <namespace>] [-o yaml|json]
  ai-workloads access -f <file|dir|-> [-f ...] [--config <config.yaml>] [-n <namespace>] [-o table|json|markdown]
  ai-workloads graph  -f <file|dir|-> [-f ...] [--config <config.yaml>] [-n <namespace>] [-o mermaid|dot]
  ai-workloads status [-n <namespace> | -A] [--kubeconfig <file>] [--context <name>] [-o table|json]
  ai-workloads diff   [-n <namespace> | -A] [--kubeconfig <file>] [--context <name>]

Renders what the cluster gets for the given manifests: every input object, mutated where
managed, then the generated companions. Exit 0 ok, 1 policy violations, 2 bad input.
access prints who can reach what (per app, path and caller: allow, deny, not-routed or
unknown, and the policy that decided); graph draws gateway host -> route -> Service -> app.
They read the same inputs and exit with the same codes.
status and diff read a live cluster (kubeconfig as kubectl finds it) and never write: status
shows each managed Deployment's companions and defaults (exit 0 all ok, 1 otherwise); diff
shows what the reconciler would change now, as kubectl diff does (exit 0 none, 1 changes).
`;

export interface CommonOptions {
  files: string[];
  configFile?: string;
  namespace: string;
  output?: string;
}

export class UsageError extends Error {}

/**
 * Walks `args` as kubectl does: `--flag value`, `--flag=value`, `-f value`. `onFlag` takes each
 * flag with a reader of its value, and returns false for a flag it does not know.
 */
export function scanArgs(args: readonly string[], onFlag: (flag: string, value: () => string) => boolean): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const [flag, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (!onFlag(flag, value)) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
}

export function parseArgs(args: readonly string[]): CommonOptions {
  const opts: CommonOptions = { files: [], namespace: "default" };
  scanArgs(args, (flag, value) => {
    switch (flag) {
      case "-f":
      case "--filename":
        opts.files.push(value());
        return true;
      case "--config":
        opts.configFile = value();
        return true;
      case "-n":
      case "--namespace":
        opts.namespace = value();
        return true;
      case "-o":
      case "--output":
        opts.output = value();
        return true;
      default:
        return false;
    }
  });
  if (opts.files.length === 0) throw new UsageError("give at least one -f <file|dir|->");
  return opts;
}

/** Reads `--config`: a syntax error is bad input (exit 2), an invalid value a violation (exit 1). */
export function loadConfig(file: string): { config?: ClusterConfig; lines: string[] } {
  const result = parseClusterConfig(readText(file));
  if (result.ok) return { config: result.config, lines: [] };
  if (result.syntax) throw new InputError(`${file}:${result.syntax.line}: YAML syntax error: ${result.syntax.message}`);
  return { lines: result.findings.map(f => `${file}: ${f.field}: ${f.what}; ${f.fix}`) };
}

export function runRender(args: readonly string[], io: Io): number {
  const opts = parseArgs(args);
  const format = (opts.output ?? "yaml") as Format;
  if (format !== "yaml" && format !== "json") throw new UsageError(`-o must be yaml or json, not ${JSON.stringify(opts.output)}`);
  const { config, lines: configLines } = opts.configFile ? loadConfig(opts.configFile) : { config: undefined, lines: [] };
  const input = readSources(opts.files, io.stdin);
  const result = render(input, { defaultNamespace: opts.namespace, config });
  const denied = [...configLines, ...denials(result.problems).map(formatProblem)];
  for (const w of warnings(result.problems)) io.stderr(`${formatProblem(w)}\n`);
  if (denied.length > 0) {
    for (const line of denied) io.stderr(`${line}\n`);
    return 1;
  }
  io.stdout(formatObjects(result.objects, format));
  return 0;
}

type Command = (args: readonly string[], io: Io) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  render: runRender,
  // Wrapped: these modules import from this one, so bind at call time.
  access: (args, io) => runAccess(args, io),
  graph: (args, io) => runGraph(args, io),
  status: (args, io) => runStatus(args, io),
  diff: (args, io) => runDiff(args, io),
};

const LIVE_COMMANDS = new Set(["status", "diff"]);

/** Bad input, usage and an unreachable API server are exit 2 with one line; anything else is a bug. */
function failure(e: unknown, io: Io): number {
  if (e instanceof UsageError) {
    io.stderr(`error: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (e instanceof InputError || e instanceof LiveError) {
    io.stderr(`error: ${e.message}\n`);
    return 2;
  }
  throw e;
}

/**
 * Runs one command. Offline commands (render, access, graph) finish synchronously and return
 * their exit code; the live ones (status, diff) return a promise of it. cli/bin.ts awaits either.
 */
export function run(argv: readonly string[], io: Io): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    io.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  const runCommand = COMMANDS[command];
  try {
    if (!runCommand) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    if (rest.includes("-h") || rest.includes("--help")) {
      io.stdout(USAGE);
      return 0;
    }
    const code = runCommand(rest, io);
    return typeof code === "number" ? code : code.catch(e => failure(e, io));
  } catch (e) {
    return failure(e, io);
  }
}

/** The offline commands, synchronously (the unit tests' runCli). */
export function main(argv: readonly string[], io: Io): number {
  if (LIVE_COMMANDS.has(argv[0] ?? "")) throw new Error(`ai-workloads ${argv[0]} reads a live cluster: call run() and await it`);
  return run(argv, io) as number;
}
