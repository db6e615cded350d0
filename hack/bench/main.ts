// `npm run bench`: every benchmark in one run on one machine; a table, BENCHMARKS.md, and the
// closing lines issues 5 and 14 ask for. Speed is compared as ratios within the run, never asserted.
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchParsing, benchRender } from "./render";
import type { CpuSplit, WatcherMemory } from "./scale";

const REPO = process.cwd();
const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
/** Requests/s of each process of a variant, in the order started. */
const spread = (rps: number[]): string => rps.map(r => fmt(r, 0)).join(" / ") + " requests/s";
// AI_WORKLOADS_BENCH_ONLY=admission,memory runs only those sections (while working on one); such a
// run prints what it measured and leaves BENCHMARKS.md alone. The scale sections need the managed
// set that `converge` creates, so they bring it along.
const SECTIONS = ["render", "admission", "converge", "writes", "reads", "memory"] as const;
const only = (process.env.AI_WORKLOADS_BENCH_ONLY ?? "")
  .split(",")
  .map(s => s.trim())
  .filter(Boolean);
for (const s of only)
  if (!(SECTIONS as readonly string[]).includes(s))
    throw new Error(`AI_WORKLOADS_BENCH_ONLY: unknown section ${s}; one of ${SECTIONS.join(", ")}`);
const runs = (section: (typeof SECTIONS)[number]): boolean =>
  only.length === 0 || only.includes(section) || (section === "converge" && only.some(s => ["writes", "reads", "memory"].includes(s)));

async function main(): Promise<void> {
  if (process.argv[2] === "--print-mutation") {
    const { mutationJson } = await import("./cluster");
    process.stdout.write(mutationJson());
    return;
  }
  const [floorModule, floorPatchModule, workDir] = process.argv.slice(2);
  const rows: [string, string, string][] = [];
  const row = (name: string, value: string, note = ""): void => {
    rows.push([name, value, note]);
    process.stderr.write(`bench: ${name}: ${value} ${note}\n`);
  };

  // Offline first, while nothing else runs.
  const lines: string[] = [];
  if (runs("render")) {
    const r = benchRender(join(REPO, "build", "cli.js"));
    row("render in process, 1,000 Deployments / 50 namespaces", `${fmt(r.us1k)} µs per Deployment`);
    row("render in process, 10,000 Deployments / 50 namespaces", `${fmt(r.us10k)} µs per Deployment`);
    row("render process (`ai-workloads render`), 1,000", `${fmt(r.process1kMs, 0)} ms wall`);
    row("render process (`ai-workloads render`), 10,000", `${fmt(r.process10kMs, 0)} ms wall`);
    const scaling = (r.us10k * 10000) / (r.us1k * 1000);
    row("render scaling 10k/1k (in process; linear is 10)", fmt(scaling, 2), `process: ${fmt(r.process10kMs / r.process1kMs, 2)}`);
    const parsing = benchParsing();
    for (const p of parsing)
      row(`annotation parsing, ${p.kib} KiB public-paths value`, `${fmt(p.us, 0)} µs`, `${fmt(p.us / p.kib, 2)} µs/KiB`);
    lines.push(`render-us-per-deployment: ${fmt(r.us1k, 0)}`, `render-scaling-10k/1k: ${fmt(scaling, 1)}`);
  }

  // With the control plane and the module served (hack/bench/run.mjs started them).
  const { benchAdmission } = await import("./cluster");
  const { SIZES, benchConverge, benchResyncReads, benchWatcherMemory, benchWrites } = await import("./scale");
  let admissionLines: string[] = [];
  let floorPeakRssMiB = NaN;
  if (runs("admission")) {
    const adm = await benchAdmission(floorModule, floorPatchModule, workDir);
    floorPeakRssMiB = adm.floorPeakRssMiB;
    row(
      "admission: object size",
      `${fmt(adm.objectBytes / 1024, 1)} KiB`,
      `concurrency ${adm.concurrency}, mutate+validate; each variant ${adm.processes} processes, loaded in turn over ${adm.rounds} rounds`,
    );
    row(
      "admission: module requests/s",
      fmt(adm.module.rps, 0),
      `p50 ${fmt(adm.module.p50Ms, 2)} ms, p99 ${fmt(adm.module.p99Ms, 2)} ms, errors ${adm.module.errors}; per process ${spread(adm.perProcessRps.module)}`,
    );
    row(
      "admission: floor requests/s",
      fmt(adm.floor.rps, 0),
      `p50 ${fmt(adm.floor.p50Ms, 2)} ms, p99 ${fmt(adm.floor.p99Ms, 2)} ms, errors ${adm.floor.errors}; per process ${spread(adm.perProcessRps.floor)}`,
    );
    row(
      "admission: floor-patch (the module's bindings returning its patch), requests/s",
      fmt(adm.floorPatch.rps, 0),
      `p50 ${fmt(adm.floorPatch.p50Ms, 2)} ms, p99 ${fmt(adm.floorPatch.p99Ms, 2)} ms, errors ${adm.floorPatch.errors}; per process ${spread(adm.perProcessRps.floorPatch)}; the module's own share: throughput module/floor-patch ${fmt(adm.module.rps / adm.floorPatch.rps, 2)}, p99 ${fmt(adm.module.p99Ms / adm.floorPatch.p99Ms, 2)}`,
    );
    lines.unshift(
      `admission-throughput-ratio module/floor: ${fmt(adm.module.rps / adm.floor.rps, 2)}`,
      `admission-p99-ratio module/floor: ${fmt(adm.module.p99Ms / adm.floor.p99Ms, 2)}`,
    );
    admissionLines = [
      `admission-own-throughput-ratio module/floor-patch: ${fmt(adm.module.rps / adm.floorPatch.rps, 2)}`,
      `admission-own-p99-ratio module/floor-patch: ${fmt(adm.module.p99Ms / adm.floorPatch.p99Ms, 2)}`,
    ];
  }
  let convergeLine: string[] = [];
  if (runs("converge")) {
    const conv = await benchConverge();
    row(
      `reconcile: converge after creating ${conv.apps} Deployments over ${conv.namespaces} namespaces`,
      `${fmt(conv.moduleSeconds, 1)} s`,
      `\`kubectl apply --server-side\` of the Deployments until every Service, HPA and route exists; the apply itself returned after ${fmt(conv.storedSeconds, 1)} s`,
    );
    row(
      `direct: \`kubectl apply --server-side\` of the render of the same ${conv.apps} Deployments`,
      `${fmt(conv.directSeconds, 1)} s`,
      `the mean of one apply before the module's run and one after it: ${conv.directRuns.map(r => `${fmt(r.seconds, 1)} s`).join(" and ")}; ${conv.apps} Deployments and ${conv.companions} companions, the watcher stopped`,
    );
    // Where the time goes on a machine of few cores: the CPU each process used in each stretch.
    const cpu = (c: CpuSplit, seconds: number): string =>
      `${Object.entries(c.processes)
        .map(([name, s]) => `${name} ${fmt(s, 1)}`)
        .join(", ")}; machine ${fmt(c.machine, 1)} of ${fmt(seconds * cpus().length, 0)} core-seconds`;
    const total = (c: CpuSplit): string =>
      fmt(
        Object.values(c.processes).reduce((a, b) => a + b, 0),
        1,
      );
    row("converge: CPU seconds, module", total(conv.moduleCpu), cpu(conv.moduleCpu, conv.moduleSeconds));
    conv.directRuns.forEach((r, i) =>
      row(`converge: CPU seconds, direct apply ${i === 0 ? "before" : "after"} the module's run`, total(r.cpu), cpu(r.cpu, r.seconds)),
    );
    row(
      "converge: the watcher's writes until then",
      String(Object.values(conv.moduleWrites).reduce((a, b) => a + b, 0)),
      Object.entries(conv.moduleWrites)
        .sort((a, b) => b[1] - a[1])
        .map(([resource, n]) => `${resource} ${n}`)
        .join(", "),
    );
    convergeLine = [`converge-ratio module/direct-apply: ${fmt(conv.moduleSeconds / conv.directSeconds, 2)}`];
  }
  if (runs("writes")) {
    const writes = await benchWrites();
    row(
      "reconcile: companion writes for one annotation change",
      String(writes.changeCompanionWrites),
      `objects changed: 1; Events written: ${writes.changeEventWrites}`,
    );
    row("reconcile: companion writes for one resync", String(writes.resyncCompanionWrites), `Events written: ${writes.resyncEventWrites}`);
    lines.push(
      `reconcile-writes-per-change: ${writes.changeCompanionWrites}`,
      `reconcile-writes-per-resync: ${writes.resyncCompanionWrites}`,
    );
  }
  lines.push(...convergeLine);
  let readsLine: string[] = [];
  if (runs("reads")) {
    const reads = await benchResyncReads();
    row(
      "reconcile: API reads per namespace pass of the resync",
      fmt(reads.reads / reads.passes, 2),
      `${reads.reads} GET/LIST requests (API server metrics) for ${reads.passes} passes in ${fmt(reads.seconds, 0)} s; companion writes: ${reads.writes}`,
    );
    readsLine = [`api-reads-per-resync-namespace: ${fmt(reads.reads / reads.passes, 2)}`];
  }
  if (runs("memory")) {
    const mem = await benchWatcherMemory();
    // Of the settled RSS, what V8's heap takes (and uses) as the process's diagnostic report says.
    const settled = (m: WatcherMemory): string =>
      `settled ${fmt(m.settledMiB, 0)} MiB` +
      (m.heap
        ? ` (V8 heap ${fmt(m.heap.heapMiB, 0)} MiB, ${fmt(m.heap.heapUsedMiB, 0)} in use, limit ${fmt(m.heap.limitMiB, 0)}; external ${fmt(m.heap.externalMiB, 0)} MiB)`
        : "");
    row(
      `memory: watcher peak RSS (${mem.managed.apps} managed)`,
      `${fmt(mem.managed.peakMiB, 0)} MiB`,
      `${settled(mem.managed)}; a fresh process over ${mem.periodSeconds} s relist and resync periods`,
    );
    row(
      `memory: watcher peak RSS (${mem.managed.apps} managed, ${mem.withUnmanaged.unmanaged} unlabelled Deployments)`,
      `${fmt(mem.withUnmanaged.peakMiB, 0)} MiB`,
      settled(mem.withUnmanaged),
    );
    row(
      `memory: watcher peak RSS (${mem.managed.apps} managed, the unlabelled, ${mem.withConfigMaps.configMaps} ConfigMaps of 900 KiB beside them)`,
      `${fmt(mem.withConfigMaps.peakMiB, 0)} MiB`,
      `${settled(mem.withConfigMaps)}; V8 heap in use ${fmt(mem.withConfigMaps.heap?.heapUsedMiB ?? NaN, 0)} MiB against ${fmt(mem.withUnmanaged.heap?.heapUsedMiB ?? NaN, 0)} without them, for ${fmt(mem.withConfigMaps.dataMiB, 0)} MiB of ConfigMap data (the watch keeps identities only); the RSS carries each relist's response, every ConfigMap with its data`,
    );
    row(`memory: watcher peak RSS (${mem.low.apps} managed, the unlabelled too)`, `${fmt(mem.low.peakMiB, 0)} MiB`, settled(mem.low));
    row(`memory: watcher peak RSS (${mem.high.apps} managed, the unlabelled too)`, `${fmt(mem.high.peakMiB, 0)} MiB`, settled(mem.high));
    row("memory: admission controller peak RSS", `${fmt(mem.admissionPeakMiB, 0)} MiB`, `floor module: ${fmt(floorPeakRssMiB, 0)} MiB`);
    // KiB per managed app: the settled RSS's growth from the smaller managed set to the larger (half
    // the convergence run's and the high end: 500 and 2,000 at the default sizes, as issue #14 asks),
    // the unlabelled in both (the peak is the process's start at these sizes, whatever the set).
    const slope = mem.high.apps > mem.low.apps ? ((mem.high.settledMiB - mem.low.settledMiB) * 1024) / (mem.high.apps - mem.low.apps) : NaN;
    lines.push(
      `watcher-rss-ratio 10k-unmanaged/none: ${fmt(mem.withUnmanaged.peakMiB / mem.managed.peakMiB, 2)}`,
      `watcher-kib-per-managed-app: ${fmt(slope, 1)}`,
    );
  }
  lines.push(...readsLine, ...admissionLines);
  if (only.length > 0) {
    process.stdout.write(`${lines.join("\n")}\n(AI_WORKLOADS_BENCH_ONLY=${only.join(",")}: BENCHMARKS.md left as it is)\n`);
    return;
  }
  const defaults = SIZES.apps === 1000 && SIZES.namespaces === 20 && SIZES.appsHigh === 2000 && SIZES.unmanaged === 10000;
  const sizesNote = defaults
    ? ""
    : ` with AI_WORKLOADS_BENCH_APPS=${SIZES.apps} AI_WORKLOADS_BENCH_NAMESPACES=${SIZES.namespaces} AI_WORKLOADS_BENCH_APPS_HIGH=${SIZES.appsHigh} AI_WORKLOADS_BENCH_UNMANAGED=${SIZES.unmanaged} AI_WORKLOADS_BENCH_PERIOD=${SIZES.periodSeconds} (smaller than the issue's sizes)`;
  const table = ["| benchmark | result | note |", "|---|---|---|", ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`)].join("\n");
  const versions = `node ${process.version}, pepr ${require(join(REPO, "node_modules", "pepr", "package.json")).version}, kube-apiserver ${execFileSync("bash", ["-c", "source hack/controlplane/versions.env && echo $K8S_VERSION"], { encoding: "utf8" }).trim()}`;
  const doc = `<!-- Written by \`npm run bench\` (hack/bench); do not edit by hand. -->
# Benchmarks

Run on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${fmt(totalmem() / 2 ** 30, 0)} GiB; ${versions}.
Command: \`npm run bench\`${sizesNote}. Admission is the module's controller against a floor module (same Pepr,
no-op bindings) and floor-patch (the module's bindings returning its patch) in the same run, each served by
three processes loaded in turn; ratios are module/floor. Render is the core in
process and the \`ai-workloads render\` process. Reconcile and memory use the test control plane.
Companion writes count applies and deletes of generated objects; Events are counted apart.
Convergence is set against \`kubectl apply --server-side\` of the render of the same input on the
same control plane, the mean of one apply before the module's run and one after it; API reads are the API server's GET/LIST counters over resync passes (its audit
log records writes only); the watcher's memory slope is of its settled RSS between the two managed set sizes with
the unlabelled Deployments beside them; the controllers run with the V8 heap Node picks under their Pods' memory limit.

${table}

\`\`\`
${lines.join("\n")}
\`\`\`
`;
  writeFileSync(join(REPO, "BENCHMARKS.md"), doc);
  process.stdout.write(`${table}\n\n${lines.join("\n")}\n`);
}

main().catch(e => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
  process.exit(1);
});
