// The mlserver settings ConfigMaps the reconciler reads (SPEC §13.1), and what it last read in
// each, so that an unchanged resync reads none. An app's ConfigMap is read again only when the
// app is new here, its Deployment changed (uid or metadata.generation), it names another
// ConfigMap, or the ConfigMap watch reported a resourceVersion other than the one read. The
// ConfigMaps known here are also the watch's index: a change to any other ConfigMap costs nothing.
import { SETTINGS_JSON_KEY } from "../core/mlserver-settings";
import type { ClusterApi } from "./cluster-api";

/** The version of a ConfigMap that does not exist. */
const ABSENT = "(none)";
/** Known to the index, not read yet. */
const PENDING = "(reading)";

interface Read {
  /** `<uid>/<generation>` of the Deployment it was read for. */
  deployment: string;
  configMap: string;
  version: string;
  /** settings.json; undefined when the ConfigMap or the key is missing. */
  text: string | undefined;
}

export class SettingsReads {
  /** Per app, `<namespace>/<app>`: what was read for it. */
  private readonly reads = new Map<string, Read>();
  /** Per settings ConfigMap of a known app, `<namespace>/<name>`: the newest resourceVersion known. */
  private readonly versions = new Map<string, string>();
  constructor(private readonly api: ClusterApi) {}

  /**
   * The watch saw ConfigMap `name` in `namespace` at `resourceVersion` (undefined: deleted).
   * True when it is the settings ConfigMap of a known app and differs from what was read: the
   * namespace needs a pass.
   */
  changed(namespace: string, name: string, resourceVersion: string | undefined): boolean {
    const key = `${namespace}/${name}`;
    const version = resourceVersion ?? ABSENT;
    if (!this.versions.has(key) || this.versions.get(key) === version) return false;
    this.versions.set(key, version);
    return true;
  }

  /** The `settings.json` an app's ConfigMap holds, read only when something changed since the last read. */
  async text(namespace: string, app: string, deployment: string, configMap: string): Promise<string | undefined> {
    const appKey = `${namespace}/${app}`;
    const mapKey = `${namespace}/${configMap}`;
    const last = this.reads.get(appKey);
    const latest = this.versions.get(mapKey);
    if (last && last.deployment === deployment && last.configMap === configMap && last.version === latest) return last.text;
    const before = latest ?? PENDING;
    this.versions.set(mapKey, before);
    const cm = await this.api.get({ apiVersion: "v1", kind: "ConfigMap", namespace, name: configMap });
    const version = cm ? (cm.metadata?.resourceVersion ?? "") : ABSENT;
    // A change the watch reported during the read is read again on the next pass (that it enqueued).
    if (this.versions.get(mapKey) === before) this.versions.set(mapKey, version);
    const value = (cm?.data as Record<string, unknown> | undefined)?.[SETTINGS_JSON_KEY];
    const text = typeof value === "string" ? value : undefined;
    this.reads.set(appKey, { deployment, configMap, version, text });
    return text;
  }

  /** Forgets the namespace's apps and ConfigMaps that are not in `apps` (apps gone, or no longer reading one). */
  retain(namespace: string, apps: readonly { app: string; configMap: string }[]): void {
    const appKeys = new Set(apps.map(a => `${namespace}/${a.app}`));
    const mapKeys = new Set(apps.map(a => `${namespace}/${a.configMap}`));
    const prefix = `${namespace}/`;
    for (const key of this.reads.keys()) if (key.startsWith(prefix) && !appKeys.has(key)) this.reads.delete(key);
    for (const key of this.versions.keys()) if (key.startsWith(prefix) && !mapKeys.has(key)) this.versions.delete(key);
  }
}
