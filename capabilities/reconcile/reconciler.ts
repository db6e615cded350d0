// The reconciler: for one namespace, read what is stored, compute what is wanted with the pure
// core, and write only the difference (SPEC §7). Kyverno's synchronize semantics: generated
// objects are restored when edited or deleted, and removed when no longer wanted.
import { APP_LABEL, CONFIG_MAP_NAME } from "../core/constants";
import { type ClusterConfig, DEFAULT_CLUSTER_CONFIG, parseClusterConfig } from "../core/config";
import { formatProblem } from "../core/problems";
import { isManagedObject, objectKey, planSync, wantedCompanions } from "../core/sync";
import type { Companion, KubeObject, V1Deployment } from "../core/types";
import { COMPANION_KINDS, type ClusterApi, refOf } from "./cluster-api";
import { type Involved, type Reason, buildEvent } from "./events";
import { NamespaceQueue, type QueueOptions } from "./queue";

export interface Outcome {
  namespace: string;
  applied: string[];
  pruned: string[];
  conflicts: string[];
  /** Companion writes (applies and deletes); Events are not counted. */
  writes: number;
  /** Applies of exactly what was applied last time: someone undid it (drift, or a fight). */
  reverts: number;
}

export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const label = (o: KubeObject): string => `${o.kind}/${o.metadata?.name}`;

export class Reconciler {
  private config: ClusterConfig = DEFAULT_CLUSTER_CONFIG;
  private configText: string | undefined;
  /** What was last applied per object: applying it again means someone undid it. */
  private readonly lastApplied = new Map<string, string>();
  /** Warnings already reported, so that an unchanged resync writes no Event. */
  private readonly reported = new Map<string, string>();
  readonly queue: NamespaceQueue;

  constructor(
    private readonly api: ClusterApi,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
    queueOptions: Partial<QueueOptions> = {},
  ) {
    this.queue = new NamespaceQueue(
      ns => this.reconcileNamespace(ns),
      (ns, e) => this.log.error({ namespace: ns, err: String(e) }, "reconcile failed; retrying"),
      queueOptions,
    );
  }

  /**
   * Reads the cluster config. An invalid one never replaces the last valid one: the module
   * keeps working on that and reports a ConfigError Event on the ConfigMap. Returns whether
   * the effective config changed.
   */
  async loadConfig(): Promise<boolean> {
    const found = await this.api.readConfig();
    const text = found?.text ?? "";
    if (found && text === this.configText) return false;
    const parsed = parseClusterConfig(text);
    if (!parsed.ok) {
      const object = `${found?.object.metadata?.namespace}/${CONFIG_MAP_NAME}`;
      const message = parsed.findings.map(f => `${object}: data[config.yaml].${f.field}: ${f.what}; ${f.fix}`).join("\n");
      this.log.warn({ findings: parsed.findings.length }, "invalid cluster config; keeping the last valid one");
      if (found)
        await this.report(
          involvedOf(found.object),
          "ConfigError",
          `invalid config.yaml, the last valid config stays in use: ${message}`,
          `config`,
        );
      return false;
    }
    this.configText = found ? text : undefined;
    this.reported.delete(`config`);
    const changed = JSON.stringify(parsed.config) !== JSON.stringify(this.config);
    this.config = parsed.config;
    return changed;
  }

  enqueue(namespace: string): void {
    this.queue.enqueue(namespace);
  }

  async resyncAll(): Promise<void> {
    for (const ns of await this.api.namespacesOfInterest()) this.enqueue(ns);
  }

  async reconcileNamespace(namespace: string): Promise<Outcome> {
    const outcome: Outcome = { namespace, applied: [], pruned: [], conflicts: [], writes: 0, reverts: 0 };
    const annotations = await this.api.namespaceAnnotations(namespace);
    // A deleted namespace takes its objects with it.
    if (annotations === undefined) return outcome;
    // A Deployment being deleted (foreground deletion keeps it until the garbage collector has
    // removed what it owns) is gone already: re-applying its objects would fight the collector.
    const deployments = (await this.api.managedDeployments(namespace)).filter(d => !d.metadata?.deletionTimestamp);
    const all = wantedCompanions(namespace, annotations, this.config, deployments);
    const lists = await Promise.all(COMPANION_KINDS.map(k => this.api.listManaged(k.apiVersion, k.kind, namespace)));
    // Without Istio's CRDs the Istio companions cannot exist; the others are still kept true.
    const missingKinds = COMPANION_KINDS.filter((_, i) => lists[i] === undefined).map(k => k.kind as string);
    if (missingKinds.length > 0) this.log.warn({ namespace, kinds: missingKinds }, "kinds not installed; their companions are skipped");
    const wanted = { ...all, companions: all.companions.filter(c => !missingKinds.includes(c.kind ?? "")) };
    const managed = lists.flatMap(l => l ?? []).filter(isManagedObject);
    const managedKeys = new Set(managed.map(objectKey));
    const unlisted = await Promise.all(
      wanted.companions.filter(c => !managedKeys.has(objectKey(c))).map(c => this.api.get(refOf(c as KubeObject))),
    );
    const others = unlisted.filter((o): o is KubeObject => o !== undefined && !isManagedObject(o));
    managed.push(...unlisted.filter((o): o is KubeObject => o !== undefined && isManagedObject(o)));

    const keep = new Set(wanted.unresolved.map(u => u.deployment.metadata!.name!));
    const plan = planSync(wanted.companions, managed, others, keep);

    for (const o of plan.apply) {
      await this.api.apply(o as KubeObject);
      outcome.applied.push(label(o as KubeObject));
      const key = objectKey(o as KubeObject);
      const content = JSON.stringify(o);
      if (this.lastApplied.get(key) === content) outcome.reverts++;
      this.lastApplied.set(key, content);
    }
    for (const o of plan.prune) {
      this.lastApplied.delete(objectKey(o));
      await this.api.delete(refOf(o));
      outcome.pruned.push(label(o));
    }
    outcome.writes = plan.apply.length + plan.prune.length;
    outcome.conflicts = plan.conflicts.map(c => label(c.wanted as KubeObject));
    if (outcome.writes > 0) this.log.info({ namespace, applied: outcome.applied, pruned: outcome.pruned }, "companions reconciled");

    await this.reportOutcome(namespace, deployments, plan.apply as Companion[], plan.prune, plan.conflicts, wanted.unresolved);
    return outcome;
  }

  private async reportOutcome(
    namespace: string,
    deployments: V1Deployment[],
    applied: Companion[],
    pruned: KubeObject[],
    conflicts: { wanted: Companion; existing: KubeObject }[],
    unresolved: { deployment: V1Deployment; problems: { severity: string }[] }[],
  ): Promise<void> {
    const byName = new Map(deployments.map(d => [d.metadata!.name!, d]));
    const namespaceRef: Involved = { apiVersion: "v1", kind: "Namespace", name: namespace };
    // Per-app objects are reported on their Deployment, namespace-wide ones on the Namespace.
    const ownerOf = (o: KubeObject): Involved => {
      const d = byName.get(o.metadata?.labels?.[APP_LABEL] ?? "");
      return d ? involvedOf(d as KubeObject) : namespaceRef;
    };
    const changes = new Map<string, { on: Involved; parts: string[] }>();
    const note = (o: KubeObject, verb: string): void => {
      const on = ownerOf(o);
      // A deleted Deployment's objects go with it; nothing to report on.
      if (on.kind === "Namespace" && o.metadata?.labels?.[APP_LABEL] !== undefined) return;
      const key = `${on.kind}/${on.name}`;
      const entry = changes.get(key) ?? { on, parts: [] };
      entry.parts.push(`${verb} ${label(o)}`);
      changes.set(key, entry);
    };
    applied.forEach(o => note(o as KubeObject, "applied"));
    pruned.forEach(o => note(o, "deleted"));
    for (const { on, parts } of changes.values()) await this.event(on, "CompanionsApplied", parts.join(", "));

    const current = new Set<string>();
    for (const { wanted, existing } of conflicts) {
      const key = `conflict/${objectKey(wanted as KubeObject)}`;
      current.add(key);
      const message = `${label(existing)} exists and was not created by ai-workloads; it is left alone. Rename or remove it, or label it app.kubernetes.io/managed-by: ai-workloads to hand it over`;
      await this.report(ownerOf(wanted as KubeObject), "CompanionConflict", message, key);
    }
    for (const { deployment, problems } of unresolved) {
      const key = `unresolved/${namespace}/${deployment.metadata!.name}`;
      current.add(key);
      const lines = (problems as Parameters<typeof formatProblem>[0][]).filter(p => p.severity === "deny").map(formatProblem);
      await this.report(involvedOf(deployment as KubeObject), "ConfigError", `companions kept as they are: ${lines.join("\n")}`, key);
    }
    // Forget what was resolved in this namespace, so that a recurrence is reported again.
    for (const key of this.reported.keys()) {
      if (key.startsWith("conflict/") || key.startsWith("unresolved/")) {
        const ns = key.startsWith("conflict/") ? key.split("/")[2] : key.split("/")[1];
        if (ns === namespace && !current.has(key)) this.reported.delete(key);
      }
    }
  }

  /** Writes a warning Event once per distinct message. */
  private async report(on: Involved, reason: Reason, message: string, key: string): Promise<void> {
    if (this.reported.get(key) === message) return;
    this.reported.set(key, message);
    await this.event(on, reason, message);
  }

  private async event(on: Involved, reason: Reason, message: string): Promise<void> {
    try {
      await this.api.createEvent(buildEvent(on, reason, message, this.now()));
    } catch (e) {
      // An Event is a report, not state: failing to write one must not fail the reconcile.
      this.log.warn({ reason, err: String(e) }, "cannot write Event");
    }
  }
}

const involvedOf = (o: KubeObject): Involved => ({
  apiVersion: o.apiVersion ?? "v1",
  kind: o.kind ?? "",
  name: o.metadata?.name ?? "",
  namespace: o.metadata?.namespace,
  uid: o.metadata?.uid,
});
