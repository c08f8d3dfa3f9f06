/**
 * The regex fast paths of postings (alternations of literals looked up directly, literal
 * prefixes found by binary search in a block's sorted values) select exactly what testing the
 * regex on every value selects, in the head's postings and in a block's.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { compileRegex, labelsFromRecord, Matcher, type Labels } from "../../src/model/index.ts";
import { Block, writeBlock } from "../../src/storage/block.ts";
import { MemPostings, postingsForMatchers, unionMany } from "../../src/storage/postings.ts";
import { removeTempDir, tempDir } from "../support/index.ts";

const VALUES = ["", "a", "ab", "abc", "abd", "b", "ba", "a.b", "a_b", "node_cpu", "node_mem", "nodes", "n", "x|y", "aab", "abab"];
const labelSets: Labels[] = [];
let block: Block;
let mem: MemPostings;
let tmp: string;

beforeAll(async () => {
  // Series k has v=VALUES[k % n] and w=VALUES[(k * 7) % n]; some lack w.
  for (let k = 0; k < 64; k++) {
    const r: Record<string, string> = { __name__: "m", id: String(k).padStart(3, "0") };
    const v = VALUES[k % VALUES.length]!;
    if (v !== "") r.v = v;
    if (k % 5 !== 0) r.w = VALUES[(k * 7) % VALUES.length]! || "z";
    labelSets.push(labelsFromRecord(r));
  }
  labelSets.sort((a, b) => (a.map((l) => `${l.name}=${l.value}`).join(",") < b.map((l) => `${l.name}=${l.value}`).join(",") ? -1 : 1));
  tmp = tempDir("regex-postings");
  const series = labelSets.map((labels) => ({ labels, timestamps: Float64Array.of(1000), values: Float64Array.of(1) }));
  const meta = await writeBlock(tmp, "01HYYYYYYYYYYYYYYYYYYYYYYY", 0, 2000, series, { level: 1, sources: ["01HYYYYYYYYYYYYYYYYYYYYYYY"] });
  block = new Block(`${tmp}/${meta.ulid}`);
  mem = new MemPostings();
  labelSets.forEach((ls, id) => mem.add(id, ls));
});

afterAll(() => removeTempDir(tmp));

const piece = fc.constantFrom("a", "b", "ab", "node_", "n", "x", "", "a.b", "a_b");
const tail = fc.constantFrom("", ".*", ".+", "?", "*", "[bc]", "b{1,2}", "(c|d)", "\\.b", ".", "(?i)B");
const pattern = fc.oneof(
  fc.array(piece, { minLength: 1, maxLength: 4 }).map((ps) => ps.join("|")),
  fc.tuple(piece, tail).map(([p, t]) => p + t),
  fc.tuple(piece, tail, piece).map(([p, t, q]) => p + t + q),
);

/** What postings' fast paths read from a pattern's compiled regex. */
function regexShape(pattern: string): { alternatives: readonly string[] | null; prefix: string } {
  const re = compileRegex(pattern);
  return { alternatives: re.literals(), prefix: re.prefix };
}

test("pattern shapes: alternations of literals and literal prefixes", () => {
  expect(regexShape("a|b|a")).toEqual({ alternatives: ["a", "b"], prefix: "" });
  expect(regexShape("node_.+")).toEqual({ alternatives: null, prefix: "node_" });
  expect(regexShape("abc?")).toEqual({ alternatives: null, prefix: "ab" });
  expect(regexShape("ab{2}")).toEqual({ alternatives: null, prefix: "a" });
  expect(regexShape("(?i)abc")).toEqual({ alternatives: null, prefix: "" });
  expect(regexShape("a.*|b")).toEqual({ alternatives: null, prefix: "" });
  // Sets multiplied out of groups, escapes read as RE2 reads them.
  expect(regexShape("(a|b|c)_total")).toEqual({ alternatives: ["a_total", "b_total", "c_total"], prefix: "" });
  expect(regexShape("host\\.(x|y)\\:9100")).toEqual({ alternatives: ["host.x:9100", "host.y:9100"], prefix: "" });
  // In RE2 a quantifier reaches back across a flag group or an empty \Q\E.
  expect(regexShape("ab(?i)*c.")).toEqual({ alternatives: null, prefix: "a" });
  expect(regexShape("ab\\Q\\E*c.")).toEqual({ alternatives: null, prefix: "a" });
  expect(regexShape("ab(?:x)*c.")).toEqual({ alternatives: null, prefix: "ab" });
  expect(regexShape("ab+(?i)*?c.")).toEqual({ alternatives: null, prefix: "a" });
  expect(regexShape("ab+c(?i)*.")).toEqual({ alternatives: null, prefix: "ab" });
});

test("fast paths select exactly what the regex selects, for =~ and !~, in head and block postings", () => {
  fc.assert(
    fc.property(pattern, fc.constantFrom("=~", "!~"), fc.constantFrom("v", "w"), (pat, type, name) => {
      let m: Matcher;
      try {
        m = new Matcher(type as "=~" | "!~", name, pat);
      } catch {
        return; // not a valid regex: nothing to compare
      }
      const want = labelSets
        .map((ls, id) => [ls, id] as const)
        .filter(([ls]) => m.matches(ls.find((l) => l.name === name)?.value ?? ""))
        .map(([, id]) => id);
      expect(postingsForMatchers(mem, [m])).toEqual(want);
      expect(block.matching([m])).toEqual(want);
      // Combined with another matcher (the intersection path).
      const both = [m, new Matcher("=", "__name__", "m")];
      expect(block.matching(both)).toEqual(want);
    }),
    { numRuns: 400 },
  );
});

test("unionMany: sorted, deduplicated, for dense ranges (byte map) and sparse ones (sort)", () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 40 }), { maxLength: 12 }), fc.integer({ min: 0, max: 1e6 }), (raw, base) => {
      const lists = raw.map((l) => Int32Array.from([...new Set(l)].sort((a, b) => a - b).map((x) => x + base)));
      const want = [...new Set(lists.flatMap((l) => [...l]))].sort((a, b) => a - b);
      expect(unionMany(lists)).toEqual(want);
    }),
    { numRuns: 300 },
  );
  // Both paths explicitly: ids packed close together, and two far apart.
  expect(unionMany([Int32Array.of(3, 5, 7), Int32Array.of(4, 5, 6)])).toEqual([3, 4, 5, 6, 7]);
  expect(unionMany([Int32Array.of(1, 1_000_000), Int32Array.of(2, 999_999)])).toEqual([1, 2, 999_999, 1_000_000]);
});
