// Labelled Deployments: the kind's defaults (Mutate), then policy (Validate). The webhook
// fails closed for them: an unmutated AI workload must not slip in (SPEC §6.4).
import { Capability, type PeprMutateRequest, type PeprValidateRequest, a } from "pepr";
import { KIND_LABEL } from "./core/constants";
import { type Admission, admitAmong } from "./core/plan";
import { denials, formatProblem, warnings } from "./core/problems";
import type { V1Deployment } from "./core/types";
import { clusterConfig, managedDeployments, namespaceAnnotations } from "./cluster-state";
import { cachedResolveNamespace, cachedSiblingSettings } from "./admission-memo";

export const WorkloadAdmission = new Capability({
  name: "workload-admission",
  description: "Fills in the defaults of labelled AI workload Deployments and enforces their policy",
});

const { When } = WorkloadAdmission;

async function admit(req: PeprMutateRequest<V1Deployment> | PeprValidateRequest<V1Deployment>): Promise<Admission> {
  // The request's namespace, else the object's, else default; an empty or non-string one counts as unset.
  const given = [req.Request.namespace, req.Raw.metadata?.namespace].find((n): n is string => typeof n === "string" && n !== "");
  const namespace = given ?? "default";
  const [config, annotations, others] = await Promise.all([
    clusterConfig(),
    namespaceAnnotations(namespace),
    managedDeployments(namespace),
  ]);
  const ns = cachedResolveNamespace(namespace, annotations, config);
  const deployment = { ...req.Raw, metadata: { ...req.Raw.metadata, namespace } };
  const siblings = others.filter(d => d.metadata?.name !== deployment.metadata.name);
  const result = admitAmong(
    deployment,
    ns.settings,
    config,
    siblings.flatMap(d => cachedSiblingSettings(d, ns.settings, config) ?? []),
  );
  return { ...result, problems: [...ns.problems, ...result.problems] };
}

When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel(KIND_LABEL)
  .Mutate(async req => {
    const { mutated, problems } = await admit(req);
    // A Deployment that will be denied is left as it is: Validate gives the reasons.
    if (denials(problems).length > 0) return;
    req.Raw.spec = mutated.spec;
  });

When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel(KIND_LABEL)
  .Validate(async req => {
    const { problems } = await admit(req);
    const warned = warnings(problems).map(formatProblem);
    const denied = denials(problems);
    if (denied.length > 0) return req.Deny(denied.map(formatProblem).join("\n"), 422, warned);
    return req.Approve(warned.length > 0 ? warned : undefined);
  });
