/** Annotation and error texts, worded exactly as Prometheus words them. */
import { isLegacyLabelName, type Labels } from "../../model/index.ts";

const q = (s: string): string => JSON.stringify(s);

/** Go's %g (shortest digits; exponent form below 1e-4 and from 1e6) for numbers in annotations. */
export function fmtG(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const [mant, expStr] = v.toExponential().split("e") as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? "-" : "+";
    const digits = String(Math.abs(exp)).padStart(2, "0");
    return `${mant}e${sign}${digits}`;
  }
  return formatFloat(v);
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64)-like shortest representation with Prometheus's Inf/NaN spelling. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Object.is(v, -0)) return "-0";
  const s = String(v);
  if (!/e/.test(s)) return s;
  // Expand exponent notation as 'f' formatting does.
  const [mant, expStr] = s.split("e") as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = (neg ? mant.slice(1) : mant).replace(".", "");
  const pointPos = (neg ? mant.slice(1) : mant).indexOf(".");
  const intLen = (pointPos === -1 ? digits.length : pointPos) + exp;
  let out: string;
  if (intLen <= 0) out = "0." + "0".repeat(-intLen) + digits;
  else if (intLen >= digits.length) out = digits + "0".repeat(intLen - digits.length);
  else out = digits.slice(0, intLen) + "." + digits.slice(intLen);
  return (neg ? "-" : "") + out;
}

/** labels.Labels.String() of Prometheus 3: `{__name__="x", a="b"}`. */
function labelsString(ls: Labels): string {
  return "{" + ls.map((l) => `${isLegacyLabelName(l.name) ? l.name : q(l.name)}=${q(l.value)}`).join(", ") + "}";
}

export const ann = {
  possibleNonCounter: (name: string) =>
    `metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${q(name)}`,
  invalidQuantile: (v: number) => `quantile value should be between 0 and 1, got ${fmtG(v)}`,
  invalidRatio: (v: number, cap: number) => `ratio value should be between -1 and 1, got ${fmtG(v)}, capping to ${fmtG(cap)}`,
  badBucketLabel: (name: string, le: string) =>
    `bucket label "le" is missing or has a malformed value of ${q(le)} for metric name ${q(name)}`,
  forcedMonotonicity: (name: string) =>
    `input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name ${q(name)}`,
  sortIneffective: () => "sort is ineffective for range queries since results are always ordered by labels",
};

export const errs = {
  sameLabelset: "vector cannot contain metrics with the same labelset",
  manyToOneExplicit: "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
  groupingUnique: "multiple matches for labels: grouping labels must ensure unique matches",
  duplicateSeries: (group: Labels, side: string, a: Labels, b: Labels) =>
    `found duplicate series for the match group ${labelsString(group)} on the ${side} hand-side of the operation: [${labelsString(a)}, ${labelsString(b)}];many-to-many matching not allowed: matching labels must be unique on one side`,
};
