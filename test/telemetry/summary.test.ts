/** Summaries as Prometheus's client exposes them: quantiles over a sliding window, sum and count forever. */
import { expect, test } from "bun:test";
import { Registry } from "../../src/telemetry/registry.ts";

test("quantiles cover the last max age only; _sum and _count keep everything; an empty window is NaN", () => {
  let now = 0;
  const reg = new Registry();
  const s = reg.summary("x_seconds", "X.", { quantiles: [0.5, 0.99], maxAgeMs: 10_000, ageBuckets: 5, now: () => now }, ["job"]);
  for (let i = 1; i <= 100; i++) s.observe(i, "a");
  let text = reg.render();
  expect(text).toContain('x_seconds{job="a",quantile="0.5"} 50\n');
  expect(text).toContain('x_seconds{job="a",quantile="0.99"} 99\n');
  expect(text).toContain('x_seconds_count{job="a"} 100\n');
  expect(text).toContain("# TYPE x_seconds summary\n");
  now = 6_000;
  s.observe(1000, "a");
  now = 11_000; // the first 100 observations aged out
  text = reg.render();
  expect(text).toContain('x_seconds{job="a",quantile="0.5"} 1000\n');
  expect(text).toContain('x_seconds_sum{job="a"} 6050\n');
  now = 30_000;
  expect(reg.render()).toContain('x_seconds{job="a",quantile="0.5"} NaN\n');
});

test("a summary without quantiles shows only _sum and _count", () => {
  const reg = new Registry();
  reg.summary("y_seconds", "Y.").observe(0.25);
  expect(reg.render()).toBe("# HELP y_seconds Y.\n# TYPE y_seconds summary\ny_seconds_sum 0.25\ny_seconds_count 1\n");
});
