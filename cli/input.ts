// Reading manifests for the CLI: files, directories (recursively, in name order) and stdin.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { yamlErrorText } from "../capabilities/core/parse";
import type { KubeObject } from "../capabilities/core/types";

/** Unreadable input or a syntax error: the CLI exits 2 with this message. */
export class InputError extends Error {}

const MANIFEST = /\.(ya?ml|json)$/i;

export function readSources(sources: readonly string[], stdin: () => string): KubeObject[] {
  return sources.flatMap(source => {
    if (source === "-") return parseManifests("<stdin>", stdin());
    return listFiles(source).flatMap(file => parseManifests(file, readText(file)));
  });
}

function listFiles(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!stat.isDirectory()) return [path];
  const names = readdirSync(path).sort();
  return names.flatMap(name => {
    const child = join(path, name);
    if (statSync(child).isDirectory()) return listFiles(child);
    return MANIFEST.test(name) ? [child] : [];
  });
}

export function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses a multi-document YAML (or JSON) text; `kind: List` documents are expanded. */
export function parseManifests(file: string, text: string): KubeObject[] {
  const out: KubeObject[] = [];
  const lines = new LineCounter();
  for (const doc of parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines })) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line ?? 1;
      throw new InputError(`${file}:${line}: YAML syntax error: ${yamlErrorText(err.message)}`);
    }
    const line = doc.contents?.range ? lines.linePos(doc.contents.range[0]).line : 1;
    let value: unknown;
    try {
      // Aliases are resolved here: an unknown anchor or an alias bomb is bad input, not a crash.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new InputError(`${file}:${line}: YAML error: ${yamlErrorText((e as Error).message)}`);
    }
    if (value === null || value === undefined) continue;
    if (!isObject(value) || typeof value.kind !== "string" || typeof value.apiVersion !== "string") {
      throw new InputError(`${file}:${line}: not a Kubernetes object (apiVersion and kind are required)`);
    }
    if (/List$/.test(value.kind) && Array.isArray(value.items)) {
      value.items.forEach((item, i) => {
        if (!isObject(item) || typeof item.kind !== "string" || typeof item.apiVersion !== "string") {
          throw new InputError(`${file}:${line}: items[${i}] of the ${value.kind} is not a Kubernetes object`);
        }
        out.push(item as KubeObject);
      });
    } else {
      out.push(value as KubeObject);
    }
  }
  return out;
}
