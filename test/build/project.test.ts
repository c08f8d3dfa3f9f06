/**
 * The promises of the README and the CI script that a fresh machine depends on: `npm ci` accepts
 * the lock file, the flags the README names exist, and the commands it names exist.
 */
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FLAG_SPECS } from "../../src/flags.ts";

const root = resolve(import.meta.dir, "../..");
const readme = readFileSync(join(root, "README.md"), "utf8");

describe("project", () => {
  test(
    "package-lock.json is in sync with package.json (npm ci accepts it)",
    async () => {
      // A dry run in a copy: validates the lock against package.json without touching node_modules.
      const dir = mkdtempSync(join(tmpdir(), "shoal-lock-"));
      try {
        copyFileSync(join(root, "package.json"), join(dir, "package.json"));
        copyFileSync(join(root, "package-lock.json"), join(dir, "package-lock.json"));
        const proc = Bun.spawn(["npm", "ci", "--dry-run", "--offline", "--no-audit", "--no-fund"], {
          cwd: dir,
          stdout: "pipe",
          stderr: "pipe",
        });
        const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
        const code = await proc.exited;
        if (code !== 0) throw new Error(`npm ci --dry-run failed (exit ${code}):\n${(out + err).slice(-2000)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );

  test("every node flag the README names exists", () => {
    const known = new Set(FLAG_SPECS.map((s) => s.name));
    const named = [...readme.matchAll(/`--([a-z][a-z0-9.-]*[a-z0-9])/g)].map((m) => m[1]!);
    const notFlags = new Set(["version", "help", "match", "min-time", "max-time", "outfile", "no-minify", "no-bytecode", "no-ui", "quick", "flag", "no-flag", "build-dir", "shoal-binary", "keep"]);
    const unknown = named.filter((n) => !known.has(n) && !notFlags.has(n));
    expect(unknown).toEqual([]);
    expect(named.length).toBeGreaterThan(5);
  });

  test("the commands the README names exist", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain("src/cli.ts");
    expect(pkg.scripts.test).toBe("bun test");
    expect(pkg.scripts.build).toBe("bun scripts/build.ts");
    for (const m of readme.matchAll(/bun (bench\/[\w/.-]+\.ts)/g)) expect(existsSync(join(root, m[1]!))).toBe(true);
    expect(existsSync(join(root, ".ci/run"))).toBe(true);
    expect(existsSync(join(root, "Dockerfile"))).toBe(true);
  });
});
