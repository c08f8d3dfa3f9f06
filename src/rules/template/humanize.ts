/**
 * Prometheus's number formatting functions (humanize, humanize1024, humanizeDuration,
 * humanizePercentage, humanizeTimestamp, toTime, toDuration) and the conversion they share:
 * a float64, an int, a time.Duration or a string that strconv.ParseFloat reads.
 */
import { FuncError } from "./func_error.ts";
import { formatFloat, parseGoFloat } from "./go_float.ts";
import { durationFromSeconds, timeFromSeconds, timeString } from "./go_time.ts";
import { GoDuration, typeName, type GoValue } from "./values.ts";

/** Prometheus's ConvertToFloat. */
export function convertToFloat(v: GoValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    try {
      return parseGoFloat(v);
    } catch (e) {
      throw new FuncError((e as Error).message);
    }
  }
  if (typeof v === "bigint") return Number(v);
  if (v instanceof GoDuration && !v.pointer) return Number(v.ns) / 1e9;
  throw new FuncError(`can't convert ${typeName(v)} to float`);
}

/** Go's %.4g. */
function g4(v: number): string {
  return formatFloat(v, "g", 4);
}

export function humanize(i: GoValue): string {
  let v = convertToFloat(i);
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  let prefix = "";
  if (Math.abs(v) >= 1) {
    for (const p of ["k", "M", "G", "T", "P", "E", "Z", "Y"]) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  for (const p of ["m", "u", "n", "p", "f", "a", "z", "y"]) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

export function humanize1024(i: GoValue): string {
  let v = convertToFloat(i);
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = "";
  for (const p of ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

export function humanizeDuration(i: GoValue): string {
  let v = convertToFloat(i);
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + "s";
  if (Math.abs(v) >= 1) {
    let sign = "";
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    // int64(v): whole seconds, truncated.
    const duration = Math.trunc(v);
    const seconds = duration % 60;
    const minutes = Math.trunc(duration / 60) % 60;
    const hours = Math.trunc(duration / 3600) % 24;
    const days = Math.trunc(duration / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = "";
  for (const p of ["m", "u", "n", "p", "f", "a", "z", "y"]) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

export function humanizePercentage(i: GoValue): string {
  return g4(convertToFloat(i) * 100) + "%";
}

export function humanizeTimestamp(i: GoValue): string {
  const v = convertToFloat(i);
  if (!Number.isFinite(v)) return g4(v);
  return timeString(timeFromSeconds(v).ns);
}

export function toTime(i: GoValue): GoValue {
  return timeFromSeconds(convertToFloat(i));
}

export function toDuration(i: GoValue): GoValue {
  return durationFromSeconds(convertToFloat(i));
}
