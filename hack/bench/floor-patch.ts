// A second floor for attribution: the same no-op validation, and a Mutate that only copies a
// precomputed spec (the module's own result for the benchmark's Deployment). It pays Pepr's
// cost of a patch without the module's work, so module − floor-patch is the module's share.
import { readFileSync } from "node:fs";
import { Capability, PeprModule, a } from "pepr";
import cfg from "../../package.json";

// Read on first use: `pepr build` runs this file's top level, where the spec is not there.
let mutatedSpec: unknown;
const spec = (): unknown => (mutatedSpec ??= JSON.parse(readFileSync(process.env.AI_WORKLOADS_BENCH_SPEC ?? "", "utf8")));

const FloorPatch = new Capability({ name: "floor-patch", description: "Returns a fixed patch for labelled Deployments" });

FloorPatch.When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel("ai-workloads.io/kind")
  .Mutate(req => {
    req.Raw.spec = structuredClone(spec()) as typeof req.Raw.spec;
  });
FloorPatch.When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel("ai-workloads.io/kind")
  .Validate(req => req.Approve());

new PeprModule(cfg, [FloorPatch]);
