/** Turning a range query's matrix into the aligned columns a chart draws. */
import type { RangeSeries } from "../api.ts";
import { parseSampleValue } from "../format.ts";

export interface GraphInput {
  series: RangeSeries[];
  /** Seconds, inclusive, aligned to the query's step. */
  start: number;
  end: number;
  step: number;
  stacked: boolean;
}

/** Aligned columns for uPlot: one x column (seconds) and one y column per series. */
export interface AlignedData {
  xs: Float64Array;
  columns: (number | null)[][];
}

export function alignSeries(input: GraphInput): AlignedData {
  const { start, end, step } = input;
  const count = Math.max(0, Math.floor((end - start) / step + 1e-9) + 1);
  const xs = new Float64Array(count);
  for (let i = 0; i < count; i++) xs[i] = start + i * step;
  const columns = input.series.map((s) => {
    const col: (number | null)[] = new Array(count).fill(null);
    for (const [t, v] of s.values ?? []) {
      const i = Math.round((t - start) / step);
      if (i < 0 || i >= count) continue;
      const n = parseSampleValue(v);
      col[i] = Number.isFinite(n) ? n : null;
    }
    return col;
  });
  return { xs, columns };
}

