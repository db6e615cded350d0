// The V8 heap Node gives a process in a container with a memory limit. Node sizes V8's heap from
// the cgroup's limit (libuv's uv_get_constrained_memory), not from the host's memory, and V8 lets
// garbage grow to up to 4 times the live heap when its limit is large but only 1.3 times when it
// is small. A controller run on this machine without that limit would measure V8's heap sizing
// for a 24 GiB host, so the harness gives it the flags Node picks for the Pod's limit instead.

const MiB = 2 ** 20;
const UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: MiB, Gi: 2 ** 30 };

/** Bytes of a Kubernetes memory quantity such as `512Mi`, `1Gi` or `536870912`. */
export function memoryQuantityBytes(quantity: string): number {
  const m = /^(\d+)(k|M|G|Ki|Mi|Gi)?$/.exec(quantity.trim());
  if (!m) throw new Error(`unsupported memory quantity ${JSON.stringify(quantity)} (expected e.g. 512Mi, 1Gi or bytes)`);
  return Number(m[1]) * UNITS[m[2] ?? ""];
}

/**
 * Node 20's V8 flags equivalent to a container memory limit, for a 64-bit process: the old space
 * is half the limit, between 256 MiB and 4 GiB; a semi-space is 1/256 of an old space of at most
 * 256 MiB and 1/128 of a larger one, between 1 and 16 MiB (V8's Heap::HeapSizeFromPhysicalMemory).
 * Checked against a real memory cgroup: limits of 256Mi, 512Mi, 1Gi and 2Gi gave heap_size_limit
 * 259, 259, 524 and 1048 MiB, and these flags give the same.
 */
export function nodeHeapOptions(memoryLimit: string): string {
  const limitMiB = memoryQuantityBytes(memoryLimit) / MiB;
  const oldSpaceMiB = Math.min(4096, Math.max(256, Math.floor(limitMiB / 2)));
  const semiSpaceMiB = Math.min(16, Math.max(1, Math.floor(oldSpaceMiB / (oldSpaceMiB <= 256 ? 256 : 128))));
  return `--max-old-space-size=${oldSpaceMiB} --max-semi-space-size=${semiSpaceMiB}`;
}
