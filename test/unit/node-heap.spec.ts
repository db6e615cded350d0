// The heap flags the e2e harness and the bench give a controller so that it runs with the V8 heap
// Node would pick inside its Pod's memory limit (test/e2e/node-heap.ts).
import { spawnSync } from "node:child_process";
import { memoryQuantityBytes, nodeHeapOptions } from "../e2e/node-heap";

const heapSizeLimitMiB = (options: string): number => {
  const p = spawnSync(process.execPath, ["-e", "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit))"], {
    env: { PATH: process.env.PATH, NODE_OPTIONS: options },
    encoding: "utf8",
  });
  return Number(p.stdout) / 2 ** 20;
};

describe("nodeHeapOptions", () => {
  it.each([
    // heap_size_limit measured under a real memory cgroup of that limit (Node 20.20, cgroup v1).
    ["256Mi", "--max-old-space-size=256 --max-semi-space-size=1", 259],
    ["512Mi", "--max-old-space-size=256 --max-semi-space-size=1", 259],
    ["1Gi", "--max-old-space-size=512 --max-semi-space-size=4", 524],
    ["2Gi", "--max-old-space-size=1024 --max-semi-space-size=8", 1048],
  ])("a %s limit gives %s, which Node turns into the heap it picks under that limit", (limit, options, cgroupHeapMiB) => {
    expect(nodeHeapOptions(limit)).toBe(options);
    expect(heapSizeLimitMiB(options)).toBe(cgroupHeapMiB);
  });

  it("caps the old space at 4 GiB as Node does on a large host", () => {
    expect(nodeHeapOptions("64Gi")).toBe("--max-old-space-size=4096 --max-semi-space-size=16");
  });

  it("reads the quantity forms a manifest uses and refuses others", () => {
    expect(memoryQuantityBytes("512Mi")).toBe(512 * 2 ** 20);
    expect(memoryQuantityBytes("1G")).toBe(1e9);
    expect(memoryQuantityBytes("536870912")).toBe(536870912);
    expect(() => memoryQuantityBytes("0.5Gi")).toThrow(/unsupported memory quantity "0.5Gi"/);
  });
});
