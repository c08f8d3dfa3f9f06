/**
 * Runs every Prometheus PromQL test script from ../shared/promql-testdata (beside the repository),
 * and the scripts of its `rest/` folder that the engine is ready for (REST_SCRIPTS), against the
 * Engine over the real storage, one test per file, and prints per file how many eval cases passed,
 * failed and were skipped (native histogram cases; see README in this folder).
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { KNOWN_FAILURES } from "./known-failures.ts";
import { formatterReady } from "./scripts/at_modifier.ts";
import { ScriptRunner, type CaseResult } from "./scripts/runner.ts";

const DATA_DIR = resolve(import.meta.dir, "../../../shared/promql-testdata");
/**
 * The scripts of `rest/` that are run, one by one as the engine learns what each needs. Not yet:
 * native_histograms.test (native histograms are not in the storage yet) and
 * start_timestamps.test (its `@st` series need start timestamps stored per sample).
 */
const REST_SCRIPTS = ["info.test", "duration_expression.test", "fill-modifier.test", "extended_vectors.test", "type_and_unit.test"];
const files = existsSync(DATA_DIR)
  ? [...readdirSync(DATA_DIR).filter((f) => f.endsWith(".test")).sort(), ...REST_SCRIPTS.map((f) => `rest/${f}`)]
  : [];
const table: { file: string; passed: number; failed: number; known: number; skipped: number }[] = [];

test("the PromQL test scripts are present", () => {
  expect(files.length).toBeGreaterThan(0);
});

for (const file of files) {
  test(
    file,
    async () => {
      await formatterReady;
      const results: CaseResult[] = await new ScriptRunner().run(readFileSync(join(DATA_DIR, file), "utf8"));
      const known = new Map(KNOWN_FAILURES.filter((k) => k.file === file).map((k) => [k.line, k]));
      const unexpected: string[] = [];
      let knownCount = 0;
      for (const r of results) {
        if (r.status !== "failed") continue;
        if (known.has(r.line)) knownCount++;
        else unexpected.push(`${file}:${r.line}: ${r.expr}\n    ${r.reason}`);
      }
      const stale = [...known.values()].filter((k) => !results.some((r) => r.line === k.line && r.status === "failed"));
      table.push({
        file,
        passed: results.filter((r) => r.status === "passed").length,
        failed: results.filter((r) => r.status === "failed").length,
        known: knownCount,
        skipped: results.filter((r) => r.status === "skipped").length,
      });
      if (unexpected.length > 0) console.log(unexpected.join("\n"));
      for (const k of stale) console.log(`note: ${k.file}:${k.line} is listed as a known failure but passes; remove it from known-failures.ts`);
      expect(unexpected).toEqual([]);
    },
    120_000,
  );
}

afterAll(() => {
  if (table.length === 0) return;
  const rows = table.map((r) => `${r.file.padEnd(34)} ${String(r.passed).padStart(6)} ${String(r.failed).padStart(6)} ${String(r.known).padStart(6)} ${String(r.skipped).padStart(7)}`);
  const tot = table.reduce((a, r) => ({ p: a.p + r.passed, f: a.f + r.failed, k: a.k + r.known, s: a.s + r.skipped }), { p: 0, f: 0, k: 0, s: 0 });
  console.log(
    [`${"file".padEnd(34)} ${"passed".padStart(6)} ${"failed".padStart(6)} ${"known".padStart(6)} ${"skipped".padStart(7)}`, ...rows, `${"total".padEnd(34)} ${String(tot.p).padStart(6)} ${String(tot.f).padStart(6)} ${String(tot.k).padStart(6)} ${String(tot.s).padStart(7)}`].join("\n"),
  );
});
