// A reviewed golden file: `UPDATE_GOLDEN=1` rewrites it; review `git diff test/golden` then.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function expectGolden(name: string, actual: string): void {
  const file = join(__dirname, "..", "golden", name);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, actual);
  if (!existsSync(file)) throw new Error(`${file} is missing: run UPDATE_GOLDEN=1 npm test and review it`);
  // toBe on two multi-line strings prints a line diff: the review happens there.
  expect(actual).toBe(readFileSync(file, "utf8"));
}
