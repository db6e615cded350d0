// Namespaces with ai-workloads.io/* annotations and the cluster config ConfigMap are checked
// before they are stored, so that a typo is refused where it is made (SPEC §6.1).
import { Capability, a } from "pepr";
import { ANNOTATION_PREFIX, CONFIG_MAP_KEY, CONFIG_MAP_NAME } from "./core/constants";
import { DEFAULT_CLUSTER_CONFIG, parseClusterConfig, resolveNamespace } from "./core/config";
import { formatProblem } from "./core/problems";

export const SettingsAdmission = new Capability({
  name: "settings-admission",
  description: "Refuses malformed ai-workloads.io Namespace annotations and an invalid cluster config",
});

const { When } = SettingsAdmission;

When(a.Namespace)
  .IsCreatedOrUpdated()
  .Validate(req => {
    const annotations = req.Raw.metadata?.annotations ?? {};
    if (!Object.keys(annotations).some(k => k.startsWith(ANNOTATION_PREFIX))) return req.Approve();
    // Only the annotations' own form is checked here, so the cluster config is not needed.
    const { problems } = resolveNamespace(req.Raw.metadata?.name ?? "", annotations, DEFAULT_CLUSTER_CONFIG);
    return problems.length > 0 ? req.Deny(problems.map(formatProblem).join("\n"), 422) : req.Approve();
  });

When(a.ConfigMap)
  .IsCreatedOrUpdated()
  .WithName(CONFIG_MAP_NAME)
  .Validate(req => {
    const object = `${req.Request.namespace ?? req.Raw.metadata?.namespace}/${CONFIG_MAP_NAME}`;
    const parsed = parseClusterConfig(req.Raw.data?.[CONFIG_MAP_KEY] ?? "");
    if (parsed.ok) return req.Approve();
    const lines = parsed.findings.map(f => formatProblem({ severity: "deny", object, ...f, field: `data[${CONFIG_MAP_KEY}].${f.field}` }));
    return req.Deny(lines.join("\n"), 422);
  });
