/**
 * The linter keeps DESIGN.md's layout: a room is imported only through its door (index.ts),
 * imports follow the arrows, rooms never import the top-level wiring, and web/ borrows only types.
 * Each wrong import is linted as a file that would sit in a room (`eslint --stdin
 * --stdin-filename src/<room>/…`), so nothing is written into the tree; the real tree must pass.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ESLint } from "eslint";
import { REPO_ROOT, run } from "../support/index.ts";
import { arrows } from "../../eslint.config.js";

const eslint = new ESLint({ cwd: REPO_ROOT });

/**
 * Lints `code` as if it were the file `path` (relative to the repository root) with the project's
 * config; returns 0 when clean, 1 when not, and the messages.
 */
async function lintAs(path: string, code: string): Promise<{ code: number; out: string }> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, path), warnIgnored: true });
  // A file outside the configured set comes back with a warning only, and must not pass.
  const messages = result?.messages ?? [{ ruleId: null, message: "no lint result" }];
  return { code: messages.length === 0 ? 0 : 1, out: messages.map((m) => `${m.ruleId}: ${m.message}`).join("\n") };
}

describe("lint: DESIGN.md's rooms and arrows", () => {
  test("`eslint` exits 1 on a deliberately wrong import (storage reaching into api's internals)", async () => {
    const code = `import { createApiApp } from "../api/server.ts";\nexport const f = createApiApp;\n`;
    const eslintBin = join(REPO_ROOT, "node_modules", ".bin", "eslint");
    const res = await run([eslintBin, "--stdin", "--stdin-filename", "src/storage/wrong_import.ts"], { stdin: code });
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toContain("src/api/index.ts");
    expect(res.stdout).toContain("src/storage/ may import only model");
  }, 60_000);

  test("a room importing another room's internal file fails and names the door", async () => {
    const bad = await lintAs("src/api/wrong_import.ts", `import { QueryError } from "../promql/result.ts";\nexport const e = QueryError;\n`);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("src/promql/index.ts");
    expect(bad.out).toContain("import-x/no-restricted-paths");

    const good = await lintAs("src/api/right_import.ts", `import { QueryError } from "../promql/index.ts";\nexport const e = QueryError;\n`);
    expect(good.out).toBe("");
    expect(good.code).toBe(0);
  });

  test("a wrong-way import fails even through the door", async () => {
    const cases: [path: string, code: string, message: string][] = [
      ["src/storage/wrong_way.ts", `import { createApiApp } from "../api/index.ts";\nexport const f = createApiApp;\n`, "src/storage/ may import only model"],
      ["src/rules/wrong_way.ts", `import type { Cluster } from "../cluster/index.ts";\nexport type C = Cluster;\n`, "src/rules/ may import only promql, discovery, config, model"],
      ["src/model/wrong_way.ts", `import type { Config } from "../config/index.ts";\nexport type C = Config;\n`, "src/model/ may import only nothing else in src/"],
      ["src/promql/wrong_way.ts", `export const m = await import("../scrape/index.ts");\n`, "src/promql/ may import only storage, model"],
      ["src/api/wrong_way.ts", `import type { ScrapeManager } from "../scrape/index.ts";\nexport type S = ScrapeManager;\n`, "src/api/ may import only"],
    ];
    for (const [path, code, message] of cases) {
      const res = await lintAs(path, code);
      expect(res.code, `${path}: ${res.out}`).toBe(1);
      expect(res.out).toContain(message);
    }
    const down = await lintAs("src/scrape/right_way.ts", `import type { Config } from "../config/index.ts";\nexport type C = Config;\n`);
    expect(down.code, down.out).toBe(0);
  });

  test("rooms never import the top-level wiring; node.ts imports rooms through their doors", async () => {
    const up = await lintAs("src/scrape/wiring.ts", `import { main } from "../node.ts";\nexport const m = main;\n`);
    expect(up.code).toBe(1);
    expect(up.out).toContain("top-level wiring");

    const inside = await lintAs("src/wiring.ts", `import { openTSDB } from "./storage/db.ts";\nexport const o = openTSDB;\n`);
    expect(inside.code).toBe(1);
    expect(inside.out).toContain("src/storage/index.ts");
  });

  test("web/ may borrow types from a room's door, but no code and no internals", async () => {
    const types = await lintAs("web/src/wrong.ts", `import type { ClusterStatus } from "../../src/cluster/index.ts";\nexport type S = ClusterStatus;\n`);
    expect(types.code, types.out).toBe(0);

    const code = await lintAs("web/src/wrong.ts", `import { Cluster } from "../../src/cluster/index.ts";\nexport const c = Cluster;\n`);
    expect(code.code).toBe(1);
    expect(code.out).toContain("shoal/web-types-only");

    const internal = await lintAs("web/src/wrong.ts", `import type { Head } from "../../src/storage/head.ts";\nexport type H = Head;\n`);
    expect(internal.code).toBe(1);
    expect(internal.out).toContain("web/ is browser code");
  });

  test("every folder under src/ is a room the lint config knows", () => {
    const folders = readdirSync(join(REPO_ROOT, "src")).filter((f) => statSync(join(REPO_ROOT, "src", f)).isDirectory());
    const unknown = folders.filter((f) => !(f in arrows));
    expect(unknown, "add the new room and its arrows to eslint.config.js (and DESIGN.md)").toEqual([]);
  });

  test(
    "the real tree passes `npm run lint`",
    async () => {
      const t0 = performance.now();
      const res = await run(["npm", "run", "--silent", "lint"], { timeoutMs: 110_000 });
      const seconds = (performance.now() - t0) / 1000;
      expect(res.code, res.stdout + res.stderr).toBe(0);
      console.log(`npm run lint: ${seconds.toFixed(1)} s`);
    },
    120_000,
  );
});
