// Render cost: the core in process (µs per Deployment) and the `ai-workloads render` process
// (wall time), for 1,000 and 10,000 labelled Deployments over 50 namespaces.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { render } from "../../capabilities/core/plan";
import { workloads } from "./workloads";

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Frees the last run's garbage before the next is timed (bench.js runs with --expose-gc). */
const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * µs per Deployment for each size. Sizes are timed in turn, round after round, from a collected
 * heap, so that a size measured first (colder JIT) or after another (its garbage) is not favoured.
 */
function inProcessUs(counts: readonly number[], rounds: number): number[] {
  const inputs = counts.map(n => workloads(n, 50));
  for (const input of inputs) render(input, { defaultNamespace: "default" }); // warm-up: JIT
  const times = counts.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    inputs.forEach((input, i) => {
      collect();
      const start = process.hrtime.bigint();
      const result = render(input, { defaultNamespace: "default" });
      times[i].push(Number(process.hrtime.bigint() - start) / 1000 / counts[i]);
      if (result.problems.some(p => p.severity === "deny")) throw new Error("benchmark input was denied");
    });
  }
  return times.map(median);
}

function processMs(count: number, rounds: number, cli: string): number {
  const dir = mkdtempSync(join(tmpdir(), "aiw-bench-"));
  const file = join(dir, "input.yaml");
  writeFileSync(
    file,
    workloads(count, 50)
      .map(o => `---\n${stringify(o)}`)
      .join(""),
  );
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [cli, "render", "-f", file], { encoding: "utf8", maxBuffer: 1 << 30 });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (run.status !== 0) throw new Error(`render exited ${run.status}: ${run.stderr.slice(0, 500)}`);
  }
  return median(times);
}

export interface RenderBench {
  us1k: number;
  us10k: number;
  process1kMs: number;
  process10kMs: number;
}

export function benchRender(cli: string): RenderBench {
  const [us1k, us10k] = inProcessUs([1000, 10000], 7);
  return {
    us1k,
    us10k,
    process1kMs: processMs(1000, 5, cli),
    process10kMs: processMs(10000, 3, cli),
  };
}

/** Annotation parsing must be linear in input length (issue 6): µs per KiB of a long value. */
export function benchParsing(): { kib: number; us: number }[] {
  return [16, 64, 256, 1024].map(kib => {
    const d = workloads(1, 1)[1];
    // A valid comma list of short paths of about `kib` KiB: every entry is parsed.
    const value = Array.from({ length: Math.ceil((kib * 1024) / 8) }, (_, i) => `/p${i}`)
      .join(",")
      .slice(0, kib * 1024)
      .replace(/,[^,]*$/, "");
    d.metadata!.annotations = { ...d.metadata!.annotations, "ai-workloads.io/public-paths": value };
    const input = [d];
    if (render(input, { defaultNamespace: "default" }).problems.some(p => p.severity === "deny"))
      throw new Error("parsing input was denied");
    const times: number[] = [];
    for (let r = 0; r < 9; r++) {
      const start = process.hrtime.bigint();
      render(input, { defaultNamespace: "default" });
      times.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    return { kib, us: median(times) };
  });
}
