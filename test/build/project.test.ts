/**
 * The promises of the README and the CI script that a fresh machine depends on: `npm ci` accepts
 * the lock file, the flags the README names exist, and the commands it names exist.
 */
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { run, tempDir } from "../support/index.ts";

const root = resolve(import.meta.dir, "../..");
const readme = readFileSync(join(root, "README.md"), "utf8");

describe("project", () => {
  test(
    "package-lock.json is in sync with package.json (npm ci accepts it)",
    async () => {
      // A dry run in a copy: validates the lock against package.json without touching node_modules.
      const dir = tempDir("lock");
      try {
        copyFileSync(join(root, "package.json"), join(dir, "package.json"));
        copyFileSync(join(root, "package-lock.json"), join(dir, "package-lock.json"));
        // The project's npm settings too: they let `npm ci` install the other platforms' Bun runtimes.
        copyFileSync(join(root, ".npmrc"), join(dir, ".npmrc"));
        const npm = await run(["npm", "ci", "--dry-run", "--offline", "--no-audit", "--no-fund"], { cwd: dir });
        if (npm.code !== 0) throw new Error(`npm ci --dry-run failed (exit ${npm.code}):\n${(npm.stdout + npm.stderr).slice(-2000)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );

  test("every node flag the README names is one `shoal --help` lists", async () => {
    const help = await run([process.execPath, join(root, "src/cli.ts"), "--help"], { cwd: root });
    expect(help.code).toBe(0);
    const known = new Set([...(help.stdout + help.stderr).matchAll(/--([a-z][a-z0-9.-]*[a-z0-9])/g)].map((m) => m[1]!));
    expect(known.has("storage.tsdb.path")).toBe(true);
    const named = [...readme.matchAll(/`--([a-z][a-z0-9.-]*[a-z0-9])/g)].map((m) => m[1]!);
    // Names in the README that are not node flags: sub-command, build and Bun runtime options, `--no-X` forms.
    const notFlags = new Set(["match", "min-time", "max-time", "max-block-duration", "limit", "outfile", "build-dir", "no-minify", "no-bytecode", "no-ui", "quick", "flag", "no-flag", "shoal-binary", "keep", "max-http-header-size"]);
    const unknown = named.filter((n) => !known.has(n) && !notFlags.has(n) && !(n.startsWith("no-") && known.has(n.slice(3))));
    expect(unknown).toEqual([]);
    expect(named.length).toBeGreaterThan(5);
  });

  test("the commands the README names exist", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain("src/cli.ts");
    expect(pkg.scripts.test).toBe("bun test --timeout 120000");
    expect(pkg.scripts.build).toBe("bun scripts/build.ts");
    for (const m of readme.matchAll(/bun (bench\/[\w/.-]+\.ts)/g)) expect(existsSync(join(root, m[1]!))).toBe(true);
    expect(existsSync(join(root, ".ci/run"))).toBe(true);
    expect(existsSync(join(root, "Dockerfile"))).toBe(true);
  });
});
