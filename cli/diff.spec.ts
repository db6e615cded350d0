// `ai-workloads diff` (SPEC §14.4): the reconciler's next writes as `kubectl diff` prints them,
// over an in-memory cluster with a create, a drift, a refused create and a prune (golden file,
// reviewed by hand); the unified diff itself against what GNU diff writes; server-side apply's merge.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../capabilities/core/types";
import { expectGolden } from "../test/unit/golden-file";
import { settledLiveCluster } from "../test/unit/live-cluster";
import { diffFileName, diffOf, mergeApplied, unifiedDiff, withoutServerNoise } from "./diff";
import type { Io } from "./main";

async function diff(all: boolean, namespace = "default"): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: Io = { stdout: t => (stdout += t), stderr: t => (stderr += t), stdin: () => "" };
  const cluster = await settledLiveCluster();
  const code = await diffOf(cluster, { all, namespace: all ? undefined : namespace }, namespace, io);
  return { code, stdout, stderr };
}

/** Applies a unified diff to `before`, as patch would: checks every context and removed line. */
function applyPatch(before: string, patch: string): string {
  const src = before === "" ? [] : before.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let at = 0;
  const lines = patch.split("\n").slice(2, -1);
  for (const line of lines) {
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(line);
    if (hunk) {
      const start = Number(hunk[1]) - (hunk[2] === "0" ? 0 : 1);
      while (at < start) out.push(src[at++]);
      continue;
    }
    const [op, text] = [line[0], line.slice(1)];
    if (op === "+") out.push(text);
    else {
      if (src[at] !== text) throw new Error(`patch does not apply at line ${at + 1}: ${JSON.stringify(text)}`);
      if (op === " ") out.push(text);
      at++;
    }
  }
  while (at < src.length) out.push(src[at++]);
  return out.length ? `${out.join("\n")}\n` : "";
}

describe("ai-workloads diff", () => {
  it("prints the reconciler's next writes as kubectl diff does, and exits 1", async () => {
    const r = await diff(true);
    expect([r.code, r.stderr]).toEqual([1, ""]);
    expect(r.stdout.split("\n").filter(l => l.startsWith("diff "))).toEqual([
      "diff -u -N LIVE/v1.Service.ai.api MERGED/v1.Service.ai.api",
      "diff -u -N LIVE/v1.Service.ai.chat MERGED/v1.Service.ai.chat",
      "diff -u -N LIVE/autoscaling.v2.HorizontalPodAutoscaler.ai.legacy MERGED/autoscaling.v2.HorizontalPodAutoscaler.ai.legacy",
      "diff -u -N LIVE/v1.Service.ai.old MERGED/v1.Service.ai.old",
    ]);
    expectGolden("diff.txt", r.stdout);
  });

  it("prints nothing and exits 0 for a namespace with nothing to change", async () => {
    expect(await diff(false, "quiet")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("names files as kubectl diff does: <group>.<version>.<Kind>.<namespace>.<name>", () => {
    const o = (apiVersion: string, kind: string): KubeObject => ({ apiVersion, kind, metadata: { namespace: "ai", name: "x" } });
    expect(
      [o("v1", "Service"), o("autoscaling/v2", "HorizontalPodAutoscaler"), o("networking.istio.io/v1", "VirtualService")].map(diffFileName),
    ).toEqual(["v1.Service.ai.x", "autoscaling.v2.HorizontalPodAutoscaler.ai.x", "networking.istio.io.v1.VirtualService.ai.x"]);
  });

  it("leaves out what the API server adds for itself", () => {
    const live: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "a",
        namespace: "ai",
        uid: "u",
        resourceVersion: "1",
        generation: 2,
        creationTimestamp: new Date("2026-01-01T00:00:00Z"),
        managedFields: [{ manager: "m" }],
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
        labels: { a: "b" },
      },
      spec: { type: "ClusterIP" },
      status: { loadBalancer: {} },
    };
    expect(withoutServerNoise(live)).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "a", namespace: "ai", labels: { a: "b" } },
      spec: { type: "ClusterIP" },
    });
  });

  it("merges as a forced server-side apply: wanted values win, keyed lists by key, other lists replaced", () => {
    const live: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "m",
        labels: { theirs: "x", mine: "old" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "m", uid: "1" }],
      },
      spec: {
        ports: [
          { port: 8000, protocol: "TCP", name: "web", targetPort: 8000 },
          { port: 9090, protocol: "TCP", name: "theirs" },
        ],
        selector: { app: "m", extra: "y" },
        clusterIP: "10.0.0.1",
      },
    };
    const wanted: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "m",
        labels: { mine: "new" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "m", uid: "2" }],
      },
      spec: { ports: [{ port: 8000, protocol: "TCP", name: "http", targetPort: "http" }], selector: { app: "m" } },
    };
    expect(mergeApplied(live, wanted)).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "m",
        labels: { theirs: "x", mine: "new" },
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: "m", uid: "1" },
          { apiVersion: "apps/v1", kind: "Deployment", name: "m", uid: "2" },
        ],
      },
      spec: {
        ports: [
          { port: 8000, protocol: "TCP", name: "http", targetPort: "http" },
          { port: 9090, protocol: "TCP", name: "theirs" },
        ],
        selector: { app: "m", extra: "y" },
        clusterIP: "10.0.0.1",
      },
    });
    const hpa = (metrics: unknown[]): KubeObject => ({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", spec: { metrics } });
    expect(mergeApplied(hpa([{ a: 1 }, { b: 2 }]), hpa([{ c: 3 }]))).toEqual(hpa([{ c: 3 }]));
  });
});

describe("unifiedDiff", () => {
  const text = (n: number, change: (i: number) => string | undefined = () => undefined): string =>
    Array.from({ length: n }, (_, i) => change(i) ?? `line ${i + 1}`)
      .filter(l => l !== "")
      .map(l => `${l}\n`)
      .join("");

  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", "x", "y")).toBe("");
  });

  it("writes GNU diff's ranges: an empty side at the line before, a count of 1 left out", () => {
    expect(unifiedDiff("", "a\nb\n", "L", "M")).toBe("--- L\n+++ M\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    expect(unifiedDiff("a\n", "", "L", "M")).toBe("--- L\n+++ M\n@@ -1 +0,0 @@\n-a\n");
    expect(unifiedDiff("a\nb\nc\n", "a\nB\nc\n", "L", "M")).toBe("--- L\n+++ M\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  });

  it("keeps 3 lines of context and joins changes whose context meets", () => {
    const before = text(30);
    const after = text(30, i => (i === 4 ? "five" : i === 10 ? "eleven" : i === 25 ? "" : undefined));
    expect(
      unifiedDiff(before, after, "L", "M")
        .split("\n")
        .filter(l => l.startsWith("@@")),
    ).toEqual(["@@ -2,13 +2,13 @@", "@@ -23,7 +23,6 @@"]);
  });

  it("gives what GNU diff -u gives, and a patch that applies", () => {
    const dir = mkdtempSync(join(tmpdir(), "aiw-diff-"));
    let seed = 7;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 60; round++) {
      const a = Array.from({ length: random(25) }, () => `l${random(6)}`);
      const b = [...a];
      for (let k = random(5); k > 0; k--) {
        const i = random(b.length + 1);
        if (random(2) === 0) b.splice(i, 1);
        else b.splice(i, 0, `n${random(4)}`);
      }
      const [before, after] = [a, b].map(l => (l.length ? `${l.join("\n")}\n` : ""));
      const mine = unifiedDiff(before, after, "L", "M");
      expect(applyPatch(before, mine)).toBe(after);
      writeFileSync(join(dir, "a"), before);
      writeFileSync(join(dir, "b"), after);
      let gnu = "";
      try {
        execFileSync("diff", ["-u", "--label", "L", "--label", "M", join(dir, "a"), join(dir, "b")], { encoding: "utf8" });
      } catch (e) {
        gnu = (e as { stdout: string }).stdout;
      }
      // Both are shortest edit scripts; where several exist they may pick differently, but the hunks' lines agree in count.
      const counts = (d: string): number[] =>
        ["-", "+"].map(op => d.split("\n").filter(l => l.startsWith(op) && !l.startsWith(`${op}${op}${op} `)).length);
      expect(counts(mine)).toEqual(counts(gnu));
    }
  });
});
