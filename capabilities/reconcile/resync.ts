// How often the watcher makes a full pass over every namespace of interest, besides the watch
// events. 10 minutes; AI_WORKLOADS_RESYNC_SECONDS shortens it, so a test can watch several resyncs.

export const RESYNC_ENV = "AI_WORKLOADS_RESYNC_SECONDS";
export const DEFAULT_RESYNC_MS = 10 * 60_000;

/** The interval for the env value: whole seconds ≥ 1; anything else keeps the default and says so. */
export function resyncInterval(value: string | undefined): { ms: number; ignored?: string } {
  if (value === undefined || value.trim() === "") return { ms: DEFAULT_RESYNC_MS };
  if (!/^[0-9]+$/.test(value.trim()) || Number(value) < 1) return { ms: DEFAULT_RESYNC_MS, ignored: value };
  return { ms: Number(value) * 1000 };
}
