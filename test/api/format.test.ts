/** Number formatting as Go's strconv does it for Prometheus's JSON API and text exposition. */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { formatFloat, formatTimestamp } from "../../src/api/format.ts";
import { parseDurationMs, parseTimeMs } from "../../src/api/params.ts";
import { formatSampleValue } from "../../src/telemetry/registry.ts";

test("JSON sample values: Go's 'f' form, 'e' below 1e-6 and from 1e21", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [-0, "-0"],
    [1, "1"],
    [0.1, "0.1"],
    [1 / 3, "0.3333333333333333"],
    [123456789.125, "123456789.125"],
    [1e20, "100000000000000000000"],
    [1e21, "1e+21"],
    [1.5e21, "1.5e+21"],
    [1e-6, "0.000001"],
    [1e-7, "1e-07"],
    [-2.5e-10, "-2.5e-10"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [5e-324, "5e-324"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [NaN, "NaN"],
  ];
  for (const [v, s] of cases) expect(formatFloat(v)).toBe(s);
});

test("formatted values round-trip exactly", () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true }), (v) => {
      const s = formatFloat(v).replace("+Inf", "Infinity").replace("-Inf", "-Infinity");
      expect(Object.is(Number(s), v)).toBe(true);
    }),
    { numRuns: 2000 },
  );
});

test("text exposition values: Go's 'g' form", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [1, "1"],
    [123456, "123456"],
    [1234567, "1.234567e+06"],
    [1e6, "1e+06"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [Infinity, "+Inf"],
    [NaN, "NaN"],
  ];
  for (const [v, s] of cases) expect(formatSampleValue(v)).toBe(s);
});

test("timestamps: seconds with the milliseconds written out", () => {
  expect(formatTimestamp(1435781451781)).toBe("1435781451.781");
  expect(formatTimestamp(1435781451500)).toBe("1435781451.500");
  expect(formatTimestamp(1435781451005)).toBe("1435781451.005");
  expect(formatTimestamp(4000)).toBe("4");
  expect(formatTimestamp(-1500)).toBe("-1.500");
});

test("time and duration parameters", () => {
  expect(parseTimeMs("1435781451.781")).toBe(1435781451781);
  expect(parseTimeMs("4")).toBe(4000);
  expect(parseTimeMs("2015-07-01T20:10:51.781Z")).toBe(1435781451781);
  expect(parseTimeMs("2015-07-01T22:10:51+02:00")).toBe(1435781451000);
  expect(() => parseTimeMs("")).toThrow('cannot parse "" to a valid timestamp');
  expect(() => parseTimeMs("2015-07-01")).toThrow("valid timestamp");
  expect(parseDurationMs("15")).toBe(15000);
  expect(parseDurationMs("0.5")).toBe(500);
  expect(parseDurationMs("1m30s")).toBe(90000);
  expect(parseDurationMs("1d")).toBe(86400000);
  expect(() => parseDurationMs("1x")).toThrow('cannot parse "1x" to a valid duration');
});
