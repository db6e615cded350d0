// Labelled Deployments: the kind's defaults (Mutate), then policy (Validate). The webhook
// fails closed for them: an unmutated AI workload must not slip in (SPEC §6.4).
import { Capability, type PeprMutateRequest, type PeprValidateRequest, a } from "pepr";
import { APPLIED_DEFAULTS_ANNOTATION, KIND_LABEL } from "./core/constants";
import type { ClusterConfig, resolveNamespace } from "./core/config";
import { type Admission, type AdmitOptions, admitAmong } from "./core/plan";
import { checkJwtWithoutRequestAuth, ratchet } from "./core/policy";
import { type Problem, denials, formatProblem, warn, warnings } from "./core/problems";
import { type V1Deployment, extensibleCopy } from "./core/types";
import { type WorkloadSettings, isManaged } from "./core/workload";
import {
  cachedClusterConfig,
  clusterConfig,
  managedDeployments,
  managedDeploymentsByNamespace,
  mirroredManagedDeployments,
  mirroredManagedDeploymentsByNamespace,
  mirroredNamespaceAnnotations,
  mirrorsVersion,
  namespaceAnnotations,
} from "./cluster-state";
import { cachedResolveNamespace, cachedSiblingSettings } from "./admission-memo";
import { type JudgementInputs, MutateJudgements } from "./admission-reuse";
import { countAdmission } from "./metrics";

export const WorkloadAdmission = new Capability({
  name: "workload-admission",
  description: "Fills in the defaults of labelled AI workload Deployments and enforces their policy",
});

const { When } = WorkloadAdmission;

/** What an admission in one namespace is judged against: the config, the Namespace, its stored managed Deployments. */
interface Context {
  namespace: string;
  config: ClusterConfig;
  ns: ReturnType<typeof resolveNamespace>;
  stored: readonly V1Deployment[];
}

async function context(namespace: string): Promise<Context> {
  const [config, annotations, stored] = await Promise.all([
    clusterConfig(),
    namespaceAnnotations(namespace),
    managedDeployments(namespace),
  ]);
  return { namespace, config, ns: cachedResolveNamespace(namespace, annotations, config), stored };
}

/** As context, from the watch copies and the config cache alone; undefined when one of them must be read. */
function cachedContext(namespace: string): Context | undefined {
  const config = cachedClusterConfig();
  const annotations = mirroredNamespaceAnnotations(namespace);
  const stored = mirroredManagedDeployments(namespace);
  if (config === undefined || annotations === undefined || stored === undefined) return undefined;
  return { namespace, config, ns: cachedResolveNamespace(namespace, annotations, config), stored };
}

/**
 * Exposed apps of other namespaces on this namespace's host and gateway (SPEC §12.6). Only a
 * namespace with both can share a URL space, so only then are the other namespaces read.
 */
async function appsSharingUrlSpace(ctx: Context): Promise<readonly WorkloadSettings[]> {
  if (!mayShareUrlSpace(ctx)) return NO_APPS;
  const apps: WorkloadSettings[] = [];
  for (const [namespace, deployments] of await managedDeploymentsByNamespace()) {
    if (namespace !== ctx.namespace) apps.push(...sharingApps(ctx, namespace, await namespaceAnnotations(namespace), deployments));
  }
  return apps;
}

/** appsSharingUrlSpace from the watch copies, per resolved Namespace, as of the copies' version. */
const sharing = new WeakMap<Context["ns"], { version: number; config: ClusterConfig; apps: readonly WorkloadSettings[] }>();

/**
 * As appsSharingUrlSpace, from the watch copies alone; undefined when one of them must be read.
 * The same array until the copies or the config change: an admission on a host shared by
 * thousands of apps does not gather them again.
 */
function cachedAppsSharingUrlSpace(ctx: Context): readonly WorkloadSettings[] | undefined {
  if (!mayShareUrlSpace(ctx)) return NO_APPS;
  const version = mirrorsVersion();
  const hit = sharing.get(ctx.ns);
  if (hit?.version === version && hit.config === ctx.config) return hit.apps;
  const byNamespace = mirroredManagedDeploymentsByNamespace();
  if (byNamespace === undefined) return undefined;
  const apps: WorkloadSettings[] = [];
  for (const [namespace, deployments] of byNamespace) {
    if (namespace === ctx.namespace) continue;
    const annotations = mirroredNamespaceAnnotations(namespace);
    if (annotations === undefined) return undefined;
    apps.push(...sharingApps(ctx, namespace, annotations, deployments));
  }
  sharing.set(ctx.ns, { version, config: ctx.config, apps });
  return apps;
}

const NO_APPS: readonly WorkloadSettings[] = Object.freeze([]);

const mayShareUrlSpace = (ctx: Context): boolean => ctx.ns.settings.host !== undefined && ctx.ns.settings.gateway !== undefined;

/** The apps of another namespace when it is on ctx's host and gateway; none otherwise. */
function sharingApps(
  ctx: Context,
  namespace: string,
  annotations: Record<string, string>,
  deployments: readonly V1Deployment[],
): WorkloadSettings[] {
  const ns = cachedResolveNamespace(namespace, annotations, ctx.config).settings;
  if (ns.host !== ctx.ns.settings.host || ns.gateway !== ctx.ns.settings.gateway) return [];
  return deployments.flatMap(d => cachedSiblingSettings(d, ns, ctx.config) ?? []);
}

/** othersOf's lists, per stored list (the watch copy hands out the same one until it changes). */
const othersByStored = new WeakMap<
  readonly V1Deployment[],
  { ns: Context["ns"]; config: ClusterConfig; elsewhere: readonly WorkloadSettings[]; others: readonly WorkloadSettings[] }
>();

/**
 * The apps a route is checked against: every stored managed Deployment of the namespace (the one
 * judged included: the check passes over an app's own route) and the apps elsewhere on its URL space.
 */
function othersOf(ctx: Context, elsewhere: readonly WorkloadSettings[]): readonly WorkloadSettings[] {
  const hit = othersByStored.get(ctx.stored);
  if (hit?.ns === ctx.ns && hit.config === ctx.config && hit.elsewhere === elsewhere) return hit.others;
  const others = [...ctx.stored.flatMap(d => cachedSiblingSettings(d, ctx.ns.settings, ctx.config) ?? []), ...elsewhere];
  othersByStored.set(ctx.stored, { ns: ctx.ns, config: ctx.config, elsewhere, others });
  return others;
}

function evaluate(ctx: Context, raw: V1Deployment, elsewhere: readonly WorkloadSettings[], options: AdmitOptions): Admission {
  const metadata = extensibleCopy(raw.metadata);
  metadata.namespace = ctx.namespace;
  const deployment = { ...raw, metadata };
  const result = admitAmong(deployment, ctx.ns.settings, ctx.config, othersOf(ctx, elsewhere), options);
  return { ...result, problems: [...ctx.ns.problems, ...result.problems] };
}

type Request = PeprMutateRequest<V1Deployment> | PeprValidateRequest<V1Deployment>;

/** What a request is judged against, read once per request. */
interface Read {
  ctx: Context;
  inputs: JudgementInputs;
}

// The request's namespace, else the object's, else default; an empty or non-string one counts as unset.
const namespaceOf = (req: Request): string =>
  [req.Request.namespace, req.Raw.metadata?.namespace].find((n): n is string => typeof n === "string" && n !== "") ?? "default";

/**
 * What a request is judged against. Once the watch copies are synced and the config is fresh,
 * everything is in memory and is read without a wait: Mutate and Validate of every labelled
 * Deployment come this way, and a chain of awaits cost them more than the reads.
 */
function cachedRead(req: Request): Read | undefined {
  const ctx = cachedContext(namespaceOf(req));
  const elsewhere = ctx && cachedAppsSharingUrlSpace(ctx);
  return ctx && elsewhere && { ctx, inputs: inputsFor(req, ctx, elsewhere) };
}

/** As cachedRead, reading from the API server what the caches do not hold. */
async function readThrough(req: Request): Promise<Read> {
  const ctx = await context(namespaceOf(req));
  return { ctx, inputs: inputsFor(req, ctx, cachedAppsSharingUrlSpace(ctx) ?? (await appsSharingUrlSpace(ctx))) };
}

const inputsFor = (req: Request, ctx: Context, elsewhere: readonly WorkloadSettings[]): JudgementInputs => ({
  operation: req.Request.operation,
  namespace: req.Request.namespace,
  // A copy of the two levels this capability replaces on req.Raw after judging (spec, metadata).
  object: { ...req.Raw, metadata: { ...req.Raw.metadata } },
  oldObject: req.OldResource as V1Deployment | undefined,
  config: ctx.config,
  ns: ctx.ns,
  stored: ctx.stored,
  elsewhere,
});

/**
 * Defaults and problems of one request; an UPDATE is judged by what it changes (SPEC §12.2).
 * Validate asks for the problems only (`record: false`): the same checks, no record built.
 */
function judge(req: Request, { ctx, inputs }: Read, options: AdmitOptions = {}): Admission {
  const result = evaluate(ctx, req.Raw, inputs.elsewhere, options);
  if (req.Request.operation === "UPDATE") {
    const old = inputs.oldObject;
    // A Deployment that gets the label now is a new AI workload: nothing is ratcheted.
    if (!old || !isManaged(old)) return result;
    const kept = keepHpaReplicas(result, old);
    return {
      ...result,
      problems: [...ratchet(result.problems, evaluate(ctx, old, inputs.elsewhere, { record: false }).problems), ...kept],
    };
  }
  return { ...result, problems: [...result.problems, ...checkJwtWithoutRequestAuth(ctx.ns.settings)] };
}

/**
 * SPEC §14.2: the module's HPA owns the replica count, so an UPDATE (a GitOps sync, a
 * `kubectl apply` of `replicas: 1`) keeps the stored value. Returns the warning; `mutated` is
 * written in place (it is admitAmong's own copy).
 */
function keepHpaReplicas(result: Admission, old: V1Deployment): Problem[] {
  const s = result.settings;
  const before = old.spec?.replicas;
  const sent = result.mutated.spec?.replicas;
  if (!s || s.autoscale === "off" || before === undefined || sent === before || result.mutated.spec === undefined) return [];
  result.mutated.spec.replicas = before;
  return [
    warn(`${s.namespace}/${s.app}`, {
      field: "spec.replicas",
      what: `${sent ?? "no value"} was not applied: HorizontalPodAutoscaler ${s.namespace}/${s.app} owns the replica count (now ${before})`,
      fix: "leave replicas out of the manifests of autoscaled apps; kubectl scale changes it",
    }),
  ];
}

/**
 * A request's Mutate and Validate, as far as this process can tell them apart: the API server
 * gives each webhook call its own uid, so an update is known by the object and the
 * resourceVersion it updates (only one update of that version can succeed), a create by its name.
 */
const requestKey = (req: Request): string => {
  const old = req.OldResource?.metadata;
  return `${req.Request.operation} ${req.Request.namespace}/${req.Request.name || req.Raw.metadata?.name}@${old?.resourceVersion}`;
};

/** Mutate's judgement and carried warnings, for the Validate of the same request when this process serves both. */
const fromMutate = new MutateJudgements();

When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel(KIND_LABEL)
  .Mutate(async req => {
    // Finalizers must always be removable: a Deployment being deleted is admitted as it is.
    if (req.Raw.metadata?.deletionTimestamp) return;
    const read = cachedRead(req) ?? (await readThrough(req));
    const { mutated, problems } = judge(req, read);
    const carried = warnings(problems)
      .filter(p => p.field === "spec.replicas")
      .map(formatProblem);
    fromMutate.keep(requestKey(req), read.inputs, problems, carried);
    // A Deployment that will be denied is left as it is: Validate gives the reasons.
    if (denials(problems).length > 0) return;
    req.Raw.spec = mutated.spec;
    const record = mutated.metadata?.annotations?.[APPLIED_DEFAULTS_ANNOTATION];
    if (record !== undefined)
      req.Raw.metadata = { ...req.Raw.metadata, annotations: { ...req.Raw.metadata?.annotations, [APPLIED_DEFAULTS_ANNOTATION]: record } };
  });

When(a.Deployment)
  .IsCreatedOrUpdated()
  .WithLabel(KIND_LABEL)
  .Validate(async req => {
    if (req.Raw.metadata?.deletionTimestamp) return req.Approve();
    const read = cachedRead(req) ?? (await readThrough(req));
    const { problems: judged, carried } = fromMutate.take(requestKey(req), read.inputs);
    const problems = judged ?? judge(req, read, { record: false }).problems;
    const warned = [...carried, ...warnings(problems).map(formatProblem)];
    const denied = denials(problems);
    if (denied.length > 0) return countAdmission(req.Deny(denied.map(formatProblem).join("\n"), 422, warned));
    return countAdmission(req.Approve(warned.length > 0 ? warned : undefined));
  });
