// A second floor for attribution: the module's admission bindings (a Mutate and a Validate of
// labelled Deployments, a Validate of Namespaces and of the config ConfigMap), where the Mutate
// only copies a precomputed result (the module's own mutation of the benchmark's Deployment: its
// spec and its applied-defaults record) and the rest approve. It pays Pepr's cost of the same
// bindings and the same patch without the module's work, so module − floor-patch is the module's share.
import { readFileSync } from "node:fs";
import { Capability, PeprModule, a } from "pepr";
import cfg from "../../package.json";

interface Mutation {
  spec: unknown;
  annotations: Record<string, string>;
}
// Read on first use: `pepr build` runs this file's top level, where the file is not there.
let mutation: Mutation | undefined;
const mutationOf = (): Mutation => (mutation ??= JSON.parse(readFileSync(process.env.AI_WORKLOADS_BENCH_MUTATION ?? "", "utf8")));

const FloorPatch = new Capability({ name: "floor-patch", description: "Returns a fixed patch for labelled Deployments" });

FloorPatch.When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel("ai-workloads.io/kind")
  .Mutate(req => {
    const { spec, annotations } = mutationOf();
    req.Raw.spec = structuredClone(spec) as typeof req.Raw.spec;
    req.Raw.metadata = { ...req.Raw.metadata, annotations: { ...req.Raw.metadata?.annotations, ...annotations } };
  });
FloorPatch.When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel("ai-workloads.io/kind")
  .Validate(req => req.Approve());
// The module's other Validate bindings: Pepr filters every request through each of them.
FloorPatch.When(a.Namespace)
  .IsCreatedOrUpdated()
  .Validate(req => req.Approve());
FloorPatch.When(a.ConfigMap)
  .IsCreatedOrUpdated()
  .WithName("ai-workloads-config")
  .Validate(req => req.Approve());

new PeprModule(cfg, [FloorPatch]);
