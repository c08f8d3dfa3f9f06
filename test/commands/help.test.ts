/**
 * Help through the `shoal` process: `shoal --help` lists every sub-command, and each
 * sub-command's help comes out the same way whether asked as `shoal help CMD` or `shoal CMD --help`.
 */
import { describe, expect, test } from "bun:test";
import { BUN, run, SHOAL_CLI } from "../support/index.ts";

const shoal = (...args: string[]) => run([BUN, SHOAL_CLI, ...args]);

describe("shoal help", () => {
  test("shoal --help lists every sub-command with its usage, and the node's flags", async () => {
    const r = await shoal("--help");
    expect(r.code).toBe(0);
    for (const usage of ["shoal tsdb <import|dump|analyze>", "shoal check config [--syntax-only] [--lint=duplicate-rules] [--lint-fatal] FILE...", "shoal check rules [--lint=duplicate-rules] [--lint-fatal] FILE...", "shoal test rules FILE...", "shoal cluster <status|leave>", "shoal help [<command>]"]) {
      expect(r.stdout).toContain(usage);
    }
    expect(r.stdout).toMatch(/Commands:\n {2}tsdb .*\n {2}check .*\n {2}test .*\n {2}cluster .*\n {2}help /);
    expect(r.stdout).toContain("--storage.tsdb.retention.size=<size>");
    expect(r.stdout).toContain("--cluster.join=<list>");
  });

  test("shoal help with no command is shoal --help", async () => {
    const [help, flag] = await Promise.all([shoal("help"), shoal("--help")]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(flag.stdout);
  });

  test("shoal help CMD and shoal CMD --help print the same usage", async () => {
    for (const [cmd, want] of [
      ["tsdb", "usage: shoal tsdb import FILE [<flags>]"],
      ["check", "usage: shoal check config [--syntax-only] [--lint=duplicate-rules] [--lint-fatal] FILE..."],
      ["test", "usage: shoal test rules FILE..."],
      ["cluster", "usage: shoal cluster status"],
    ] as const) {
      const [help, flag] = await Promise.all([shoal("help", cmd), shoal(cmd, "--help")]);
      expect({ cmd, code: help.code, stderr: help.stderr }).toEqual({ cmd, code: 0, stderr: "" });
      expect(help.stdout).toStartWith(want);
      expect(flag.stdout).toBe(help.stdout);
    }
  });

  test("a verb's help lists its own flags with their defaults", async () => {
    const [help, flag] = await Promise.all([shoal("help", "tsdb", "import"), shoal("tsdb", "import", "--help")]);
    expect(help.code).toBe(0);
    expect(flag.stdout).toBe(help.stdout);
    expect(help.stdout).toStartWith("usage: shoal tsdb import FILE [<flags>]");
    expect(help.stdout).toContain("--max-block-duration=<duration>");
    expect(help.stdout).toContain("(default: 2h)");
    const check = await shoal("check", "config", "--help");
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("--syntax-only");
    const leave = await shoal("cluster", "leave", "-h");
    expect(leave.code).toBe(0);
    expect(leave.stdout).toContain("--wait");
  });

  test("shoal help for a command that does not exist is an error naming it", async () => {
    const r = await shoal("help", "frobnicate");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  test("sub-commands read flags with the node's reader: same words for the same faults", async () => {
    const dump = await shoal("tsdb", "dump", "--log.level=loud");
    expect(dump.code).toBe(2);
    expect(dump.stderr).toBe('shoal tsdb dump: invalid value "loud" for flag --log.level: expected one of debug, info, warn, error\n');
    const node = await shoal("--log.level=loud");
    expect(node.code).toBe(2);
    expect(node.stderr).toContain('invalid value "loud" for flag --log.level: expected one of debug, info, warn, error');
    const imp = await shoal("tsdb", "import", "x.txt", "--max-block-duration=1h1h");
    expect(imp.code).toBe(2);
    expect(imp.stderr).toBe('shoal tsdb import: invalid value "1h1h" for flag --max-block-duration: not a valid duration string: "1h1h"\n');
    const status = await shoal("cluster", "status", "--no-wait");
    expect(status.code).toBe(2);
    expect(status.stderr).toStartWith("shoal cluster status: unknown flag --no-wait\n");
  });
});
