/** /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values. */
import type { Hono } from "hono";
import { compareLabels, labelsKey, type LabelQueryResult, type Labels, type Matcher, type Querier } from "../model/index.ts";
import type { ApiDeps } from "./deps.ts";
import { MAX_TIME_MS, MIN_TIME_MS, invalidParam, limitParam, readForm, timeParam, type Form } from "./params.ts";
import { labelsJSON } from "./render.ts";
import { badData, success, successRaw } from "./respond.ts";

const TRUNCATED = "results truncated due to limit";

/**
 * Parses every `match[]`; each set must hold a matcher that does not match the empty string.
 * /series reports errors against the parameter (`invalid parameter "match[]": …`), the label
 * endpoints report the bare parser error, as Prometheus does.
 */
export function parseMatcherSets(deps: ApiDeps, selectors: string[], namedParam: boolean): Matcher[][] {
  const fail = (e: unknown) => (namedParam ? invalidParam("match[]", e) : badData(e instanceof Error ? e.message : String(e)));
  const sets: Matcher[][] = [];
  for (const s of selectors) {
    try {
      sets.push(deps.promql.parseMetricSelector(s));
    } catch (e) {
      throw fail(e);
    }
  }
  for (const set of sets) {
    if (!set.some((m) => !m.matchesEmpty())) throw fail("match[] must contain at least one non-empty matcher");
  }
  return sets;
}

function mergeSorted(lists: string[][]): string[] {
  if (lists.length === 1) return lists[0]!;
  return [...new Set(lists.flat())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function decodeLabelName(name: string): string {
  // Prometheus 3 escapes non-legacy names in the URL path as U__ followed by _xx_ hex code points.
  if (!name.startsWith("U__")) return name;
  return name.slice(3).replace(/_([0-9a-fA-F]+)_|__/g, (_match, hex: string | undefined) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : "_"));
}

export function registerSeriesRoutes(app: Hono, deps: ApiDeps): void {
  const series = async (form: Form): Promise<Response> => {
    const selectors = form.all("match[]");
    if (selectors.length === 0) throw badData("no match[] parameter provided");
    const limit = limitParam(form);
    const start = timeParam(form, "start", MIN_TIME_MS);
    const end = timeParam(form, "end", MAX_TIME_MS);
    const sets = parseMatcherSets(deps, selectors, true);
    const q = deps.queryable.querier(start, end);
    const warnings: string[] = [];
    let all: Labels[] = [];
    try {
      const seen = new Set<string>();
      for (const set of sets) {
        const res = await q.select(set, { start, end, func: "series", limit: limit > 0 ? limit + 1 : 0 });
        warnings.push(...res.warnings);
        for (const s of res.series) {
          const k = labelsKey(s.labels);
          if (seen.has(k)) continue;
          seen.add(k);
          all.push(s.labels);
        }
      }
    } finally {
      q.close();
    }
    if (sets.length > 1) all.sort(compareLabels);
    if (limit > 0 && all.length > limit) {
      all = all.slice(0, limit);
      warnings.push(TRUNCATED);
    }
    return successRaw(`[${all.map(labelsJSON).join(",")}]`, warnings);
  };

  /** Runs one label query per `match[]` set (or one with none), merges the sorted answers, applies `limit`. */
  const labelQuery = async (
    form: Form,
    fetch: (q: Querier, set: Matcher[] | undefined) => Promise<LabelQueryResult>,
  ): Promise<Response> => {
    const limit = limitParam(form);
    const start = timeParam(form, "start", MIN_TIME_MS);
    const end = timeParam(form, "end", MAX_TIME_MS);
    const sets = parseMatcherSets(deps, form.all("match[]"), false);
    const q = deps.queryable.querier(start, end);
    const warnings: string[] = [];
    let values: string[];
    try {
      const lists: string[][] = [];
      for (const set of sets.length > 0 ? sets : [undefined]) {
        const res = await fetch(q, set);
        warnings.push(...res.warnings);
        lists.push(res.values);
      }
      values = mergeSorted(lists);
    } finally {
      q.close();
    }
    if (limit > 0 && values.length > limit) {
      values = values.slice(0, limit);
      warnings.push(TRUNCATED);
    }
    return success(values, warnings);
  };

  const labelNames = (form: Form): Promise<Response> => labelQuery(form, (q, set) => q.labelNames(set));

  const labelValues = async (rawName: string, form: Form): Promise<Response> => {
    const name = decodeLabelName(rawName);
    if (name === "" || (!rawName.startsWith("U__") && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name))) {
      throw badData(`invalid label name: ${JSON.stringify(rawName)}`);
    }
    return labelQuery(form, (q, set) => q.labelValues(name, set));
  };

  app.get("/api/v1/series", async (c) => series(await readForm(c)));
  app.post("/api/v1/series", async (c) => series(await readForm(c)));
  app.get("/api/v1/labels", async (c) => labelNames(await readForm(c)));
  app.post("/api/v1/labels", async (c) => labelNames(await readForm(c)));
  app.get("/api/v1/label/:name/values", async (c) => labelValues(c.req.param("name"), await readForm(c)));
}
