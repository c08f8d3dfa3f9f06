/** Text forms of series and sample values shared by the table, the graph and the legend. */
import type { Metric } from "./api.ts";

/** `name{a="1", b="2"}` as Prometheus prints a series. */
export function formatSeries(metric: Metric): string {
  const name = metric.__name__ ?? "";
  const labels = Object.keys(metric)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  if (labels.length === 0) return name === "" ? "{}" : name;
  return `${name}{${labels.join(", ")}}`;
}

/** Parses a sample value as the API sends it ("1.5", "NaN", "+Inf"). */
export function parseSampleValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

const SI_PREFIXES: [number, string][] = [
  [1e24, "Y"],
  [1e21, "Z"],
  [1e18, "E"],
  [1e15, "P"],
  [1e12, "T"],
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
];
const SMALL_PREFIXES: [number, string][] = [
  [1e-3, "m"],
  [1e-6, "µ"],
  [1e-9, "n"],
  [1e-12, "p"],
];

/** A compact axis label: SI prefixes for large and small magnitudes. */
export function formatAxisValue(v: number): string {
  if (v === 0) return "0";
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  for (const [size, prefix] of SI_PREFIXES) if (abs >= size) return trim(v / size) + prefix;
  if (abs >= 1) return trim(v);
  for (const [size, prefix] of SMALL_PREFIXES) if (abs >= size) return trim(v / size) + prefix;
  return v.toExponential(2);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(4)));
}
