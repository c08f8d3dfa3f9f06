/** label_replace and label_join, with Prometheus's validation errors and RE2 template expansion. */
import { boundedQuote, compileRegex, expandTemplate, getLabel, labelsWith as setLabel, METRIC_NAME, RegexError, type AnchoredRegex } from "../../model/index.ts";
import type { Call, Expr } from "../ast.ts";
import { mergeSameLabels, type Evaluator, type Steps } from "./evaluator.ts";
import { EvalError, type Value } from "./types.ts";

export function stringArg(e: Expr): string {
  let a = e;
  while (a.type === "StepInvariantExpr" || a.type === "ParenExpr") a = a.expr;
  if (a.type !== "StringLiteral") throw new EvalError("expected string literal argument");
  return a.value;
}

function isValidLabelName(name: string): boolean {
  return name.length > 0 && name.isWellFormed();
}

export async function labelReplace(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const dst = stringArg(e.args[1]!);
  const repl = stringArg(e.args[2]!);
  const src = stringArg(e.args[3]!);
  const regexStr = stringArg(e.args[4]!);
  let re: AnchoredRegex;
  try {
    re = compileRegex(regexStr);
  } catch (e) {
    if (e instanceof RegexError) throw new EvalError(`invalid regular expression in label_replace(): ${boundedQuote(regexStr)}`);
    throw e;
  }
  if (!isValidLabelName(dst)) throw new EvalError(`invalid destination label name in label_replace(): ${dst}`);
  const v = await ev.evalVector(e.args[0]!, st);
  const out = v.series.map((s) => {
    const m = re.exec(getLabel(s.labels, src));
    if (!m) return s;
    const res = expandTemplate(repl, m);
    return { ...s, labels: setLabel(s.labels, dst, res), dropName: dst === METRIC_NAME ? false : s.dropName };
  });
  return { kind: "vector", series: mergeSameLabels(out, st.n) };
}

export async function labelJoin(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const dst = stringArg(e.args[1]!);
  const sep = stringArg(e.args[2]!);
  const srcs = e.args.slice(3).map(stringArg);
  if (!isValidLabelName(dst)) throw new EvalError(`invalid destination label name in label_join(): ${dst}`);
  for (const s of srcs) if (!isValidLabelName(s)) throw new EvalError(`invalid source label name in label_join(): ${s}`);
  const v = await ev.evalVector(e.args[0]!, st);
  const out = v.series.map((s) => {
    const val = srcs.map((n) => getLabel(s.labels, n)).join(sep);
    return { ...s, labels: setLabel(s.labels, dst, val), dropName: dst === METRIC_NAME ? false : s.dropName };
  });
  return { kind: "vector", series: mergeSameLabels(out, st.n) };
}

