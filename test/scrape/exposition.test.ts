import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { labelsToRecord } from "../../src/model/index.ts";
import { ExpositionError, ExpositionParser, parseSeriesKey, type ExpositionFormat } from "../../src/scrape/index.ts";

interface Row {
  key: string;
  labels: Record<string, string>;
  v: number;
  t: number;
}

function parse(body: string, format: ExpositionFormat = "text"): { rows: Row[]; p: ExpositionParser } {
  const p = new ExpositionParser();
  p.parse(body, format);
  const rows: Row[] = [];
  for (let i = 0; i < p.count; i++) {
    rows.push({ key: p.key(i), labels: labelsToRecord(parseSeriesKey(p.key(i))), v: p.values[i]!, t: p.timestamps[i]! });
  }
  return { rows, p };
}

function parseError(body: string, format: ExpositionFormat = "text"): ExpositionError {
  try {
    new ExpositionParser().parse(body, format);
  } catch (e) {
    expect(e).toBeInstanceOf(ExpositionError);
    return e as ExpositionError;
  }
  throw new Error(`expected a parse error for ${JSON.stringify(body)}`);
}

describe("text format 0.0.4", () => {
  test("the documented example", () => {
    const body = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
`;
    const { rows, p } = parse(body);
    expect(rows.length).toBe(11);
    expect(rows[0]).toEqual({
      key: 'http_requests_total{method="post",code="200"}',
      labels: { __name__: "http_requests_total", method: "post", code: "200" },
      v: 1027,
      t: 1395066363000,
    });
    expect(rows[2]!.labels).toEqual({ __name__: "msdos_file_access_time_seconds", path: "C:\\DIR\\FILE.TXT", error: 'Cannot find file:\n"FILE.TXT"' });
    expect(rows[2]!.v).toBe(1.458255915e9);
    expect(Number.isNaN(rows[3]!.t)).toBe(true);
    expect(rows[4]).toMatchObject({ v: Infinity, t: -3982045 });
    expect(rows[6]!.labels.le).toBe("+Inf");
    expect(rows[10]!.v).toBe(1.7560473e7);
    expect(p.metadata.get("http_requests_total")).toEqual({ type: "counter", help: "The total number of HTTP requests.", unit: "" });
    expect(p.metadata.get("http_request_duration_seconds")!.type).toBe("histogram");
    expect(p.metadata.get("rpc_duration_seconds")!.type).toBe("summary");
  });

  test("special values, trailing comma, untyped as unknown, HELP escapes", () => {
    const { rows, p } = parse('# HELP a x\\\\y\\nz\n# TYPE a untyped\na{b="1",} NaN\nb -Inf\nc 1e-3\nd .5\ne -0\n');
    expect(Number.isNaN(rows[0]!.v)).toBe(true);
    expect(rows[0]!.labels).toEqual({ __name__: "a", b: "1" });
    expect(rows.slice(1).map((r) => r.v)).toEqual([-Infinity, 0.001, 0.5, -0]);
    expect(p.metadata.get("a")).toEqual({ type: "unknown", help: "x\\y\nz", unit: "" });
  });

  test("exact float parsing", () => {
    for (const s of ["0.1", "123456789.123456789", "1.7976931348623157e308", "5e-324", "9007199254740993", "1e23", "0.30000000000000004"]) {
      expect(parse(`m ${s}\n`).rows[0]!.v).toBe(Number(s));
    }
  });

  test.each([
    ["a 1\nb{c=\"d\" 2\n", 2, 9, 'expected "," or "}"'],
    ["a 1x\n", 1, 3, 'invalid value "1x"'],
    ["a\n", 1, 2, "expected value"],
    ["a 1 2 3\n", 1, 7, "unexpected"],
    ["a 1 1.5\n", 1, 5, "invalid timestamp"],
    ["{a=\"b\"} 1\n", 1, 1, "expected metric name"],
    ["a{1=\"b\"} 1\n", 1, 3, "expected label name"],
    ["a{b=c} 1\n", 1, 5, "expected quoted label value"],
    ["a{b=\"c} 1\n", 1, 5, "unterminated label value"],
    ["# TYPE a foo\n", 1, 10, 'invalid metric type "foo"'],
  ])("rejects %j at line %d column %d", (body, line, column, reason) => {
    const e = parseError(body);
    expect([e.line, e.column]).toEqual([line, column]);
    expect(e.message).toContain(`line ${line}, column ${column}: `);
    expect(e.message).toContain(reason);
  });

  test("Prometheus's text quirks: optional commas and blanks inside braces, no blank needed after }", () => {
    expect(parse('a{b="c" d="e"} 1\n').rows[0]!.labels).toEqual({ __name__: "a", b: "c", d: "e" });
    expect(parse('a{ b = "c" , } 1\n').rows[0]!.labels).toEqual({ __name__: "a", b: "c" });
    expect(parse('a{b="c"}1\n').rows[0]!.v).toBe(1);
    expect(parse("  \n  # indented comment\na 1").rows.length).toBe(1);
    expect(parseError("  a 1\n").message).toBe("line 1, column 1: unexpected blank before metric name");
    expect(parseError("a 1\r\n").message).toContain("invalid value");
    expect(parseError('a{b="c",,d="e"} 1\n').message).toContain("expected label name");
  });

  test("duplicate label names are caught when the series is turned into labels", () => {
    const p = new ExpositionParser();
    p.parse('a{b="1",b="2"} 1\n', "text");
    expect(() => parseSeriesKey(p.key(0))).toThrow('label name "b" is not unique');
  });
});

describe("OpenMetrics 1.0", () => {
  test("metadata, exemplars, float timestamps, EOF", () => {
    const body = `# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE foo histogram
foo_bucket{le="0.01"} 0
foo_bucket{le="+Inf"} 17 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67
# TYPE go_goroutines gauge
go_goroutines 69 1520879607.789
# EOF
`;
    const { rows, p } = parse(body, "openmetrics");
    expect(rows.length).toBe(6);
    expect(rows[4]).toMatchObject({ key: 'foo_bucket{le="+Inf"}', v: 17, t: 1520879607789 });
    expect(rows[5]).toMatchObject({ v: 69, t: 1520879607789 });
    expect(p.metadata.get("acme_http_router_request_seconds")).toEqual({
      type: "summary",
      unit: "seconds",
      help: "Latency though all of ACME's HTTP request router.",
    });
  });

  test.each([
    ["a 1\n", 2, "data does not end with # EOF"],
    ["a 1\n# EOF\nb 2\n", 3, "unexpected data after # EOF"],
    ["a  1\n# EOF\n", 1, "unexpected extra space"],
    ["\n# EOF\n", 1, "unexpected empty line"],
    ["# comment\n# EOF\n", 1, 'expected "# HELP", "# TYPE", "# UNIT" or "# EOF"'],
    ["# TYPE a untyped\n# EOF\n", 1, 'invalid metric type "untyped"'],
    ["# UNIT a_bytes seconds\n# EOF\n", 1, "not a suffix"],
    ["a 1 # {x=\"y\"}\n# EOF\n", 1, "expected a single space"],
    ['a{b="c",} 1\n# EOF\n', 1, "expected label name"],
    ['a{ b="c"} 1\n# EOF\n', 1, "expected label name"],
    ['a{b="c" d="e"} 1\n# EOF\n', 1, 'expected "," or "}"'],
    ["# HELP a\n# EOF\n", 1, "expected text in HELP"],
  ])("rejects %j at line %d", (body, line, reason) => {
    const e = parseError(body, "openmetrics");
    expect(e.line).toBe(line);
    expect(e.message).toContain(reason);
  });
});

// ---- property tests -------------------------------------------------------------------------

const nameArb = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,12}$/);
const labelNameArb = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/).filter((n) => n !== "__name__");
const labelValueArb = fc.string({ maxLength: 12, unit: fc.constantFrom("a", "Z", "0", " ", "\\", '"', "\n", "{", "}", ",", "=", "#", "é", "😀") });
const valueArb = fc.oneof(fc.double(), fc.integer().map(Number), fc.constantFrom(Infinity, -Infinity, NaN, 0, -0));
const sampleArb = fc.record({
  name: nameArb,
  labels: fc.uniqueArray(fc.tuple(labelNameArb, labelValueArb), { maxLength: 4, selector: (t) => t[0] }),
  v: valueArb,
  t: fc.option(fc.integer({ min: -1e12, max: 4e12 }), { nil: undefined }),
});

function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Object.is(v, -0) ? "-0" : String(v);
}
type Sample = { name: string; labels: [string, string][]; v: number; t: number | undefined };
function render(samples: Sample[], format: ExpositionFormat): string {
  let out = "";
  for (const s of samples) {
    const ls = s.labels.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",");
    out += `${s.name}${ls ? `{${ls}}` : ""} ${formatValue(s.v)}`;
    if (s.t !== undefined) out += format === "text" ? ` ${s.t}` : ` ${s.t / 1000}`;
    out += "\n";
  }
  return format === "openmetrics" ? out + "# EOF\n" : out;
}

function checkError(e: unknown, body: string): void {
  if (!(e instanceof ExpositionError)) throw e;
  const lines = body.split("\n").length;
  expect(e.line).toBeGreaterThanOrEqual(1);
  expect(e.line).toBeLessThanOrEqual(lines + 1);
  expect(e.column).toBeGreaterThanOrEqual(1);
  expect(e.message).toMatch(/^line \d+, column \d+: \S/);
}

describe.each(["text", "openmetrics"] as const)("%s parser properties", (format) => {
  test("rendered samples parse back to the same labels, values and timestamps", () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { maxLength: 20 }), (samples) => {
        const body = render(samples, format);
        const { rows } = parse(body, format);
        expect(rows.length).toBe(samples.length);
        samples.forEach((s, i) => {
          const r = rows[i]!;
          const want: Record<string, string> = { __name__: s.name };
          for (const [k, v] of s.labels) if (v !== "") want[k] = v;
          expect(r.labels).toEqual(want);
          if (Number.isNaN(s.v)) expect(Number.isNaN(r.v)).toBe(true);
          else expect(Object.is(r.v, s.v)).toBe(true);
          if (s.t === undefined) expect(Number.isNaN(r.t)).toBe(true);
          else expect(r.t).toBe(format === "text" ? s.t : Math.trunc((s.t / 1000) * 1000));
        });
      }),
      { numRuns: 300 },
    );
  });

  test("random input never crashes: it parses or fails with line and column", () => {
    const alphabet = fc.constantFrom(..."ab_:{}=\",# \n\t\\0123456789.eE+-InfNa", "# EOF\n", "# HELP ", "# TYPE ", "le=", "😀", "\r");
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: alphabet, maxLength: 80 })), (body) => {
        const p = new ExpositionParser();
        try {
          p.parse(body, format);
          for (let i = 0; i < p.count; i++) {
            try {
              parseSeriesKey(p.key(i));
            } catch (e) {
              expect((e as Error).message).toContain("is not unique");
            }
          }
        } catch (e) {
          checkError(e, body);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("mutated valid input never crashes", () => {
    const mutation = fc.record({
      pos: fc.nat(),
      del: fc.nat({ max: 3 }),
      ins: fc.string({ maxLength: 3, unit: fc.constantFrom(..."{}=\", \n#\\a1.") }),
    });
    fc.assert(
      fc.property(fc.array(sampleArb, { minLength: 1, maxLength: 8 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (samples, muts) => {
        let body = render(samples, format);
        for (const m of muts) {
          const at = m.pos % (body.length + 1);
          body = body.slice(0, at) + m.ins + body.slice(at + m.del);
        }
        const p = new ExpositionParser();
        try {
          p.parse(body, format);
          for (let i = 0; i < p.count; i++) {
            try {
              parseSeriesKey(p.key(i));
            } catch (e) {
              expect((e as Error).message).toContain("is not unique");
            }
          }
        } catch (e) {
          checkError(e, body);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("parser throughput", () => {
  test("parses a large exposition into its columns", () => {
    let body = "# TYPE http_requests_total counter\n";
    for (let i = 0; i < 100_000; i++) body += `http_requests_total{method="GET",code="200",handler="/api/v1/h${i % 500}",instance="i${i}"} ${i * 1.5}\n`;
    // Bodies arrive through a TextDecoder (a flat string), not as a concatenation rope.
    body = new TextDecoder().decode(new TextEncoder().encode(body));
    const p = new ExpositionParser();
    p.parse(body, "text");
    const start = performance.now();
    const rounds = 5;
    for (let r = 0; r < rounds; r++) p.parse(body, "text");
    const perSec = (100_000 * rounds) / ((performance.now() - start) / 1000);
    console.log(`text parser: ${(perSec / 1e6).toFixed(2)} M samples/s (${(body.length / 1e6).toFixed(1)} MB body)`);
    expect(p.count).toBe(100_000);
    expect(p.values[99_999]).toBe(99_999 * 1.5);
  });
});
