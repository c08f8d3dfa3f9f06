import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, removeTempDir, run, SHOAL_CLI, tempDir, type RunResult } from "../support/index.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

function shoal(...args: string[]): Promise<RunResult> {
  return run([BUN, SHOAL_CLI, "tsdb", ...args], { timeoutMs: 120_000 });
}

/** A seeded PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Dump-format lines for a data set: counters, gauges with awkward floats, special values,
 * stale markers and odd NaN payloads; jittered 15 s scrapes over ~7 h (several blocks).
 */
function generate(seed: number): string[] {
  const r = rng(seed);
  const lines: string[] = [];
  const specials = ["-0", "+Inf", "-Inf", "NaN", "StaleNaN", "NaN(0x7ff0000000000001)", "NaN(0xfff8000000000000)", "5e-324", "1.7976931348623157e+308"];
  for (let s = 0; s < 24; s++) {
    const labels = `{__name__="gen_${s % 4}", instance="host-${s}", job="j\\"q\\\\", zone=${JSON.stringify("z" + (s % 3) + "\n")}}`;
    let t = 1_700_000_000_000 + Math.floor(r() * 15000);
    let counter = Math.floor(r() * 1000);
    for (let k = 0; k < 1700; k++) {
      let v: string;
      const pick = r();
      if (pick < 0.02) v = specials[Math.floor(r() * specials.length)]!;
      else if (s % 2 === 0) v = String((counter += Math.floor(r() * 10)));
      else v = String((r() - 0.5) * 10 ** Math.floor(r() * 20 - 10));
      lines.push(`${labels} ${v} ${t}`);
      t += 15000 + Math.floor(r() * 200) - 100;
    }
  }
  return lines;
}

describe("shoal tsdb (through the binary)", () => {
  test("import then dump returns exactly the input samples, bit-exact, stale markers included", async () => {
    const t = tempDir("import");
    cleanups.push(() => removeTempDir(t));
    const lines = generate(42);
    // Shuffle the input: import sorts per series.
    const r = rng(7);
    const shuffled = lines.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const file = join(t, "in.txt");
    writeFileSync(file, "# a comment\n" + shuffled.join("\n") + "\n");
    const data = join(t, "data");
    const imp = await shoal("import", file, `--storage.tsdb.path=${data}`);
    expect(imp.stderr).not.toContain("error");
    expect(imp.code).toBe(0);
    expect(imp.stdout).toContain(`imported ${lines.length} samples of 24 series`);

    const d = await shoal("dump", "--storage.tsdb.path", data);
    expect(d.code).toBe(0);
    // Input lines are already in series-then-time order (series labels sort as generated).
    const expected = lines.slice().sort((a, b) => {
      const ka = a.slice(0, a.indexOf("} ") + 1);
      const kb = b.slice(0, b.indexOf("} ") + 1);
      if (ka !== kb) return ka < kb ? -1 : 1;
      return Number(a.slice(a.lastIndexOf(" "))) - Number(b.slice(b.lastIndexOf(" ")));
    });
    expect(d.stdout.trimEnd().split("\n")).toEqual(expected);

    // Selection and time bounds.
    const sel = await shoal("dump", "--storage.tsdb.path", data, "--match", 'gen_1{instance=~"host-(1|5)"}', "--min-time", "1700000100000", "--max-time=1700001000000");
    const want = expected.filter((l) => /__name__="gen_1", instance="host-(1|5)"/.test(l)).filter((l) => {
      const ts = Number(l.slice(l.lastIndexOf(" ")));
      return ts >= 1700000100000 && ts <= 1700001000000;
    });
    expect(want.length).toBeGreaterThan(50);
    expect(sel.stdout.trimEnd().split("\n")).toEqual(want);

    // Re-importing dump's own output into a fresh directory gives the same dump.
    const again = join(t, "again.txt");
    writeFileSync(again, d.stdout);
    const data2 = join(t, "data2");
    expect((await shoal("import", again, `--storage.tsdb.path=${data2}`)).code).toBe(0);
    expect((await shoal("dump", `--storage.tsdb.path=${data2}`)).stdout).toBe(d.stdout);

    const an = await shoal("analyze", `--storage.tsdb.path=${data}`, "--limit=3");
    expect(an.code).toBe(0);
    expect(an.stdout).toContain("Total series: 24");
    expect(an.stdout).toContain(`Total samples: ${lines.length}`);
    expect(an.stdout).toMatch(/Bytes per sample in blocks: \d+\.\d+/);
    expect(an.stdout).toContain("Highest cardinality labels");
  }, 60_000);

  test("OpenMetrics input as promtool takes it gives the same samples as promtool's own blocks", async () => {
    const t = tempDir("om");
    cleanups.push(() => removeTempDir(t));
    const r = rng(3);
    const out: string[] = ["# HELP om_requests Requests.", "# TYPE om_requests counter"];
    for (let k = 0; k < 600; k++) {
      const ts = 1_700_000_000 + k * 15 + Math.floor(r() * 1000) / 1000;
      out.push(`om_requests_total{code="200"} ${k * 3} ${ts}`);
      out.push(`om_requests_total{code="500"} ${Math.floor(k / 7)} ${ts}`);
    }
    out.push("# TYPE om_temp gauge");
    for (let k = 0; k < 300; k++) out.push(`om_temp ${(20 + r() * 5).toFixed(3)} ${1_700_000_000 + k * 30}`);
    out.push("# EOF");
    const file = join(t, "in.om");
    writeFileSync(file, out.join("\n") + "\n");

    const ours = join(t, "ours");
    const imp = await shoal("import", file, `--storage.tsdb.path=${ours}`);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toContain("openmetrics format");
    const dumpOurs = (await shoal("dump", `--storage.tsdb.path=${ours}`)).stdout;

    const theirs = join(t, "theirs");
    const pt = Bun.spawnSync(["promtool", "tsdb", "create-blocks-from", "openmetrics", file, theirs]);
    expect(pt.exitCode).toBe(0);
    // promtool's dump opens the directory as a TSDB and wants a wal folder to exist.
    mkdirSync(join(theirs, "wal"), { recursive: true });
    const pd = Bun.spawnSync(["promtool", "tsdb", "dump", theirs]);
    expect(pd.exitCode).toBe(0);
    // promtool prints values with Go's %g; compare numerically, line by line.
    const norm = (s: string) =>
      s
        .trimEnd()
        .split("\n")
        .map((l) => {
          const i = l.lastIndexOf("} ");
          const [v, ts] = l.slice(i + 2).split(" ");
          return `${l.slice(0, i + 1)} ${Number(v)} ${ts}`;
        })
        .sort();
    const a = norm(dumpOurs);
    expect(a.length).toBe(1500);
    expect(a).toEqual(norm(pd.stdout.toString()));
  }, 60_000);

  test("bad input and bad flags fail with a clear message and write nothing", async () => {
    const t = tempDir("bad");
    cleanups.push(() => removeTempDir(t));
    const file = join(t, "bad.txt");
    writeFileSync(file, 'ok_metric 1 1000\nbad_metric{a="1"} 12\n');
    const data = join(t, "data");
    const r1 = await shoal("import", file, `--storage.tsdb.path=${data}`);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain("line 2");
    expect(r1.stderr).toContain("timestamp");
    expect(existsSync(data)).toBe(false);

    writeFileSync(file, "m 1 1000\nm 2 1000\n");
    const r2 = await shoal("import", file, `--storage.tsdb.path=${data}`);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/two different values at 1000/);

    const r3 = await shoal("dump", "--match", "rate(x[5m])", `--storage.tsdb.path=${data}`);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain("series selector");
    const r4 = await shoal("dump", "--bogus");
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain("unknown flag --bogus");
    const r5 = await shoal("frobnicate");
    expect(r5.code).toBe(2);
  }, 60_000);

  test("dump merges blocks and the WAL-backed head of a stopped node", async () => {
    const t = tempDir("dumphead");
    cleanups.push(() => removeTempDir(t));
    const { openLocalTSDB } = await import("../../src/storage/db.ts");
    const { labelsFromRecord } = await import("../../src/model/index.ts");
    const db = await openLocalTSDB({ dir: t, blockDurationMs: 10_000, retentionMs: 1e12 });
    const want: string[] = [];
    for (let k = 0; k < 100; k++) {
      const app = db.appender();
      for (const inst of ["b", "a"]) {
        app.append(labelsFromRecord({ __name__: "mixed", inst }), k * 1000, k + 0.25, k === 50);
      }
      await app.commit();
    }
    await db.maintain();
    expect(db.stats().blocks).toBeGreaterThan(0);
    expect(db.stats().headSeries).toBe(2);
    await db.close();
    for (const inst of ["a", "b"]) {
      for (let k = 0; k < 100; k++) want.push(`{__name__="mixed", inst="${inst}"} ${k === 50 ? "StaleNaN" : k + 0.25} ${k * 1000}`);
    }
    const d = await shoal("dump", `--storage.tsdb.path=${t}`);
    expect(d.code).toBe(0);
    expect(d.stdout.trimEnd().split("\n")).toEqual(want);
    const part = await shoal("dump", `--storage.tsdb.path=${t}`, "--match", '{inst="b"}', "--min-time=45000", "--max-time=94000");
    expect(part.stdout.trimEnd().split("\n")).toEqual(want.filter((l) => l.includes('inst="b"')).slice(45, 95));
  }, 60_000);

  test("the importer streams a file in pieces with the same result as parsing it whole", async () => {
    const t = tempDir("stream");
    cleanups.push(() => removeTempDir(t));
    const { readImportFile } = await import("../../src/storage/tools/import.ts");
    const { parseImportText } = await import("../../src/storage/tools/textformat.ts");
    const lines = generate(5).slice(0, 3000);
    // Multi-byte UTF-8 in label values so that pieces split characters too.
    const text = lines.map((l, i) => l.replace("job=", `x="é€${i % 7}", job=`)).join("\n") + "\n";
    const file = join(t, "in.txt");
    writeFileSync(file, text);
    const collect = () => {
      const out: string[] = [];
      return { out, emit: (_l: unknown, key: string, ts: number, hi: number, lo: number, line: number) => void out.push(`${key}|${ts}|${hi}|${lo}|${line}`) };
    };
    const whole = collect();
    parseImportText(text, whole.emit);
    for (const piece of [97, 1000, 1 << 20]) {
      const c = collect();
      const r = readImportFile(file, c.emit, piece);
      expect(r.samples).toBe(3000);
      expect(c.out).toEqual(whole.out);
    }
  });
});
