// The reconciler: for one namespace, read what is stored, compute what is wanted with the pure
// core, and write only the difference (SPEC §7, §12). Kyverno's synchronize semantics: generated
// objects are restored when edited or deleted, and removed when no longer wanted.
import { APP_LABEL, CONFIG_MAP_KEY, CONFIG_MAP_NAME } from "../core/constants";
import { type ClusterConfig, DEFAULT_CLUSTER_CONFIG, type NamespaceSettings, parseClusterConfig } from "../core/config";
import { type DefaultsState, defaultsState } from "../core/defaults-state";
import { readsSettingsConfigMap, settingsConflicts } from "../core/mlserver-settings";
import { type PlannedApp, compareCompanions } from "../core/plan";
import { denials, deny, formatProblem } from "../core/problems";
import { SECURITY_KINDS, isUpToDate, objectKey, objectLabel } from "../core/sync";
import type { Companion, KubeObject, V1Deployment } from "../core/types";
import { COMPANION_KINDS, type ClusterApi, refOf } from "./cluster-api";
import { type Involved, type Reason, buildEvent, eventSignature, storedSignature } from "./events";
import { type Observation, observeNamespace } from "./observe";
import { NamespaceQueue, type QueueOptions } from "./queue";
import { SettingsReads } from "./settings-reads";
import { Slots } from "./slots";

export interface Outcome {
  namespace: string;
  applied: string[];
  pruned: string[];
  conflicts: string[];
  /** Writes the API server refused (`Kind/name`): reported, and the namespace is retried with backoff. */
  failed: string[];
  /** Companion writes that succeeded (applies and deletes); Events are not counted. */
  writes: number;
  /** Applies of exactly what was applied last time: someone undid it (drift, or a fight). */
  reverts: number;
}

export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export type ReconcileCounter = "passes" | "failures" | "writes" | "driftRepairs";
export type ReconcileGauge = "queueDepth" | "managedWorkloads" | "conflicts" | "configErrors";

/**
 * Where the reconciler's metrics go (SPEC §14.3): capabilities/metrics.ts records them with Pepr's
 * metricsCollector; the default drops them. A gauge's value is per scope: a namespace, or "" for
 * the cluster; its metric is the sum over the scopes.
 */
export interface MetricsSink {
  count(counter: ReconcileCounter, by: number): void;
  gauge(gauge: ReconcileGauge, scope: string, value: number): void;
}

const NO_METRICS: MetricsSink = { count: () => undefined, gauge: () => undefined };

/** Why no valid cluster config is known (SPEC §12.4); `configMap` when it exists, to report on. */
interface ConfigGap {
  why: string;
  /** The findings of an invalid config.yaml, one per line. */
  findings?: string;
  configMap?: KubeObject;
}

interface Failure {
  object: KubeObject;
  verb: "apply" | "delete";
  error: string;
}

/** An mlserver app's settings.json against its pod (SPEC §13.1); `conflicts` undefined when it could not be read. */
interface SettingsCheck {
  deployment: V1Deployment;
  conflicts: { field: string; message: string }[] | undefined;
}

/** The JWT rules of a namespace: applied before its routes, deleted after them. */
const GUARD_KINDS: ReadonlySet<string> = new Set(["RequestAuthentication", "AuthorizationPolicy"]);

/** Namespaces reconciled at once, and the watcher's writes in flight at once over all of them. */
export const NAMESPACES_AT_ONCE = 4;
/** How a burst's passes over one namespace are spaced out (see NamespaceQueue): 0.25 s, then 0.5, 1, 2, 4. */
export const PASS_SPACING_MS = 250;
export const PASS_MAX_SPACING_MS = 4_000;
/** A spaced pass starts early once its namespace has had no event this long. */
export const PASS_SETTLE_MS = 1_000;
export const WRITES_AT_ONCE = 16;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class Reconciler {
  private config: ClusterConfig = DEFAULT_CLUSTER_CONFIG;
  /** The `config.yaml` in use; undefined for the built-in defaults. */
  private configText: string | undefined;
  private configGap: ConfigGap | undefined;
  /** A config ConfigMap was seen, so its absence is a gap rather than "use the defaults". */
  private configSeen = false;
  /** What was last applied per object: applying it again means someone undid it. */
  private readonly lastApplied = new Map<string, string>();
  /** Warnings already reported, so that an unchanged resync writes no Event; keys start with `<namespace>/`. */
  private readonly reported = new Map<string, string>();
  /** Keys reported by this process at any time: a recurrence after a fix is written again. */
  private readonly everReported = new Set<string>();
  /** The warnings stored as Events before this process started (eventSignature); undefined until read. */
  private storedEvents: Set<string> | undefined;
  private readingStoredEvents: Promise<void> | undefined;
  /** The mlserver settings ConfigMaps known, and what was read in them (SPEC §13.1). */
  private readonly settingsReads: SettingsReads;
  /** Per namespace, each app's defaults state by name, with the version, Namespace settings and config it was judged at. */
  private readonly defaultsStates = new Map<string, Map<string, { at: string; state: DefaultsState | undefined }>>();
  readonly queue: NamespaceQueue;
  /** Every companion and Event write of every pass goes through these. */
  private readonly writes = new Slots(WRITES_AT_ONCE);

  constructor(
    private readonly api: ClusterApi,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
    queueOptions: Partial<QueueOptions> = {},
    private readonly metrics: MetricsSink = NO_METRICS,
  ) {
    this.settingsReads = new SettingsReads(api);
    this.queue = new NamespaceQueue(
      async ns => {
        const { reverts, failed } = await this.reconcileNamespace(ns);
        return { reverts, failures: failed.length };
      },
      (ns, e) => {
        this.metrics.count("passes", 1);
        this.metrics.count("failures", 1);
        this.log.error({ namespace: ns, err: String(e) }, "reconcile failed; retrying");
      },
      {
        concurrency: NAMESPACES_AT_ONCE,
        spacingMs: PASS_SPACING_MS,
        maxSpacingMs: PASS_MAX_SPACING_MS,
        settleMs: PASS_SETTLE_MS,
        ...queueOptions,
      },
      waiting => this.metrics.gauge("queueDepth", "", waiting),
    );
  }

  /**
   * Reads the cluster config. An invalid one, or one without `config.yaml`, never replaces the
   * last valid one: the module keeps working on that (or the built-in defaults) and reports a
   * ConfigError Event on the ConfigMap. A ConfigMap gone after one was seen is no reason to
   * remove security either: until a valid one is back, nothing secure is deleted (SPEC §12.4).
   * Returns whether the effective config, or whether one is known, changed.
   */
  async loadConfig(): Promise<boolean> {
    const found = await this.api.readConfig();
    const before = { config: JSON.stringify(this.config), gap: this.configGap?.why };
    const where = `${this.api.configNamespace}/${CONFIG_MAP_NAME}`;
    if (found) this.configSeen = true;
    if (found?.text !== undefined) {
      if (found.text !== this.configText || this.configGap) {
        const parsed = parseClusterConfig(found.text);
        if (parsed.ok) this.useConfig(parsed.config, found.text);
        else {
          const lines = parsed.findings.map(f => `${where}: data[${CONFIG_MAP_KEY}].${f.field}: ${f.what}; ${f.fix}`);
          this.configGap = { why: `invalid ${CONFIG_MAP_KEY}`, findings: lines.join("\n"), configMap: found.object };
        }
      }
    } else if (found) {
      this.configGap = { why: `${where}: data[${CONFIG_MAP_KEY}]: is missing`, configMap: found.object };
    } else if (this.configSeen || (await this.securityObjectsExist())) {
      // A restarted watcher that finds what a config made counts it as seen.
      this.configSeen = true;
      this.configGap = { why: `ConfigMap ${where} is gone` };
    } else this.useConfig(DEFAULT_CLUSTER_CONFIG, undefined);

    if (this.configGap) this.log.warn({ why: this.configGap.why }, "no valid cluster config; security and routing objects are not deleted");
    this.metrics.gauge("configErrors", "", this.configGap ? 1 : 0);
    // A ConfigMap that is gone has nothing to report on: passes report on the Namespaces whose objects stay.
    if (this.configGap?.configMap) {
      const message = this.gapMessage(this.configGap.findings);
      await this.report(involvedOf(this.configGap.configMap), "ConfigError", message, "config");
    } else this.reported.delete("config");
    return before.config !== JSON.stringify(this.config) || before.gap !== this.configGap?.why;
  }

  private useConfig(config: ClusterConfig, text: string | undefined): void {
    this.config = config;
    this.configText = text;
    this.configGap = undefined;
  }

  private async securityObjectsExist(): Promise<boolean> {
    const kinds = COMPANION_KINDS.filter(k => SECURITY_KINDS.has(k.kind));
    return (await Promise.all(kinds.map(k => this.api.anyManaged(k.apiVersion, k.kind)))).some(Boolean);
  }

  /** What a gap means, then `details` (the findings, or what a namespace keeps): those are long, and Events are cut at 1 KiB. */
  private gapMessage(details: string | undefined): string {
    const inUse = this.configText !== undefined ? "the last valid config stays in use" : "the built-in defaults are in use";
    return (
      `${this.configGap?.why}; ${inUse}, and no RequestAuthentication, AuthorizationPolicy, VirtualService or route is deleted ` +
      `until ${CONFIG_MAP_NAME} holds a valid ${CONFIG_MAP_KEY} (empty for the built-in defaults)${details ? `: ${details}` : ""}`
    );
  }

  enqueue(namespace: string): void {
    this.queue.enqueue(namespace);
  }

  /**
   * The ConfigMap watch saw `name` in `namespace` at `resourceVersion` (undefined: deleted).
   * True when it is the settings ConfigMap of a known mlserver app and differs from what was
   * read: the caller enqueues the namespace. Any other ConfigMap is ignored.
   */
  settingsConfigMapChanged(namespace: string, name: string, resourceVersion: string | undefined): boolean {
    return this.settingsReads.changed(namespace, name, resourceVersion);
  }

  /**
   * Whether a watched object only brings back what this process last applied to it (the echo
   * of its own write, or a change of fields the module does not set): a pass would find it in
   * step, so its event needs none. What changes the wanted state (a Deployment, the Namespace,
   * the config) has events of its own, and the resync catches anything else.
   */
  isOwnWrite(o: KubeObject): boolean {
    const content = this.lastApplied.get(objectKey(o));
    return content !== undefined && isUpToDate(JSON.parse(content), o);
  }

  async resyncAll(): Promise<void> {
    for (const ns of await this.api.namespacesOfInterest()) this.enqueue(ns);
  }

  async reconcileNamespace(namespace: string): Promise<Outcome> {
    const outcome: Outcome = { namespace, applied: [], pruned: [], conflicts: [], failed: [], writes: 0, reverts: 0 };
    await this.loadStoredEvents();
    const seen = await observeNamespace(this.api, namespace, this.config, this.configGap === undefined);
    if (seen === undefined) {
      this.defaultsStates.delete(namespace);
      return this.counted(outcome, 0, 0);
    }
    const { deployments, wanted, plan, missingKinds } = seen;
    if (missingKinds.length > 0) this.log.warn({ namespace, kinds: missingKinds }, "kinds not installed; their companions are skipped");

    // Each object on its own (SPEC §12.3): one the API server refuses does not stop the others.
    const failures: Failure[] = [];
    const applied: Companion[] = [];
    const pruned: KubeObject[] = [];
    const applyEach = (objects: readonly Companion[]): Promise<unknown> =>
      this.writes.all(objects, async c => {
        const o = c as KubeObject;
        const error = await attempt(() => this.api.apply(o));
        if (error !== undefined) return failures.push({ object: o, verb: "apply", error });
        applied.push(c);
        const key = objectKey(o);
        const content = JSON.stringify(o);
        if (this.lastApplied.get(key) === content) outcome.reverts++;
        this.lastApplied.set(key, content);
      });
    const deleteEach = (objects: readonly KubeObject[]): Promise<unknown> =>
      this.writes.all(objects, async o => {
        const error = await attempt(() => this.api.delete(refOf(o)));
        if (error !== undefined) return failures.push({ object: o, verb: "delete", error });
        this.lastApplied.delete(objectKey(o));
        pruned.push(o);
      });
    // A route never goes out ahead of the JWT rules that guard it, and the rules never go before
    // the routes they guard (SPEC §12: JWT protection never fails open). Within each step the
    // writes go side by side.
    const routes = plan.apply.filter(c => c.kind === "VirtualService");
    await applyEach(plan.apply.filter(c => c.kind !== "VirtualService"));
    const unguarded = failures.filter(f => GUARD_KINDS.has(f.object.kind ?? ""));
    if (unguarded.length === 0) await applyEach(routes);
    else
      for (const r of routes) {
        const why = `held back until ${unguarded.map(f => objectLabel(f.object)).join(", ")} is applied, so that no route goes out without its JWT rules`;
        failures.push({ object: r as KubeObject, verb: "apply", error: why });
      }
    await deleteEach(plan.prune.filter(o => !GUARD_KINDS.has(o.kind ?? "")));
    await deleteEach(plan.prune.filter(o => GUARD_KINDS.has(o.kind ?? "")));
    // The writes finish in the API server's order; the report keeps the plan's.
    [applied as KubeObject[], pruned].forEach(list => list.sort(compareCompanions));
    failures.sort((a, b) => compareCompanions(a.object, b.object));
    outcome.applied = applied.map(objectLabel);
    outcome.pruned = pruned.map(objectLabel);
    outcome.failed = failures.map(f => objectLabel(f.object));
    outcome.writes = applied.length + pruned.length;
    outcome.conflicts = plan.conflicts.map(c => objectLabel(c.wanted));
    if (outcome.writes > 0) this.log.info({ namespace, applied: outcome.applied, pruned: outcome.pruned }, "companions reconciled");
    if (failures.length > 0) this.log.warn({ namespace, failed: outcome.failed }, "companion writes refused; retrying with backoff");

    const settings = await this.checkSettings(namespace, wanted.apps);
    await this.reportOutcome(seen, { applied, pruned, failures }, settings);
    // What is reported as ConfigError in this namespace: each Deployment that does not resolve, and the Namespace's annotations.
    const configErrors = wanted.unresolved.length + (wanted.namespaceProblems.length > 0 ? 1 : 0);
    return this.counted(outcome, wanted.apps.length, configErrors);
  }

  /** Records a finished pass in the metrics; returns its outcome. */
  private counted(outcome: Outcome, managedWorkloads: number, configErrors: number): Outcome {
    const m = this.metrics;
    m.count("passes", 1);
    if (outcome.failed.length > 0) m.count("failures", 1);
    m.count("writes", outcome.writes);
    m.count("driftRepairs", outcome.reverts);
    m.gauge("conflicts", outcome.namespace, outcome.conflicts.length);
    m.gauge("managedWorkloads", outcome.namespace, managedWorkloads);
    m.gauge("configErrors", outcome.namespace, configErrors);
    return outcome;
  }

  /**
   * Each mlserver app whose pod reads its settings ConfigMap at /mnt/models, against that
   * ConfigMap's settings.json (SPEC §13.1). The ConfigMap is read only when it or the Deployment
   * changed; a missing ConfigMap or key is no finding (the volume is optional). A read that fails
   * is logged and leaves the app's findings as they were: it does not hold up the companions.
   */
  private async checkSettings(namespace: string, apps: readonly PlannedApp[]): Promise<SettingsCheck[]> {
    const checks: SettingsCheck[] = [];
    const reading: { app: string; configMap: string }[] = [];
    for (const { settings: s, deployment } of apps) {
      if (!readsSettingsConfigMap(deployment, s)) continue;
      reading.push({ app: s.app, configMap: s.settingsConfigMap });
      const stamp = `${deployment.metadata?.uid ?? ""}/${deployment.metadata?.generation ?? ""}`;
      try {
        const text = await this.settingsReads.text(namespace, s.app, stamp, s.settingsConfigMap);
        const findings = text === undefined ? [] : settingsConflicts(text, s);
        const conflicts = findings.map(f => ({ field: f.field, message: formatProblem(deny(`${namespace}/${s.app}`, f)) }));
        checks.push({ deployment, conflicts });
      } catch (e) {
        this.log.warn(
          { namespace, app: s.app, configMap: s.settingsConfigMap, err: errorText(e) },
          "cannot read the mlserver settings ConfigMap",
        );
        checks.push({ deployment, conflicts: undefined });
      }
    }
    this.settingsReads.retain(namespace, reading);
    return checks;
  }

  private async reportOutcome(
    { namespace, deployments, wanted, plan, settings: namespaceSettings }: Observation,
    done: { applied: Companion[]; pruned: KubeObject[]; failures: Failure[] },
    settings: readonly SettingsCheck[],
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
      entry.parts.push(`${verb} ${objectLabel(o)}`);
      changes.set(key, entry);
    };
    done.applied.forEach(o => note(o as KubeObject, "applied"));
    done.pruned.forEach(o => note(o, "deleted"));
    // Events are written side by side, and the pass ends when all are.
    const sending: Promise<void>[] = [];
    for (const { on, parts } of changes.values()) sending.push(this.event(on, "CompanionsApplied", parts.join(", ")));

    // Warnings: each distinct one once; `current` are those that still hold in this namespace.
    const current = new Set<string>();
    const warn = (on: Involved, reason: Reason, message: string, id: string): void => {
      const key = `${namespace}/${id}`;
      current.add(key);
      sending.push(this.report(on, reason, message, key));
    };
    for (const { wanted: w, existing } of plan.conflicts) {
      const message = `${objectLabel(existing)} exists and was not created by ai-workloads; it is left alone. Rename or remove it, or label it app.kubernetes.io/managed-by: ai-workloads to hand it over`;
      warn(ownerOf(w as KubeObject), "CompanionConflict", message, `conflict/${objectKey(w)}`);
    }
    for (const { object, verb, error } of done.failures) {
      const message = `cannot ${verb} ${objectLabel(object)}: ${error}; the other objects are kept in step, and this one is retried with backoff`;
      warn(ownerOf(object), "CompanionFailed", message, `failed/${objectKey(object)}`);
    }
    for (const { deployment, problem } of plan.routeConflicts) {
      warn(involvedOf(deployment as KubeObject), "RouteConflict", formatProblem(problem), `route/${deployment.metadata?.name}`);
    }
    for (const { deployment, problems } of wanted.unresolved) {
      const lines = denials(problems).map(formatProblem);
      const message = `companions kept as they are: ${lines.join("\n")}`;
      warn(involvedOf(deployment as KubeObject), "ConfigError", message, `unresolved/${deployment.metadata!.name}`);
    }
    if (wanted.namespaceProblems.length > 0) {
      const lines = denials(wanted.namespaceProblems).map(formatProblem);
      const message = `VirtualService, RequestAuthentication and AuthorizationPolicies kept as they are until the Namespace's ai-workloads.io annotations are valid: ${lines.join("\n")}`;
      warn(namespaceRef, "ConfigError", message, "namespace");
    }
    for (const { deployment, conflicts } of settings) {
      const id = `settings/${deployment.metadata!.name}/`;
      // Not read this time: what was reported still holds.
      if (conflicts === undefined) {
        for (const key of this.reported.keys()) if (key.startsWith(`${namespace}/${id}`)) current.add(key);
        continue;
      }
      // One Event per key, so that fixing one key does not repeat the others.
      for (const { field, message } of conflicts) warn(involvedOf(deployment as KubeObject), "SettingsConflict", message, `${id}${field}`);
    }
    // Only a valid config says what admission would produce now.
    if (this.configGap === undefined) {
      const judged = this.defaultsStates.get(namespace);
      const now = new Map<string, { at: string; state: DefaultsState | undefined }>();
      this.defaultsStates.set(namespace, now);
      const inputs = JSON.stringify([namespaceSettings, this.configText]);
      for (const { deployment } of wanted.apps) {
        // Judged again only when the Deployment (its version), its Namespace's settings or the config changed.
        const version = deployment.metadata?.resourceVersion;
        const at = `${deployment.metadata?.uid}/${version}/${inputs}`;
        const known = version === undefined ? undefined : judged?.get(deployment.metadata!.name!);
        const state = known?.at === at ? known.state : defaultsState(deployment, namespaceSettings, this.config);
        now.set(deployment.metadata!.name!, { at, state });
        if (state === undefined || state.state === "current") continue;
        warn(
          involvedOf(deployment as KubeObject),
          "DefaultsOutdated",
          outdatedMessage(deployment, state),
          `outdated/${deployment.metadata!.name}`,
        );
      }
    }
    // A ConfigMap that exists carries its own ConfigError; one that is gone is reported where objects stay.
    // The objects it keeps are those no deletion may touch now, even when the last valid config still wants them.
    const kept = plan.keptForConfig.length > 0 ? plan.keptForConfig : plan.guarded;
    if (kept.length > 0 && this.configGap && !this.configGap.configMap) {
      warn(namespaceRef, "ConfigError", this.gapMessage(`kept ${kept.join(", ")}`), "config-gap");
    }
    // Forget what no longer holds in this namespace, so that a recurrence is reported again.
    for (const key of this.reported.keys()) if (key.startsWith(`${namespace}/`) && !current.has(key)) this.reported.delete(key);
    await Promise.all(sending);
  }

  /**
   * Writes a warning Event once per distinct message, also across restarts (SPEC §7): a warning
   * this process has not reported yet is not written again when an Event stored before says it.
   */
  private async report(on: Involved, reason: Reason, message: string, key: string): Promise<void> {
    if (this.reported.get(key) === message) return;
    const firstTime = !this.everReported.has(key);
    this.reported.set(key, message);
    this.everReported.add(key);
    if (firstTime && this.storedEvents?.has(eventSignature(on, reason, message))) return;
    await this.event(on, reason, message);
  }

  /**
   * Reads the Events a previous run wrote, once: a failed read is retried on the next pass.
   * Passes that start side by side share the one read.
   */
  private loadStoredEvents(): Promise<void> {
    if (this.storedEvents !== undefined) return Promise.resolve();
    this.readingStoredEvents ??= this.readStoredEvents().finally(() => (this.readingStoredEvents = undefined));
    return this.readingStoredEvents;
  }

  private async readStoredEvents(): Promise<void> {
    try {
      const events = await this.api.moduleEvents();
      this.storedEvents = new Set(events.map(storedSignature));
    } catch (e) {
      this.log.warn({ err: errorText(e) }, "cannot read the Events written before; a warning may be written once more");
    }
  }

  private async event(on: Involved, reason: Reason, message: string): Promise<void> {
    try {
      const event = buildEvent(on, reason, message, this.now());
      await this.writes.run(() => this.api.createEvent(event));
    } catch (e) {
      // An Event is a report, not state: failing to write one must not fail the reconcile.
      this.log.warn({ reason, err: String(e) }, "cannot write Event");
    }
  }
}

/** A write's refusal as text, undefined when it went through. */
async function attempt(write: () => Promise<void>): Promise<string | undefined> {
  try {
    await write();
    return undefined;
  } catch (e) {
    return errorText(e);
  }
}

function outdatedMessage(deployment: V1Deployment, state: Exclude<DefaultsState, { state: "current" }>): string {
  const name = deployment.metadata?.name;
  const why =
    state.state === "never-admitted"
      ? "was stored without passing the module's admission (created before the module, or while its webhook was off)"
      : "differs from what admission gives it under the current config and Namespace";
  // The fix before the changes: Event messages are cut at 1 KiB.
  const changes = state.changes.length > 0 ? ` Re-applying would change: ${state.changes.join("; ")}` : "";
  return `Deployment ${name} ${why}. The module does not rewrite it: re-apply its manifest or run kubectl rollout restart deployment/${name}.${changes}`;
}

const involvedOf = (o: KubeObject): Involved => ({
  apiVersion: o.apiVersion ?? "v1",
  kind: o.kind ?? "",
  name: o.metadata?.name ?? "",
  namespace: o.metadata?.namespace,
  uid: o.metadata?.uid,
});
