/** sort, sort_desc, sort_by_label, sort_by_label_desc: they order an instant query's result. */
import type { Labels } from "../../model/index.ts";
import type { Call } from "../ast.ts";
import { ann } from "./annotations.ts";
import type { Evaluator, Steps } from "./evaluator.ts";
import { getLabel } from "../../model/index.ts";
import { stringArg } from "./labelfns.ts";
import type { Value } from "./types.ts";

export async function evalSort(ev: Evaluator, e: Call, st: Steps): Promise<Value> {
  const v = await ev.evalVector(e.args[0]!, st);
  if (ev.opts.isRangeQuery) ev.warn(ann.sortIneffective(), e.pos);
  if (st.n !== 1) return v;
  const series = [...v.series];
  const name = e.func;
  if (name === "sort" || name === "sort_desc") {
    const desc = name === "sort_desc";
    series.sort((a, b) => {
      const x = a.values[0]!;
      const y = b.values[0]!;
      // NaN sorts last in both directions.
      if (x !== x) return y !== y ? 0 : 1;
      if (y !== y) return -1;
      return desc ? y - x : x - y;
    });
  } else {
    const desc = name === "sort_by_label_desc";
    const names = e.args.slice(1).map(stringArg);
    series.sort((a, b) => {
      for (const n of names) {
        const c = naturalCompare(getLabel(a.labels, n), getLabel(b.labels, n));
        if (c !== 0) return desc ? -c : c;
      }
      // Ties fall back to the full label set, as Prometheus does.
      const c = compareLabelSets(a.labels, b.labels);
      return desc ? -c : c;
    });
  }
  return { kind: "vector", series };
}

function compareLabelSets(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]!.name !== b[i]!.name) return a[i]!.name < b[i]!.name ? -1 : 1;
    if (a[i]!.value !== b[i]!.value) return a[i]!.value < b[i]!.value ? -1 : 1;
  }
  return a.length - b.length;
}

/** Natural sort order (digit runs compared numerically), as sort_by_label uses. */
function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a[i]!;
    const cb = b[j]!;
    const da = ca >= "0" && ca <= "9";
    const db = cb >= "0" && cb <= "9";
    if (da && db) {
      let ei = i;
      while (ei < a.length && a[ei]! >= "0" && a[ei]! <= "9") ei++;
      let ej = j;
      while (ej < b.length && b[ej]! >= "0" && b[ej]! <= "9") ej++;
      const na = a.slice(i, ei).replace(/^0+/, "");
      const nb = b.slice(j, ej).replace(/^0+/, "");
      if (na.length !== nb.length) return na.length - nb.length;
      if (na !== nb) return na < nb ? -1 : 1;
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca < cb ? -1 : 1;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}

