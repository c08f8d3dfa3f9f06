/**
 * Number formatting exactly as Prometheus's JSON API writes it: sample values as strings in Go's
 * shortest round-trip form ('f' notation, 'e' below 1e-6 and from 1e21 on, two-digit exponents,
 * `+Inf`, `-Inf`, `NaN`), timestamps as seconds with the milliseconds after the point.
 */

/** Go's strconv.FormatFloat(v, 'e', -1, 64): JavaScript's shortest digits, exponent padded to two. */
function goExponential(v: number): string {
  const s = v.toExponential();
  const e = s.indexOf("e");
  const sign = s[e + 1]!;
  const digits = s.slice(e + 2);
  return s.slice(0, e + 1) + sign + (digits.length < 2 ? "0" + digits : digits);
}

export function formatFloat(v: number): string {
  if (v !== v) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const abs = v < 0 ? -v : v;
  // JavaScript switches to exponent notation at the same bounds Prometheus picks 'e' at.
  if (abs < 1e-6 || abs >= 1e21) return goExponential(v);
  return String(v);
}

/** Milliseconds → `1435781451.781` (Prometheus writes the three fraction digits as is). */
export function formatTimestamp(ms: number): string {
  let t = Math.round(ms);
  let sign = "";
  if (t < 0) {
    sign = "-";
    t = -t;
  }
  const sec = Math.floor(t / 1000);
  const frac = t - sec * 1000;
  if (frac === 0) return sign + sec;
  return `${sign}${sec}.${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}`;
}
