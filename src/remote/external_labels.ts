/**
 * External labels on forwarded series, as Prometheus's processExternalLabels adds them: each
 * external label the series does not carry itself is added (a series' own label wins), before
 * write_relabel_configs run.
 */
import type { Label, Labels } from "../model/index.ts";

/** `labels` plus the external labels it lacks, sorted by name; both inputs sorted. */
export function withExternalLabels(labels: Labels, external: Labels): Labels {
  if (external.length === 0) return labels;
  const out: Label[] = [];
  let j = 0;
  for (const l of labels) {
    while (j < external.length && external[j]!.name < l.name) out.push(external[j++]!);
    if (j < external.length && external[j]!.name === l.name) j++;
    out.push(l);
  }
  while (j < external.length) out.push(external[j++]!);
  return out;
}
