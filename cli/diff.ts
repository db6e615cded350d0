// `ai-workloads diff`: what the reconciler would write now, as `kubectl diff` shows it (SPEC
// §14.4): one `diff -u -N` per object between LIVE/ and MERGED/, files named as kubectl names
// them. Computed from the reconciler's own plan over the live objects (no dry run, no write).
// Exit 0 no changes, 1 changes, 2 a usage error or when the API server cannot be asked.
import { stringify } from "yaml";
import { KEYED_LISTS, objectKey } from "../capabilities/core/sync";
import type { KubeObject } from "../capabilities/core/types";
import type { ClusterApi } from "../capabilities/reconcile/cluster-api";
import type { Observation } from "../capabilities/reconcile/observe";
import { type LiveOptions, loadKubeConfig, observeLive, parseLiveArgs, readOnlyClusterApi } from "./live";
import type { Io } from "./main";

/** kubectl diff's file name: `<group>.<version>.<Kind>.<namespace>.<name>` (no group for the core API). */
export function diffFileName(o: KubeObject): string {
  const [group, version] = (o.apiVersion ?? "").includes("/") ? (o.apiVersion ?? "").split("/") : ["", o.apiVersion ?? ""];
  return `${group ? `${group}.` : ""}${version}.${o.kind}.${o.metadata?.namespace ?? ""}.${o.metadata?.name ?? ""}`;
}

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const SERVER_FIELDS = ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"];

type Json = unknown;
type Item = Record<string, Json>;
const isItem = (v: Json): v is Item => v !== null && typeof v === "object" && !Array.isArray(v);

/** The object without what the API server adds for itself, as kubectl diff leaves out managedFields. */
export function withoutServerNoise(o: KubeObject): KubeObject {
  // Through JSON: client-node gives Dates, which the YAML would print otherwise than the API server.
  const copy = JSON.parse(JSON.stringify(o)) as KubeObject & { status?: unknown };
  delete copy.status;
  const metadata = (copy.metadata ?? {}) as Record<string, unknown>;
  for (const f of SERVER_FIELDS) delete metadata[f];
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations) {
    delete annotations[LAST_APPLIED];
    if (Object.keys(annotations).length === 0) delete metadata.annotations;
  }
  return copy;
}

/**
 * What a forced server-side apply of `wanted` makes of `live`: the wanted values over live;
 * keyed lists (KEYED_LISTS: ownerReferences by uid, Service ports by port/protocol) merged item by
 * item, every other list replaced. (Fields the module set before and no longer sets are not
 * removed here: the plan applies only when a wanted value differs, see isUpToDate.)
 */
export function mergeApplied(live: KubeObject, wanted: KubeObject): KubeObject {
  const kind = wanted.kind;
  const keyedAt = (path: string) => KEYED_LISTS[`${kind}:${path}`] ?? KEYED_LISTS[path];
  const merge = (l: Json, w: Json, path: string): Json => {
    if (isItem(w)) {
      const base: Item = isItem(l) ? { ...l } : {};
      for (const [k, v] of Object.entries(w)) base[k] = merge(base[k], v, path ? `${path}.${k}` : k);
      return base;
    }
    const key = keyedAt(path);
    if (Array.isArray(w) && key && Array.isArray(l)) {
      const items = l.filter(isItem);
      const merged = items.map(item => {
        const mine = w.find(x => isItem(x) && key(x) === key(item));
        return mine === undefined ? item : merge(item, mine, `${path}[]`);
      });
      const added = w.filter(x => isItem(x) && !items.some(item => key(item) === key(x)));
      return [...merged, ...added];
    }
    return w;
  };
  return merge(live, wanted, "") as KubeObject;
}

/** YAML as kubectl prints objects: keys sorted, list items not indented under their key. */
export const objectYaml = (o: KubeObject): string =>
  stringify(withoutServerNoise(o), { sortMapEntries: true, indentSeq: false, lineWidth: 0 });

const lines = (text: string): string[] => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));

type Edit = { op: " " | "-" | "+"; line: string };

/** The shortest edit script by longest common subsequence: the objects are small (tens of lines). */
function edits(a: readonly string[], b: readonly string[]): Edit[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: Edit[] = [];
  let [i, j] = [0, 0];
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ op: " ", line: a[i++] });
      j++;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) out.push({ op: "+", line: b[j++] });
    else out.push({ op: "-", line: a[i++] });
  }
  // GNU diff shows a changed block as its removals, then its additions.
  for (let k = 0; k < out.length; ) {
    if (out[k].op === " ") {
      k++;
      continue;
    }
    let end = k;
    while (end < out.length && out[end].op !== " ") end++;
    const block = out.slice(k, end);
    out.splice(k, block.length, ...block.filter(e => e.op === "-"), ...block.filter(e => e.op === "+"));
    k = end;
  }
  return out;
}

/** `start,count` of a hunk side as GNU diff writes it: `,1` left out, an empty side at the line before. */
const range = (start: number, count: number): string => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);

/** A unified diff with `context` lines around each change; "" when the texts are equal. */
export function unifiedDiff(before: string, after: string, fromFile: string, toFile: string, context = 3): string {
  const script = edits(lines(before), lines(after));
  const changed = script.map((e, i) => (e.op === " " ? -1 : i)).filter(i => i >= 0);
  if (changed.length === 0) return "";
  // Group changes whose context overlaps into one hunk.
  const hunks: [number, number][] = [];
  for (const i of changed) {
    const last = hunks[hunks.length - 1];
    if (last && i - last[1] <= 2 * context + 1) last[1] = i;
    else hunks.push([i, i]);
  }
  const out = [`--- ${fromFile}`, `+++ ${toFile}`];
  for (const [first, last] of hunks) {
    const from = Math.max(0, first - context);
    const to = Math.min(script.length - 1, last + context);
    const before = script.slice(0, from);
    const body = script.slice(from, to + 1);
    const aStart = before.filter(e => e.op !== "+").length + 1;
    const bStart = before.filter(e => e.op !== "-").length + 1;
    const aCount = body.filter(e => e.op !== "+").length;
    const bCount = body.filter(e => e.op !== "-").length;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`, ...body.map(e => `${e.op}${e.line}`));
  }
  return `${out.join("\n")}\n`;
}

export interface ObjectChange {
  action: "create" | "update" | "delete";
  name: string;
  live?: KubeObject;
  merged?: KubeObject;
}

/** The plan's writes, in the order the reconciler makes them: applies, then deletions. */
export function planChanges(seen: Observation): ObjectChange[] {
  const live = new Map(seen.managed.map(o => [objectKey(o), o]));
  const applies = seen.plan.apply.map((c): ObjectChange => {
    const wanted = c as KubeObject;
    const stored = live.get(objectKey(wanted));
    return stored
      ? { action: "update", name: diffFileName(wanted), live: stored, merged: mergeApplied(stored, wanted) }
      : { action: "create", name: diffFileName(wanted), merged: wanted };
  });
  const prunes = seen.plan.prune.map((o): ObjectChange => ({ action: "delete", name: diffFileName(o), live: o }));
  return [...applies, ...prunes];
}

/** The changes as `kubectl diff` prints them (`diff -u -N LIVE/<file> MERGED/<file>` per object). */
export function formatDiff(changes: readonly ObjectChange[]): string {
  return changes
    .map(c => {
      const [from, to] = [`LIVE/${c.name}`, `MERGED/${c.name}`];
      const text = unifiedDiff(c.live ? objectYaml(c.live) : "", c.merged ? objectYaml(c.merged) : "", from, to);
      return text ? `diff -u -N ${from} ${to}\n${text}` : "";
    })
    .join("");
}

export async function runDiff(args: readonly string[], io: Io): Promise<number> {
  const opts = parseLiveArgs(args, false);
  const { kc, namespace } = loadKubeConfig(opts);
  return diffOf(readOnlyClusterApi(kc), opts, namespace, io);
}

/** diff over any ClusterApi (the unit tests give it an in-memory cluster). */
export async function diffOf(api: ClusterApi, opts: LiveOptions, namespace: string, io: Io): Promise<number> {
  const view = await observeLive(api, opts, namespace, io);
  const changes = view.observations.flatMap(planChanges);
  io.stdout(formatDiff(changes));
  // A write whose fields print the same (a value of another type, say) is still a write.
  for (const c of changes)
    if (formatDiff([c]) === "") io.stderr(`note: ${c.name}: the reconciler would apply it; its YAML reads the same\n`);
  return changes.length === 0 ? 0 : 1;
}
