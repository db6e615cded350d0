import { stringify } from "yaml";
import type { KubeObject } from "../capabilities/core/types";

export type Format = "yaml" | "json";

/** `-o yaml`: a multi-document stream; `-o json`: one v1 List. Byte-for-byte deterministic. */
export function formatObjects(objects: readonly KubeObject[], format: Format): string {
  if (format === "json") return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
  return objects.map(o => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`).join("");
}
