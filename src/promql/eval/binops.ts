/**
 * Binary operators. Vector/vector matching is computed once per series signature, and values
 * are combined step by step in typed arrays; Prometheus's per-step errors (duplicate series on
 * the "one" side, ambiguous one-to-one matches) are checked per step as Prometheus checks them.
 */
import { compareLabels, labelsKey, METRIC_NAME, type Label, type Labels } from "../../model/index.ts";
import type { BinaryExpr, BinaryOp, VectorMatching } from "../ast.ts";
import { errs } from "./annotations.ts";
import { isMetricSchemaLabel, mergeSameLabels, type Evaluator, type Steps } from "./evaluator.ts";
import { goPow } from "./mathutil.ts";
import { EvalError, newSeries, type StepSeries, type Value } from "./types.ts";

const ARITH = new Set<BinaryOp>(["+", "-", "*", "/", "%", "^", "atan2"]);
const COMPARISON = new Set<BinaryOp>(["==", "!=", ">", "<", ">=", "<="]);

function arith(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
    case "%":
      return a % b;
    case "^":
      return goPow(a, b);
    case "atan2":
      return Math.atan2(a, b);
    default:
      throw new EvalError(`operator ${op} not allowed here`);
  }
}

function compare(op: BinaryOp, a: number, b: number): boolean {
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case ">":
      return a > b;
    case "<":
      return a < b;
    case ">=":
      return a >= b;
    case "<=":
      return a <= b;
    default:
      throw new EvalError(`operator ${op} is not a comparison`);
  }
}

export async function evalBinary(ev: Evaluator, e: BinaryExpr, st: Steps): Promise<Value> {
  const lhs = await ev.eval(e.lhs, st);
  const rhs = await ev.eval(e.rhs, st);
  const n = st.n;
  const op = e.op;
  if (lhs.kind === "scalar" && rhs.kind === "scalar") {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const a = lhs.values[i]!;
      const b = rhs.values[i]!;
      out[i] = COMPARISON.has(op) ? (compare(op, a, b) ? 1 : 0) : arith(op, a, b);
    }
    return { kind: "scalar", values: out };
  }
  if (lhs.kind === "vector" && rhs.kind === "scalar") return vectorScalar(lhs.series, rhs.values, op, false, e.returnBool, n);
  if (lhs.kind === "scalar" && rhs.kind === "vector") return vectorScalar(rhs.series, lhs.values, op, true, e.returnBool, n);
  if (lhs.kind !== "vector" || rhs.kind !== "vector") throw new EvalError("binary operation on non-numeric values");
  const matching: VectorMatching = e.matching ?? {
    card: op === "and" || op === "or" || op === "unless" ? "many-to-many" : "one-to-one",
    matchingLabels: [],
    on: false,
    include: [],
  };
  if (op === "and" || op === "or" || op === "unless") return setOp(op, lhs.series, rhs.series, matching, n);
  return vectorVector(ev, op, lhs.series, rhs.series, matching, e.returnBool, n);
}

function vectorScalar(
  series: StepSeries[],
  scalar: Float64Array,
  op: BinaryOp,
  swap: boolean,
  returnBool: boolean,
  n: number,
): Value {
  const isCmp = COMPARISON.has(op);
  const out: StepSeries[] = [];
  for (const s of series) {
    const res = newSeries(s.labels, n, s.dropName || ARITH.has(op) || returnBool);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      const v = s.values[i]!;
      const sc = scalar[i]!;
      const a = swap ? sc : v;
      const b = swap ? v : sc;
      if (isCmp) {
        const keep = compare(op, a, b);
        if (returnBool) {
          res.values[i] = keep ? 1 : 0;
        } else {
          if (!keep) continue;
          res.values[i] = v;
        }
      } else {
        res.values[i] = arith(op, a, b);
      }
      res.present[i] = 1;
      any = true;
    }
    if (any) out.push(res);
  }
  return { kind: "vector", series: out };
}

/** The join signature of a series under on(...)/ignoring(...). */
function signature(ls: Labels, m: VectorMatching): string {
  if (m.on) {
    const names = new Set(m.matchingLabels);
    let s = "";
    for (const l of ls) if (names.has(l.name)) s += l.name + "\xff" + l.value + "\xff";
    return s;
  }
  const names = new Set(m.matchingLabels);
  let s = "";
  for (const l of ls) if (l.name !== METRIC_NAME && !names.has(l.name)) s += l.name + "\xff" + l.value + "\xff";
  return s;
}

function matchLabels(ls: Labels, m: VectorMatching): Labels {
  const names = new Set(m.matchingLabels);
  if (m.on) return ls.filter((l) => names.has(l.name));
  return ls.filter((l) => l.name !== METRIC_NAME && !names.has(l.name));
}

/** For each matching signature of `side`, the steps where some series with it has a sample. */
function presentBySignature(side: StepSeries[], m: VectorMatching, n: number): Map<string, Uint8Array> {
  const bySig = new Map<string, Uint8Array>();
  for (const s of side) {
    const sig = signature(s.labels, m);
    let p = bySig.get(sig);
    if (!p) {
      p = new Uint8Array(n);
      bySig.set(sig, p);
    }
    for (let i = 0; i < n; i++) if (s.present[i]) p[i] = 1;
  }
  return bySig;
}

function setOp(op: "and" | "or" | "unless", lhs: StepSeries[], rhs: StepSeries[], m: VectorMatching, n: number): Value {
  if (op === "or") {
    const leftPresent = presentBySignature(lhs, m, n);
    const out: StepSeries[] = [...lhs];
    for (const s of rhs) {
      const p = leftPresent.get(signature(s.labels, m));
      if (!p) {
        out.push(s);
        continue;
      }
      const present = new Uint8Array(n);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (s.present[i] && !p[i]) {
          present[i] = 1;
          any = true;
        }
      }
      if (any) out.push({ labels: s.labels, dropName: s.dropName, values: s.values, present });
    }
    return { kind: "vector", series: mergeSameLabels(out, n) };
  }
  const rightPresent = presentBySignature(rhs, m, n);
  const out: StepSeries[] = [];
  for (const s of lhs) {
    const p = rightPresent.get(signature(s.labels, m));
    if (!p) {
      if (op === "unless") out.push(s);
      continue;
    }
    const present = new Uint8Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (s.present[i] && (op === "and" ? p[i] === 1 : p[i] === 0)) {
        present[i] = 1;
        any = true;
      }
    }
    if (any) out.push({ labels: s.labels, dropName: s.dropName, values: s.values, present });
  }
  return { kind: "vector", series: out };
}

function resultLabels(l: Labels, r: Labels, op: BinaryOp, m: VectorMatching): Labels {
  let out: Label[] = ARITH.has(op) ? l.filter((x) => !isMetricSchemaLabel(x.name)) : [...l];
  if (m.card === "one-to-one") {
    const names = new Set(m.matchingLabels);
    out = m.on ? out.filter((x) => names.has(x.name)) : out.filter((x) => !names.has(x.name));
  }
  for (const name of m.include) {
    const v = r.find((x) => x.name === name)?.value ?? "";
    out = out.filter((x) => x.name !== name);
    if (v !== "") out.push({ name, value: v });
  }
  if (m.include.length > 0) out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

async function vectorVector(
  ev: Evaluator,
  op: BinaryOp,
  lhsIn: StepSeries[],
  rhsIn: StepSeries[],
  m: VectorMatching,
  returnBool: boolean,
  n: number,
): Promise<Value> {
  // The experimental fill modifiers stand in for a missing match. As in Prometheus they apply
  // after group_right swaps the sides: the right fill value replaces a missing "one" side series,
  // the left fill value a missing "many" side.
  const fillOne = m.fillValues?.rhs ?? null;
  const fillMany = m.fillValues?.lhs ?? null;
  const filling = fillOne !== null || fillMany !== null;
  if (lhsIn.length === 0 && rhsIn.length === 0) return { kind: "vector", series: [] };
  if ((lhsIn.length === 0 || rhsIn.length === 0) && !filling) return { kind: "vector", series: [] };
  const swapped = m.card === "one-to-many";
  // `many` is iterated; `one` must be unique per signature at each step.
  const many = swapped ? rhsIn : lhsIn;
  const one = swapped ? lhsIn : rhsIn;
  const manyAny = anyPresent(many, n);
  const oneAny = anyPresent(one, n);
  const oneBySig = new Map<string, number[]>();
  for (let j = 0; j < one.length; j++) {
    const sig = signature(one[j]!.labels, m);
    const list = oneBySig.get(sig);
    if (list) list.push(j);
    else oneBySig.set(sig, [j]);
  }
  // Duplicate series on the "one" side at a step where both sides have samples.
  for (const [, list] of oneBySig) {
    if (list.length < 2) continue;
    for (let i = 0; i < n; i++) {
      // Prometheus looks at a step only when both sides have samples there, or one side has and
      // a fill value may stand in for the other.
      if (!(manyAny[i] && oneAny[i]) && !(filling && (manyAny[i] || oneAny[i]))) continue;
      const present = list.filter((j) => one[j]!.present[i]);
      if (present.length > 1) {
        const a = one[present[0]!]!.labels;
        const b = one[present[1]!]!.labels;
        const [x, y] = compareLabels(a, b) <= 0 ? [a, b] : [b, a];
        throw new EvalError(errs.duplicateSeries(matchLabels(a, m), swapped ? "left" : "right", x, y));
      }
    }
  }
  const isCmp = COMPARISON.has(op);
  const out: StepSeries[] = [];
  const manyBySig = new Map<string, number[]>();
  for (let j = 0; j < many.length; j++) {
    const sig = signature(many[j]!.labels, m);
    const list = manyBySig.get(sig);
    if (list) list.push(j);
    else manyBySig.set(sig, [j]);
  }
  const fillCtx: FillContext = { op, m, swapped, isCmp, returnBool, n };
  for (const [sig, manyList] of manyBySig) {
    if (ev.check()) await ev.pause();
    const oneList = oneBySig.get(sig) ?? (fillOne !== null ? [] : undefined);
    if (!oneList) continue;
    if (m.card === "one-to-one" && manyList.length > 1) {
      for (let i = 0; i < n; i++) {
        let cnt = 0;
        for (const j of manyList) cnt += many[j]!.present[i]!;
        if (cnt < 2) continue;
        let onePresent = fillOne !== null;
        for (const j of oneList) if (one[j]!.present[i]) onePresent = true;
        if (onePresent) throw new EvalError(errs.manyToOneExplicit);
      }
    }
    const group: StepSeries[] = [];
    if (fillOne !== null) {
      const oneHere = presentOf(one, oneList, n);
      for (const mi of manyList) group.push(filledSeries(fillCtx, many[mi]!, oneHere, fillOne, "many"));
    }
    if (fillMany !== null) {
      const manyHere = presentOf(many, manyList, n);
      for (const oi of oneList) group.push(filledSeries(fillCtx, one[oi]!, manyHere, fillMany, "one"));
    }
    for (const mi of manyList) {
      const ms = many[mi]!;
      for (const oi of oneList) {
        const os = one[oi]!;
        const labels = resultLabels(ms.labels, os.labels, op, m);
        const res = newSeries(labels, n, returnBool);
        let any = false;
        for (let i = 0; i < n; i++) {
          if (!ms.present[i] || !os.present[i]) continue;
          const a = swapped ? os.values[i]! : ms.values[i]!;
          const b = swapped ? ms.values[i]! : os.values[i]!;
          if (isCmp) {
            const keep = compare(op, a, b);
            if (returnBool) res.values[i] = keep ? 1 : 0;
            else {
              if (!keep) {
                // A dropped comparison still counts as a match for the uniqueness checks.
                res.present[i] = 2;
                continue;
              }
              res.values[i] = a;
            }
          } else res.values[i] = arith(op, a, b);
          res.present[i] = 1;
          any = true;
        }
        group.push(res);
        void any;
      }
    }
    // Same result labels from two matches at one step: grouping labels must ensure unique matches.
    if (m.card !== "one-to-one" && group.length > 1) {
      const seen = new Map<string, Uint8Array>();
      for (const s of group) {
        const k = labelsKey(s.labels);
        const p = seen.get(k);
        if (!p) {
          seen.set(k, s.present.slice());
          continue;
        }
        for (let i = 0; i < n; i++) {
          if (s.present[i] && p[i]) throw new EvalError(errs.groupingUnique);
          if (s.present[i]) p[i] = s.present[i]!;
        }
      }
    }
    for (const s of group) {
      let any = false;
      for (let i = 0; i < n; i++) {
        if (s.present[i] === 2) s.present[i] = 0;
        else if (s.present[i]) any = true;
      }
      if (any) out.push(s);
    }
  }
  // Match groups with no "many" side series at all: the left fill value stands in for them.
  if (fillMany !== null) {
    const none = new Uint8Array(n);
    for (const [sig, oneList] of oneBySig) {
      if (manyBySig.has(sig)) continue;
      for (const oi of oneList) {
        const s = filledSeries(fillCtx, one[oi]!, none, fillMany, "one");
        for (let i = 0; i < n; i++) if (s.present[i] === 2) s.present[i] = 0;
        if (s.present.includes(1)) out.push(s);
      }
    }
  }
  return { kind: "vector", series: mergeSameLabels(out, n) };
}

interface FillContext {
  op: BinaryOp;
  m: VectorMatching;
  swapped: boolean;
  isCmp: boolean;
  returnBool: boolean;
  n: number;
}

/** The steps where any of `side[idx]` has a sample. */
function presentOf(side: StepSeries[], idx: number[], n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (const j of idx) {
    const s = side[j]!;
    for (let i = 0; i < n; i++) if (s.present[i]) p[i] = 1;
  }
  return p;
}

/**
 * The result of `s` (on the `sideOf` side, after the group_right swap) against a fill value at
 * the steps where the other side of its match group has no sample (`otherPresent` is 0). The
 * stand-in series has only the match group's labels, as Prometheus builds it. A comparison that
 * drops a sample marks the step 2, like the matched results, so the uniqueness checks see it.
 */
function filledSeries(c: FillContext, s: StepSeries, otherPresent: Uint8Array, fill: number, sideOf: "many" | "one"): StepSeries {
  const standIn = matchLabels(s.labels, c.m);
  const labels = sideOf === "many" ? resultLabels(s.labels, standIn, c.op, c.m) : resultLabels(standIn, s.labels, c.op, c.m);
  const res = newSeries(labels, c.n, c.returnBool);
  for (let i = 0; i < c.n; i++) {
    if (!s.present[i] || otherPresent[i]) continue;
    // Values in the swapped frame: `l` is the many side's, `r` the one side's.
    const l = sideOf === "many" ? s.values[i]! : fill;
    const r = sideOf === "many" ? fill : s.values[i]!;
    const a = c.swapped ? r : l;
    const b = c.swapped ? l : r;
    if (c.isCmp) {
      const keep = compare(c.op, a, b);
      if (c.returnBool) res.values[i] = keep ? 1 : 0;
      else if (!keep) {
        res.present[i] = 2;
        continue;
      } else res.values[i] = a;
    } else res.values[i] = arith(c.op, a, b);
    res.present[i] = 1;
  }
  return res;
}

function anyPresent(series: StepSeries[], n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (const s of series) for (let i = 0; i < n; i++) if (s.present[i]) p[i] = 1;
  return p;
}
