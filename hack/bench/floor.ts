// The floor module of the admission benchmark: the same Pepr version and module config, with
// no-op Mutate and Validate bindings on the same labelled Deployments. What the framework
// costs by itself; the module is measured against it.
import { Capability, PeprModule, a } from "pepr";
import cfg from "../../package.json";

const Floor = new Capability({ name: "floor", description: "No-op admission of labelled Deployments" });

Floor.When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel("ai-workloads.io/kind")
  .Mutate(() => undefined);
Floor.When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel("ai-workloads.io/kind")
  .Validate(req => req.Approve());

new PeprModule(cfg, [Floor]);
