/** Durations and timestamps the way Prometheus writes them ("1h30m", "2024-01-02 15:04:05" UTC). */

const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
  y: 31536000,
};

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Parses a Prometheus duration ("5m", "1h30m") into seconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === "") return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = DURATION_RE.exec(s);
  if (!m) return null;
  const units = ["y", "w", "d", "h", "m", "s", "ms"];
  let total = 0;
  for (let i = 0; i < units.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) total += Number(part) * UNIT_SECONDS[units[i]!]!;
  }
  return total > 0 ? total : null;
}

/** Formats seconds as the shortest Prometheus duration ("90" → "1m30s"). */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return "0s";
  let ms = Math.round(seconds * 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ["y", 31536000000],
    ["w", 604800000],
    ["d", 86400000],
    ["h", 3600000],
    ["m", 60000],
    ["s", 1000],
    ["ms", 1],
  ] as const) {
    if (ms >= size) {
      parts.push(`${Math.floor(ms / size)}${unit}`);
      ms %= size;
    }
  }
  return parts.join("");
}

/** The steps the range "−" / "+" buttons walk through, like Prometheus's graph page. */
export const RANGE_STEPS = [
  1, 10, 60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800, 1209600, 2419200, 4838400, 31536000,
];

export function nextRange(seconds: number, direction: 1 | -1): number {
  if (direction > 0) return RANGE_STEPS.find((s) => s > seconds) ?? seconds;
  for (let i = RANGE_STEPS.length - 1; i >= 0; i--) if (RANGE_STEPS[i]! < seconds) return RANGE_STEPS[i]!;
  return seconds;
}

/** Prometheus's default graph resolution: about 250 points across the range, at least 1s. */
export function defaultStep(rangeSeconds: number): number {
  return Math.max(Math.floor(rangeSeconds / 250), 1);
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** "2024-01-02 15:04:05" in UTC, the format of Prometheus's end_input/moment_input URL parameters. */
export function formatUtc(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Parses "2024-01-02 15:04:05" (UTC), an ISO date, or unix seconds; null when it is none of them. */
export function parseTime(text: string): number | null {
  const s = text.trim();
  if (s === "") return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (m) return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, m[6] ? +m[6] : 0);
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** "3.2s ago" / "in 2m" style age for timestamps shown in tables. */
export function formatAge(ms: number, now = Date.now()): string {
  const diff = (now - ms) / 1000;
  if (!Number.isFinite(diff)) return "never";
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 1) text = `${Math.round(abs * 1000)}ms`;
  else if (abs < 60) text = `${abs.toFixed(abs < 10 ? 1 : 0)}s`;
  else text = formatDuration(Math.round(abs));
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** Seconds as a human duration with sensible precision ("12.3ms", "1.204s"). */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "–";
  if (seconds < 0.001) return `${(seconds * 1e6).toFixed(0)}µs`;
  if (seconds < 1) return `${(seconds * 1000).toFixed(1)}ms`;
  if (seconds < 60) return `${seconds.toFixed(3)}s`;
  return formatDuration(Math.round(seconds));
}
