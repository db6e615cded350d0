// `ai-workloads graph`: the routes and apps of each namespace as Mermaid or Graphviz DOT.
import { GRAPH_FORMATS, type GraphFormat, buildGraph, formatGraph } from "../capabilities/core/access/graph";
import { loadModel, outputFormat } from "./access";
import { type Io, parseArgs } from "./main";

export function runGraph(args: readonly string[], io: Io): number {
  const opts = parseArgs(args);
  const format: GraphFormat = outputFormat(opts.output, GRAPH_FORMATS);
  const model = loadModel(opts, io);
  if (typeof model === "number") return model;
  io.stdout(formatGraph(buildGraph(model), format));
  return 0;
}
