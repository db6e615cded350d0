// mlserver settings ConfigMaps on the real API server (SPEC §13.1): the reconciler reads an app's
// settings ConfigMap only when it or the Deployment changed, and learns of a change from its
// cluster-wide ConfigMap watch. Here only the ConfigMap changes, so every SettingsConflict after
// the first shows the watch at work: a resync alone never reads the ConfigMap again.
import {
  type Obj,
  applyYaml,
  deleteNamespaces,
  expectModuleAlive,
  freshNamespace,
  getObject,
  kubectlOk,
  listObjects,
  mlserver,
  setClusterConfig,
  waitFor,
} from "./harness";

jest.setTimeout(300_000);

afterAll(() => expectModuleAlive());

const NS = "e2e-settings";
const APP = "runtime";
const SETTINGS = `${APP}-settings`;
const CONVERGE = { timeoutMs: 120_000, intervalMs: 500 };

const settingsConfigMap = (settings: Record<string, unknown>): Obj => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: SETTINGS, namespace: NS },
  data: { "settings.json": JSON.stringify(settings), "model-settings.json": "{}" },
});

type EventObj = Obj & { reason: string; message: string; involvedObject: { kind: string; name: string } };

/** The SettingsConflict Event on the app's Deployment whose message names `key`. */
const conflictNaming = (key: string): Promise<EventObj> =>
  waitFor(
    `a SettingsConflict Event naming ${key} on Deployment ${APP}`,
    async () =>
      (await listObjects<EventObj>("events", NS)).find(
        e =>
          e.reason === "SettingsConflict" &&
          e.involvedObject.kind === "Deployment" &&
          e.involvedObject.name === APP &&
          e.message.includes(`settings.json: ${key}:`),
      ),
    CONVERGE,
  );

beforeAll(async () => {
  await setClusterConfig("");
  await freshNamespace(NS);
});

afterAll(() => deleteNamespaces([NS]));

describe("an mlserver app's settings ConfigMap, changed under an unchanged Deployment", () => {
  it("is read again after each change the ConfigMap watch reports: kubectl apply, delete, and a server-side create", async () => {
    expect((await applyYaml([settingsConfigMap({ http_port: 9000 })], { verb: "apply" })).code).toBe(0);
    expect((await applyYaml([mlserver(NS, APP)])).code).toBe(0);
    const first = await conflictNaming("http_port");
    expect(first.message).toContain(`${SETTINGS}/settings.json: http_port: is 9000`);
    const generation = (await getObject<Obj>("deployment", APP, NS))!.metadata.generation;

    // Day two: the ConfigMap alone is changed with a three-way merge.
    expect((await applyYaml([settingsConfigMap({ metrics_port: 9090 })], { verb: "apply" })).code).toBe(0);
    await conflictNaming("metrics_port");

    // Deleted, then made again with server-side apply: a deletion is a change too.
    await kubectlOk(["delete", "configmap", SETTINGS, "-n", NS, "--wait=true"]);
    expect((await applyYaml([settingsConfigMap({ grpc_port: 9091 })], { verb: "apply-server" })).code).toBe(0);
    await conflictNaming("grpc_port");

    // The Deployment was never changed: only the ConfigMap watch can have asked for these reads.
    expect((await getObject<Obj>("deployment", APP, NS))!.metadata.generation).toBe(generation);
  });
});
