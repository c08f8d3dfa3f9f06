/**
 * Go's time.Time (in UTC) and time.Duration as templates see them after `toTime`, `toDuration`
 * and `now`: their String forms, Format with Go's reference-time layouts, and the methods
 * templates call on them (`(now | toTime).Format "2006"`, `.Add`, `.UnixMilli`, `.Seconds` …).
 */
import { formatFloat } from "./go_float.ts";
import { GoDuration, GoTime, T_DURATION, T_STRING, T_TIME, type GoFunc, type GoValue } from "./values.ts";
import { FuncError } from "./func_error.ts";

const NS_PER_MS = 1_000_000n;

interface Civil {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanosecond: number;
  weekday: number; // 0 = Sunday
  yearDay: number; // 1..366
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function civil(ns: bigint): Civil {
  const ms = floorDiv(ns, NS_PER_MS);
  const d = new Date(Number(ms));
  const startOfYear = Date.UTC(d.getUTCFullYear(), 0, 1);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    nanosecond: Number(ns - floorDiv(ns, 1_000_000_000n) * 1_000_000_000n),
    weekday: d.getUTCDay(),
    yearDay: Math.floor((Number(ms) - startOfYear) / 86_400_000) + 1,
  };
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function pad(n: number, width: number, fill = "0"): string {
  const s = String(n);
  return s.length >= width ? s : fill.repeat(width - s.length) + s;
}

/** Layout chunks in the order Go's nextStdChunk recognises them. */
const CHUNKS: readonly string[] = [
  "January", "Jan", "Monday", "Mon", "MST",
  "2006", "2", "_2006", "__2", "_2",
  "002", "01", "02", "03", "04", "05", "06",
  "15", "1", "3", "4", "5", "PM", "pm",
  "-07:00:00", "-070000", "-07:00", "-0700", "-07",
  "Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07",
];

function formatChunk(chunk: string, c: Civil): string | null {
  switch (chunk) {
    case "January": return MONTHS[c.month - 1]!;
    case "Jan": return MONTHS[c.month - 1]!.slice(0, 3);
    case "Monday": return DAYS[c.weekday]!;
    case "Mon": return DAYS[c.weekday]!.slice(0, 3);
    case "MST": return "UTC";
    case "2006": return pad(c.year, 4);
    case "06": return pad(c.year % 100, 2);
    case "01": return pad(c.month, 2);
    case "1": return String(c.month);
    case "02": return pad(c.day, 2);
    case "_2": return pad(c.day, 2, " ");
    case "2": return String(c.day);
    case "002": return pad(c.yearDay, 3);
    case "__2": return pad(c.yearDay, 3, " ");
    case "15": return pad(c.hour, 2);
    case "03": return pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2);
    case "3": return String(c.hour % 12 === 0 ? 12 : c.hour % 12);
    case "04": return pad(c.minute, 2);
    case "4": return String(c.minute);
    case "05": return pad(c.second, 2);
    case "5": return String(c.second);
    case "PM": return c.hour >= 12 ? "PM" : "AM";
    case "pm": return c.hour >= 12 ? "pm" : "am";
    case "-07:00:00": return "+00:00:00";
    case "-070000": return "+000000";
    case "-07:00": return "+00:00";
    case "-0700": return "+0000";
    case "-07": return "+00";
    case "Z07:00:00": case "Z070000": case "Z07:00": case "Z0700": case "Z07": return "Z";
  }
  return null;
}

/** Go's Time.Format for a UTC time. */
export function formatTime(ns: bigint, layout: string): string {
  const c = civil(ns);
  let out = "";
  let i = 0;
  while (i < layout.length) {
    const ch = layout[i]!;
    // Fractional seconds: .000 / ,000 (fixed) or .999 (trailing zeros trimmed), not followed by a digit.
    if ((ch === "." || ch === ",") && (layout[i + 1] === "0" || layout[i + 1] === "9")) {
      const digit = layout[i + 1]!;
      let j = i + 1;
      while (j < layout.length && layout[j] === digit) j++;
      if (!(j < layout.length && layout[j]! >= "0" && layout[j]! <= "9")) {
        const n = j - i - 1;
        let frac = pad(c.nanosecond, 9).slice(0, Math.min(n, 9));
        if (digit === "9") {
          frac = frac.replace(/0+$/, "");
          if (frac !== "") out += ch + frac;
        } else out += ch + frac;
        i = j;
        continue;
      }
    }
    let matched = false;
    for (const chunk of CHUNKS) {
      if (!layout.startsWith(chunk, i)) continue;
      // "Mon" must not be the start of a longer lower-case word (Go: "Month" is not a weekday).
      if ((chunk === "Jan" || chunk === "Mon") && /[a-z]/.test(layout[i + 3] ?? "") && !layout.startsWith(chunk === "Jan" ? "January" : "Monday", i)) continue;
      if (chunk === "_2006") {
        out += "_" + pad(c.year, 4);
      } else {
        out += formatChunk(chunk, c)!;
      }
      i += chunk.length;
      matched = true;
      break;
    }
    if (!matched) {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Go's Time.String for a UTC time: 2015-06-23 13:19:44.128 +0000 UTC. */
export function timeString(ns: bigint): string {
  return formatTime(ns, "2006-01-02 15:04:05.999999999 -0700 MST");
}

/** Go's Duration.String: 1h2m0.01s, 30m0s, 1.5ms, 100µs, 0s. */
export function durationString(ns: bigint): string {
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    let unit: string;
    let scale: bigint;
    if (u < 1000n) return `${neg ? "-" : ""}${u}ns`;
    if (u < 1_000_000n) {
      unit = "µs";
      scale = 1000n;
    } else {
      unit = "ms";
      scale = 1_000_000n;
    }
    out = fraction(u, scale) + unit;
  } else {
    const secs = fraction(u % 60_000_000_000n, 1_000_000_000n) + "s";
    u /= 60_000_000_000n;
    if (u === 0n) out = secs;
    else {
      const minutes = u % 60n;
      const hours = u / 60n;
      out = hours > 0n ? `${hours}h${minutes}m${secs}` : `${minutes}m${secs}`;
    }
  }
  return (neg ? "-" : "") + out;
}

/** v / scale with the fraction's trailing zeros removed. */
function fraction(v: bigint, scale: bigint): string {
  const whole = v / scale;
  const rest = v % scale;
  if (rest === 0n) return String(whole);
  const width = String(scale).length - 1;
  return `${whole}.${String(rest).padStart(width, "0").replace(/0+$/, "")}`;
}

function method(params: GoFunc["params"], call: (args: GoValue[]) => GoValue): GoFunc {
  return { params, call };
}

/** The methods of time.Time (and *time.Time) a template may call. */
export function timeMethod(recv: GoTime, name: string): GoFunc | null {
  const ns = recv.ns;
  const c = () => civil(ns);
  switch (name) {
    case "Format": return method([T_STRING], ([layout]) => formatTime(ns, layout as string));
    case "String": return method([], () => timeString(ns));
    case "Add": return method([T_DURATION], ([d]) => new GoTime(ns + (d as GoDuration).ns, false));
    case "Sub": return method([T_TIME], ([t]) => new GoDuration(ns - (t as GoTime).ns, false));
    case "Unix": return method([], () => floorDiv(ns, 1_000_000_000n));
    case "UnixMilli": return method([], () => floorDiv(ns, 1_000_000n));
    case "UnixMicro": return method([], () => floorDiv(ns, 1000n));
    case "UnixNano": return method([], () => ns);
    case "UTC": case "Local": return method([], () => new GoTime(ns, false));
    case "Year": return method([], () => BigInt(c().year));
    case "Month": return method([], () => MONTHS[c().month - 1]!);
    case "Day": return method([], () => BigInt(c().day));
    case "Hour": return method([], () => BigInt(c().hour));
    case "Minute": return method([], () => BigInt(c().minute));
    case "Second": return method([], () => BigInt(c().second));
    case "Nanosecond": return method([], () => BigInt(c().nanosecond));
    case "YearDay": return method([], () => BigInt(c().yearDay));
    case "Weekday": return method([], () => DAYS[c().weekday]!);
    case "Before": return method([T_TIME], ([t]) => ns < (t as GoTime).ns);
    case "After": return method([T_TIME], ([t]) => ns > (t as GoTime).ns);
    case "Equal": return method([T_TIME], ([t]) => ns === (t as GoTime).ns);
    case "IsZero": return method([], () => ns === -62135596800000000000n);
  }
  return null;
}

/** The methods of time.Duration (and *time.Duration) a template may call. */
export function durationMethod(recv: GoDuration, name: string): GoFunc | null {
  const ns = recv.ns;
  switch (name) {
    case "String": return method([], () => durationString(ns));
    case "Hours": return method([], () => Number(ns) / 3.6e12);
    case "Minutes": return method([], () => Number(ns) / 6e10);
    case "Seconds": return method([], () => Number(ns) / 1e9);
    case "Milliseconds": return method([], () => ns / 1_000_000n);
    case "Microseconds": return method([], () => ns / 1000n);
    case "Nanoseconds": return method([], () => ns);
    case "Abs": return method([], () => new GoDuration(ns < 0n ? -ns : ns, false));
    case "Truncate": return method([T_DURATION], ([m]) => {
      const unit = (m as GoDuration).ns;
      return new GoDuration(unit <= 0n ? ns : ns - (ns % unit), false);
    });
  }
  return null;
}

/** Go's time.Duration(seconds * 1e9): float to int64 conversion truncates toward zero. */
export function durationFromSeconds(seconds: number): GoDuration {
  const ns = seconds * 1e9;
  if (!Number.isFinite(ns) || Math.abs(ns) >= 9.223372036854776e18) {
    // Go's conversion of an out-of-range float is implementation-defined; amd64 yields MinInt64.
    return new GoDuration(-9223372036854775808n, true);
  }
  return new GoDuration(BigInt(Math.trunc(ns)), true);
}

/**
 * Prometheus's floatToTime: seconds to a UTC time at millisecond precision (model.Time), refusing
 * NaN, ±Inf and what overflows int64 nanoseconds.
 */
export function timeFromSeconds(v: number): GoTime {
  if (Number.isNaN(v) || !Number.isFinite(v)) throw new FuncError("value is NaN or Inf");
  const ns = v * 1e9;
  if (ns > 9223372036854775807 || ns < -9223372036854775808) {
    throw new FuncError(`${formatFloat(v, "g", -1)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  }
  // model.TimeFromUnixNano truncates to whole milliseconds (toward zero).
  const ms = BigInt(Math.trunc(ns)) / NS_PER_MS;
  return new GoTime(ms * NS_PER_MS, true);
}
