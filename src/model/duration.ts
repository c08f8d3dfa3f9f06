/**
 * Prometheus's duration syntax (model.ParseDuration / model.Duration.String): integers with the
 * units y, w, d, h, m, s, ms, each at most once and from the largest to the smallest (`1h30m`,
 * `2w`, `500ms`), or a bare `0`. A year is 365 days, a week 7 days. Values are milliseconds.
 *
 * Flags, config files, rule files, the PromQL lexer's duration tokens and the HTTP API's `step`
 * and `timeout` parameters all read durations with this one parser, so every door accepts the
 * same text and refuses the rest with the same words.
 */
import { goQuoteString } from "./go_quote.ts";

/** Units in the order they must appear, with their length in ms. */
const UNITS: ReadonlyMap<string, { order: number; ms: number }> = new Map([
  ["y", { order: 0, ms: 365 * 86_400_000 }],
  ["w", { order: 1, ms: 7 * 86_400_000 }],
  ["d", { order: 2, ms: 86_400_000 }],
  ["h", { order: 3, ms: 3_600_000 }],
  ["m", { order: 4, ms: 60_000 }],
  ["s", { order: 5, ms: 1000 }],
  ["ms", { order: 6, ms: 1 }],
]);

/** The longest duration Go's time.Duration holds (2^63-1 ns), in whole ms. */
export const MAX_DURATION_MS = 9_223_372_036_854;

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/** Milliseconds; throws an Error worded as Prometheus's when `text` is not a duration. */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  if (text === "") throw new Error("empty duration string");
  const invalid = () => new Error(`not a valid duration string: ${goQuoteString(text)}`);
  let i = 0;
  let lastOrder = -1;
  let total = 0;
  while (i < text.length) {
    let j = i;
    while (j < text.length && isDigit(text[j]!)) j++;
    if (j === i) throw invalid();
    const count = Number(text.slice(i, j));
    let k = j;
    while (k < text.length && !isDigit(text[k]!)) k++;
    if (k === j) throw invalid();
    const name = text.slice(j, k);
    const unit = UNITS.get(name);
    if (unit === undefined) throw new Error(`unknown unit ${goQuoteString(name)} in duration ${goQuoteString(text)}`);
    if (unit.order <= lastOrder) throw invalid();
    lastOrder = unit.order;
    total += count * unit.ms;
    if (total > MAX_DURATION_MS) throw new Error("duration out of range");
    i = k;
  }
  return total;
}

/** `ms` as Prometheus prints a duration: `0s`, `1h30m`, `90d`; y and w only when they divide it. */
export function formatDuration(ms: number): string {
  let rest = Math.trunc(ms);
  if (rest === 0) return "0s";
  let out = "";
  for (const [name, unit] of UNITS) {
    if ((name === "y" || name === "w") && rest % unit.ms !== 0) continue;
    const count = Math.floor(rest / unit.ms);
    if (count > 0) {
      out += `${count}${name}`;
      rest -= count * unit.ms;
    }
  }
  return out;
}
