/**
 * The experimental `info(v, {data selectors})` function, with Prometheus 3.14's semantics: each
 * series of `v` is enriched with the data labels of the info series (`target_info` by default)
 * that share its identifying labels (`instance`, `job`), step by step; the newest info sample
 * wins, equally new ones are a conflict.
 *
 * Prometheus selects the info series while evaluating, with matchers built from the base series'
 * identifying label values. Shoal fetches every selector before evaluating, so `infoSelector`
 * gives each info() call a selector of its own (name and data matchers) that is fetched with the
 * others, and the identifying-label restriction is applied here, in memory, with the same result.
 */
import { formatLabels, getLabel, labelsKey, Matcher, METRIC_NAME, type Label, type Labels } from "../../model/index.ts";
import type { Call, Expr, VectorSelector } from "../ast.ts";
import type { Evaluator, Steps } from "./evaluator.ts";
import { EvalError, newSeries, type StepSeries, type VectorValue } from "./types.ts";

const TARGET_INFO = "target_info";
/** The labels that tie a series to its info series; fixed, as in Prometheus. */
const IDENTIFYING_LABELS = ["instance", "job"] as const;

const selectors = new WeakMap<Call, VectorSelector>();

/** The `__name__` matchers that select info series (Prometheus's effectiveInfoNameMatchers). */
function effectiveNameMatchers(nameMatchers: Matcher[]): Matcher[] {
  if (nameMatchers.some((m) => m.type === "=" || m.type === "=~")) return nameMatchers;
  // Only negative matchers would select nearly everything: they narrow down `*_info` metrics.
  if (nameMatchers.length > 0) return [new Matcher("=~", METRIC_NAME, ".+_info"), ...nameMatchers];
  return [new Matcher("=", METRIC_NAME, TARGET_INFO)];
}

/** The matchers of info()'s second argument, or none. */
function dataSelectorMatchers(call: Call): Matcher[] {
  const sel = call.args[1];
  return sel !== undefined && sel.type === "VectorSelector" ? sel.matchers : [];
}

/**
 * The `@` time and offset that govern when info series are looked at: those of the first vector
 * selector in the first argument (in Prometheus's traversal order), with the offsets of enclosing
 * subqueries added until one of them (or the selector) is pinned with `@`.
 */
function referenceTime(arg: Expr): { at: number | null; offset: number } {
  const path: Expr[] = [];
  const find = (e: Expr): VectorSelector | null => {
    switch (e.type) {
      case "VectorSelector":
        return e;
      case "MatrixSelector":
        return e.vectorSelector;
      case "Call":
        for (const a of e.args) {
          const r = find(a);
          if (r) return r;
        }
        return null;
      case "AggregateExpr":
        return find(e.expr) ?? (e.param ? find(e.param) : null);
      case "BinaryExpr":
        return find(e.lhs) ?? find(e.rhs);
      case "SubqueryExpr": {
        path.push(e);
        const r = find(e.expr);
        if (!r) path.pop();
        return r;
      }
      case "ParenExpr":
      case "UnaryExpr":
      case "StepInvariantExpr":
        return find(e.expr);
      default:
        return null;
    }
  };
  const vs = find(arg);
  if (!vs) return { at: null, offset: 0 };
  let at = vs.timestamp;
  let offset = vs.offset;
  for (let i = path.length - 1; at === null && i >= 0; i--) {
    const sq = path[i]!;
    if (sq.type !== "SubqueryExpr") continue;
    offset += sq.offset;
    at = sq.timestamp;
  }
  return { at, offset };
}

/**
 * The selector that fetches the info series an info() call may use: its `__name__` matchers and
 * data label matchers, pinned to the `@` time and offset of the call's first argument. One per
 * call node (of the preprocessed tree), so that fetching and evaluation share it.
 */
export function infoSelector(call: Call): VectorSelector {
  let vs = selectors.get(call);
  if (vs) return vs;
  const given = call.args.length > 1 ? dataSelectorMatchers(call) : null;
  const names = given === null ? [] : given.filter((m) => m.name === METRIC_NAME);
  const data = given === null ? [] : given.filter((m) => m.name !== METRIC_NAME);
  const { at, offset } = referenceTime(call.args[0]!);
  vs = { type: "VectorSelector", name: "", matchers: [...effectiveNameMatchers(names), ...data], offset, timestamp: at, startOrEnd: null, pos: call.pos };
  selectors.set(call, vs);
  return vs;
}

/** Per identifying label: the values it has among the base series to enrich. */
function identifyingValues(base: StepSeries[], ignored: Uint8Array): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (let i = 0; i < base.length; i++) {
    if (ignored[i]) continue;
    for (const name of IDENTIFYING_LABELS) {
      const v = getLabel(base[i]!.labels, name);
      if (v === "") continue;
      let set = out.get(name);
      if (!set) out.set(name, (set = new Set()));
      set.add(v);
    }
  }
  return out;
}

/** The join key of a series with an info metric: its name and the identifying labels present. */
function joinKey(infoName: string, ls: Labels): string {
  let k = infoName;
  for (const name of IDENTIFYING_LABELS) {
    const v = getLabel(ls, name);
    if (v !== "") k += `\xff${name}\xff${v}`;
  }
  return k;
}

export async function evalInfo(ev: Evaluator, call: Call, st: Steps): Promise<VectorValue> {
  const sel = infoSelector(call);
  const base = (await ev.evalVector(call.args[0]!, st)).series;
  const given = call.args.length > 1 ? dataSelectorMatchers(call) : [];
  const nameMatchers = effectiveNameMatchers(given.filter((m) => m.name === METRIC_NAME));
  // Data label matchers by name; `__name__` only chooses info metrics, it is no data label.
  const dataMatchers = new Map<string, Matcher[]>();
  for (const m of given) {
    if (m.name === METRIC_NAME) continue;
    const list = dataMatchers.get(m.name);
    if (list) list.push(m);
    else dataMatchers.set(m.name, [m]);
  }
  const allMatchEmpty = given.every((m) => m.name === METRIC_NAME || m.matches(""));

  // Info series themselves are passed through, not enriched.
  const ignored = new Uint8Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const name = getLabel(base[i]!.labels, METRIC_NAME);
    if (nameMatchers.every((m) => m.matches(name))) ignored[i] = 1;
  }

  // The info series as seen at each step: the value is the time of the sample the lookback finds.
  const idValues = identifyingValues(base, ignored);
  let info: StepSeries[] = [];
  if (idValues.size > 0) {
    info = (await ev.evalVectorSelector(sel, st, true)).series.filter((s) => {
      for (const [name, values] of idValues) if (!values.has(getLabel(s.labels, name))) return false;
      return true;
    });
  }

  // Info series grouped by join key; base series' join key per info metric name.
  const infoNames = [...new Set(info.map((s) => getLabel(s.labels, METRIC_NAME)))].sort();
  const infoByKey = new Map<string, number[]>();
  for (let j = 0; j < info.length; j++) {
    const s = info[j]!;
    const k = joinKey(getLabel(s.labels, METRIC_NAME), s.labels);
    const list = infoByKey.get(k);
    if (list) list.push(j);
    else infoByKey.set(k, [j]);
  }

  const n = st.n;
  const out: StepSeries[] = [];
  const outByKey = new Map<string, StepSeries>();
  // The output series of a label set, looked up once per label set a base series gets (not per sample).
  const seriesFor = (labels: Labels, dropName: boolean): StepSeries => {
    const key = labelsKey(labels);
    let s = outByKey.get(key);
    if (!s) {
      ev.reserveSlots(n);
      s = newSeries(labels, n, dropName);
      outByKey.set(key, s);
      out.push(s);
    }
    return s;
  };
  const emit = (s: StepSeries, i: number, v: number): void => {
    if (s.present[i]) throw new EvalError("vector cannot contain metrics with the same labelset");
    s.values[i] = v;
    s.present[i] = 1;
  };

  // Per base series and info metric, the candidate info series; the chosen ones per step.
  const chosen = new Int32Array(infoNames.length);
  const lastChosen = new Int32Array(infoNames.length);
  let total = 0;
  for (let b = 0; b < base.length; b++) {
    if (ev.check()) await ev.pause();
    const bs = base[b]!;
    if (ignored[b]) {
      const target = seriesFor(bs.labels, bs.dropName);
      for (let i = 0; i < n; i++) if (bs.present[i]) emit(target, i, bs.values[i]!);
      continue;
    }
    const candidates = infoNames.map((name) => infoByKey.get(joinKey(name, bs.labels)) ?? []);
    // The enriched labels only change when the chosen info series do: computed once per choice.
    let labels: Labels | null = null;
    let target: StepSeries | null = null;
    let matched = false;
    lastChosen.fill(-2);
    for (let i = 0; i < n; i++) {
      if (!bs.present[i]) continue;
      for (let m = 0; m < candidates.length; m++) chosen[m] = newestAt(info, candidates[m]!, i);
      let same = labels !== null;
      for (let m = 0; same && m < candidates.length; m++) same = chosen[m] === lastChosen[m];
      if (!same) {
        lastChosen.set(chosen);
        matched = false;
        for (let m = 0; m < candidates.length; m++) if (chosen[m]! >= 0) matched = true;
        labels = enrichedLabels(bs.labels, info, chosen, dataMatchers);
        target = null;
      }
      // No info series found: with a data matcher that needs a value, the sample is dropped.
      if (!matched && !allMatchEmpty) continue;
      target ??= seriesFor(labels!, bs.dropName);
      emit(target, i, bs.values[i]!);
      total++;
    }
  }
  ev.countSamples(total);
  return { kind: "vector", series: out };
}

/**
 * Of the info series `cands`, the one whose sample seen at step `i` is the newest (-1 if none is
 * present); two equally new ones are Prometheus's duplicate info series error.
 */
function newestAt(info: StepSeries[], cands: number[], i: number): number {
  let best = -1;
  for (const j of cands) {
    const s = info[j]!;
    if (!s.present[i]) continue;
    if (best < 0 || s.values[i]! > info[best]!.values[i]!) best = j;
    else if (s.values[i] === info[best]!.values[i]) {
      const t = Math.round(s.values[i]! * 1000);
      throw new EvalError(`found duplicate series for info metric: existing ${formatLabels(info[best]!.labels)} @ ${t}, new ${formatLabels(s.labels)} @ ${t}`);
    }
  }
  return best;
}

/** The base labels plus the data labels of the chosen info series that the base lacks. */
function enrichedLabels(baseLabels: Labels, info: StepSeries[], chosen: Int32Array, dataMatchers: Map<string, Matcher[]>): Labels {
  const added = new Map<string, string>();
  for (const j of chosen) {
    if (j < 0) continue;
    for (const l of info[j]!.labels) {
      if (l.name === METRIC_NAME) continue;
      if (dataMatchers.size > 0 && !dataMatchers.has(l.name)) continue;
      const prev = added.get(l.name);
      if (prev !== undefined && prev !== l.value) throw new EvalError(`conflicting label: ${l.name}`);
      if (getLabel(baseLabels, l.name) !== "") continue;
      added.set(l.name, l.value);
    }
  }
  if (added.size === 0) return baseLabels;
  const out: Label[] = [...baseLabels];
  for (const [name, value] of added) out.push({ name, value });
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}
