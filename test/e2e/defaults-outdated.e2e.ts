// DefaultsOutdated (SPEC §14.4) and each warning once, also across watcher restarts (SPEC §7),
// on the real API server: a Deployment stored before the module started is reported once and
// never rewritten; a restarted watcher does not write it again; a rollout restart brings it
// through admission (current: nothing more is reported); a config change under it is reported
// once more, with the new content.
import {
  type Obj,
  deleteNamespaces,
  expectModuleAlive,
  freshNamespace,
  getObject,
  kubectlOk,
  listObjects,
  mlserver,
  resyncMs,
  setClusterConfig,
  startModule,
  startModuleProcesses,
  state,
  stopModule,
  waitFor,
  withWebhooksOff,
  auditMark,
  writesBy,
  delay,
} from "./harness";

jest.setTimeout(10 * 60_000);

const NS = "do-stored-before";
const RECORD = "ai-workloads.io/applied-defaults";
const CONVERGE = { timeoutMs: 120_000, intervalMs: 500 };
const profileConfig = (cpu: string): string =>
  `infraProfiles:\n  do-small:\n    resources:\n      requests: { cpu: ${cpu}, memory: 256Mi }\n`;

type Event = Obj & { reason: string; message: string; count?: number; involvedObject: { kind: string; name: string } };
type Deployment = Obj & { metadata: Obj["metadata"] & { generation?: number; resourceVersion?: string } };

const outdatedEvents = async (): Promise<Event[]> =>
  (await listObjects<Event>("events", NS)).filter(e => e.reason === "DefaultsOutdated" && e.involvedObject.name === "old");

async function waitForOutdated(count: number): Promise<Event[]> {
  return waitFor(
    `${count} DefaultsOutdated Event(s) on Deployment ${NS}/old`,
    async () => {
      const found = await outdatedEvents();
      if (found.length > count) throw new Error(`more than ${count}: ${JSON.stringify(found.map(e => e.message))}`);
      return found.length === count ? found : undefined;
    },
    CONVERGE,
  );
}

/** Past the next full resync: nothing more is written. */
const pastResync = (): Promise<void> => delay(resyncMs() + 5_000);

/** The module's Events in the namespace, as (involved, reason, message): each at most once. */
async function duplicateReports(): Promise<string[]> {
  const events = (await listObjects<Event>("events", NS)).filter(e => e.reason !== "CompanionsApplied");
  const seen = new Map<string, number>();
  for (const e of events) {
    const key = `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${n}x ${k}`);
}

const observed: Record<string, unknown> = {};

describe("DefaultsOutdated", () => {
  beforeAll(async () => {
    await deleteNamespaces([NS]);
    await setClusterConfig(profileConfig("200m"));
    await freshNamespace(NS);
  });

  afterAll(async () => {
    console.log(`defaults-outdated: observed:\n${JSON.stringify(observed, null, 2)}`);
    await deleteNamespaces([NS]);
    await setClusterConfig("");
    expectModuleAlive();
  });

  it("a Deployment stored before the module started: one DefaultsOutdated, its companions, and the Deployment never rewritten", async () => {
    const mark = auditMark();
    await stopModule();
    await withWebhooksOff(async () => {
      await kubectlOk(["create", "-f", "-"], {
        input: JSON.stringify(mlserver(NS, "old", { "ai-workloads.io/infra-profile": "do-small" })),
      });
      // The module starts after the Deployment was stored.
      startModuleProcesses();
    });
    const before = (await getObject<Deployment>("deployment", "old", NS))!;
    expect(before.metadata.annotations?.[RECORD]).toBeUndefined();

    const [event] = await waitForOutdated(1);
    expect(event.message).toMatch(
      /^Deployment old was stored without passing the module's admission \(created before the module, or while its webhook was off\)\. The module does not rewrite it: re-apply its manifest or run kubectl rollout restart deployment\/old\. Re-applying would change: /,
    );
    expect(event.message).toContain('spec.template.spec.containers[mlserver].command: added ["mlserver","start","/mnt/models"]');
    await waitFor("Service old", async () => (await getObject("service", "old", NS)) !== undefined, CONVERGE);
    await pastResync();
    expect(await outdatedEvents()).toHaveLength(1);
    const after = (await getObject<Deployment>("deployment", "old", NS))!;
    expect([after.metadata.generation, after.metadata.resourceVersion]).toEqual([
      before.metadata.generation,
      before.metadata.resourceVersion,
    ]);
    const moduleDeploymentWrites = writesBy(state().serviceAccount.user, mark).filter(e => e.objectRef?.resource === "deployments");
    expect(moduleDeploymentWrites).toEqual([]);
    observed["stored before the module started"] = { event: event.message, count: event.count, generation: after.metadata.generation };
  });

  it("a restarted watcher writes none of the warnings it wrote before (SPEC §7)", async () => {
    await stopModule();
    await startModule();
    await pastResync();
    expect(await outdatedEvents()).toHaveLength(1);
    expect(await duplicateReports()).toEqual([]);
  });

  it("a rollout restart makes the defaults current; a config change under it is reported once more, with the new content", async () => {
    const [first] = await outdatedEvents();
    await kubectlOk(["rollout", "restart", `deployment/old`, "-n", NS]);
    const admitted = (await getObject<Deployment>("deployment", "old", NS))!;
    expect(admitted.metadata.annotations?.[RECORD]).toBeDefined();
    await pastResync();
    expect(await outdatedEvents()).toHaveLength(1);

    await setClusterConfig(profileConfig("300m"));
    // Listed by name, which is random: the new one is the one that is not the first.
    const changed = (await waitForOutdated(2)).find(e => e.metadata.uid !== first.metadata.uid)!;
    expect(changed.message).toMatch(/^Deployment old differs from what admission gives it under the current config and Namespace\./);
    expect(changed.message).toContain('spec.template.spec.containers[mlserver].resources.requests.cpu: "200m" -> "300m"');
    await pastResync();
    expect(await outdatedEvents()).toHaveLength(2);
    expect(await duplicateReports()).toEqual([]);
    // The module reported; it did not rewrite: the stored request is still the old one.
    const stored = (await getObject<Deployment>("deployment", "old", NS)) as unknown as {
      spec: { template: { spec: { containers: { resources?: { requests?: { cpu?: string } } }[] } } };
    };
    expect(stored.spec.template.spec.containers[0].resources?.requests?.cpu).toBe("200m");
    observed["config changed under it"] = { event: changed.message };
  });
});
