/**
 * /federate: the latest sample (within the lookback delta) of every series matching any
 * `match[]`, in the text exposition format, grouped by metric name, with the node's external
 * labels added where a series lacks them. Stale series are left out, as Prometheus does.
 */
import type { Hono } from "hono";
import { METRIC_NAME, isStaleAt, labelsKey, type Labels, type Series } from "../model/index.ts";
import { formatSampleValue } from "../telemetry/index.ts";
import type { ApiDeps } from "./deps.ts";
import { readForm } from "./params.ts";

function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/**
 * The series' own labels in order, then the external labels it lacks, in name order. As in
 * Prometheus, `instance` counts as an external label with an empty value unless one is
 * configured, so that the federating server does not stamp its own `instance` on the series.
 */
function formatSeriesLine(name: string, labels: Labels, ext: [string, string][], v: number, t: number): string {
  const pairs: [string, string][] = [];
  for (const l of labels) if (l.name !== METRIC_NAME) pairs.push([l.name, l.value]);
  for (const e of ext) if (!labels.some((x) => x.name === e[0])) pairs.push(e);
  const ls = pairs.length === 0 ? "" : `{${pairs.map(([k, val]) => `${k}="${escapeValue(val)}"`).join(",")}}`;
  return `${name}${ls} ${formatSampleValue(v)} ${t}\n`;
}

export function registerFederate(app: Hono, deps: ApiDeps): void {
  app.get("/federate", async (c) => {
    const form = await readForm(c);
    const selectors = form.all("match[]");
    const sets = [];
    for (const s of selectors) {
      try {
        sets.push(deps.promql.parseMetricSelector(s));
      } catch (e) {
        return new Response(`${(e as Error).message}\n`, { status: 400, headers: { "Content-Type": "text/plain; charset=utf-8" } });
      }
    }
    const now = Date.now();
    const mint = now - deps.lookbackDeltaMs;
    const q = deps.queryable.querier(mint, now);
    const byKey = new Map<string, Series>();
    try {
      for (const set of sets) {
        const res = await q.select(set, { start: mint, end: now, func: "federate" });
        for (const s of res.series) byKey.set(labelsKey(s.labels), s);
      }
    } finally {
      q.close();
    }
    const ext: [string, string][] = deps.externalLabels().map((l) => [l.name, l.value]);
    if (!ext.some((e) => e[0] === "instance")) ext.push(["instance", ""]);
    ext.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    // Group by metric name; Prometheus writes one `# TYPE name untyped` per family.
    const families = new Map<string, string[]>();
    for (const s of byKey.values()) {
      const n = s.timestamps.length;
      if (n === 0 || isStaleAt(s.values, n - 1)) continue;
      const name = s.labels.find((l) => l.name === METRIC_NAME)?.value ?? "";
      if (name === "") continue;
      let lines = families.get(name);
      if (!lines) families.set(name, (lines = []));
      lines.push(formatSeriesLine(name, s.labels, ext, s.values[n - 1]!, s.timestamps[n - 1]!));
    }
    const names = [...families.keys()].sort();
    let out = "";
    for (const name of names) out += `# TYPE ${name} untyped\n` + families.get(name)!.join("");
    return new Response(out, { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
  });
}
