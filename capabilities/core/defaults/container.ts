// Fill-only edits of one container: each adds what is missing and never changes a set field.
import type { V1Container, V1EnvVar, V1Probe } from "@kubernetes/client-node";
import type { PROBES } from "../types";

const isTcp = (p: { protocol?: string }): boolean => (p.protocol ?? "TCP") === "TCP";

/**
 * `list` with `item` at the end, made at its final size: `[...list, item]` grows its copy as it
 * goes, twice the garbage for the lists every admission appends to (env, ports, volumes).
 */
export function appended<T>(list: readonly T[] | undefined, item: T): T[] {
  const n = list?.length ?? 0;
  const out = new Array<T>(n + 1);
  for (let i = 0; i < n; i++) out[i] = list![i];
  out[n] = item;
  return out;
}

/**
 * Makes sure the container declares `number`, named. Returns the name the port goes by
 * (the user's name wins), or undefined when `name` is taken by another port: policy
 * reports that conflict, defaults do not guess.
 */
export function ensureNamedPort(c: V1Container, number: number, name: string): string | undefined {
  const ports = c.ports ?? [];
  const existing = ports.find(p => p.containerPort === number && isTcp(p));
  const nameTaken = ports.some(p => p.name === name && p !== existing);
  if (existing) {
    if (existing.name) return existing.name;
    if (nameTaken) return undefined;
    existing.name = name;
    return name;
  }
  if (nameTaken) return undefined;
  c.ports = appended(c.ports, { name, containerPort: number });
  return name;
}

/** Name of the TCP port `number` on the container, if declared and named. */
export const portName = (c: V1Container | undefined, number: number): string | undefined =>
  c?.ports?.find(p => p.containerPort === number && isTcp(p))?.name;

export const hasEnv = (c: V1Container, name: string): boolean => (c.env ?? []).some(e => e.name === name);

export function ensureEnv(c: V1Container, entry: V1EnvVar): void {
  if (!hasEnv(c, entry.name)) c.env = appended(c.env, entry);
}

export interface ProbeTiming {
  initialDelaySeconds?: number;
  periodSeconds: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export const LIVENESS: ProbeTiming = { initialDelaySeconds: 10, periodSeconds: 15, timeoutSeconds: 2 };
export const READINESS: ProbeTiming = { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2 };

export function httpProbe(path: string, port: string, timing: ProbeTiming): V1Probe {
  return { httpGet: { path, port }, ...timing } as V1Probe;
}

type ProbeKind = (typeof PROBES)[number];

export function ensureProbe(c: V1Container, kind: ProbeKind, probe: V1Probe): void {
  if (c[kind] === undefined) c[kind] = probe;
}

/** True when the flag is given in command or args, as `--flag`, `--flag=v` or `-flag…`. */
export function hasFlag(c: V1Container, flag: string): boolean {
  const words = [...(c.command ?? []), ...(c.args ?? [])];
  return words.some(w => {
    const bare = w.replace(/^--?/, "");
    return w.startsWith("-") && (bare === flag || bare.startsWith(`${flag}=`));
  });
}

/** The value of `--flag=value` or `--flag value` in command or args. */
export function flagValue(c: V1Container, flag: string): string | undefined {
  const words = [...(c.command ?? []), ...(c.args ?? [])];
  for (let i = 0; i < words.length; i++) {
    const bare = words[i].replace(/^--?/, "");
    if (!words[i].startsWith("-")) continue;
    if (bare.startsWith(`${flag}=`)) return bare.slice(flag.length + 1);
    if (bare === flag) return words[i + 1];
  }
  return undefined;
}
