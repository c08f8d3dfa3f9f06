/**
 * Prometheus durations (`1h30m`, `15s`, `1d`, `1w`, `1y`, `100ms`): units in decreasing order,
 * each at most once, integers only; a bare `0` is zero. Values are milliseconds.
 */
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1] as const;

/** Milliseconds, or null when the text is not a Prometheus duration. */
export function parseDuration(text: string): number | null {
  if (text === "0") return 0;
  if (text === "") return null;
  const m = DURATION_RE.exec(text);
  if (!m) return null;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNIT_MS[i]!;
  }
  return Number.isSafeInteger(ms) ? ms : null;
}

/**
 * Formats like Prometheus's model.Duration: years and weeks only when they divide exactly,
 * then days, hours, minutes, seconds, milliseconds; zero is "0s".
 */
export function formatDuration(ms: number): string {
  let rest = Math.trunc(ms);
  if (rest === 0) return "0s";
  let out = "";
  const units: [string, number, boolean][] = [
    ["y", UNIT_MS[0], true],
    ["w", UNIT_MS[1], true],
    ["d", UNIT_MS[2], false],
    ["h", UNIT_MS[3], false],
    ["m", UNIT_MS[4], false],
    ["s", UNIT_MS[5], false],
    ["ms", 1, false],
  ];
  for (const [unit, mult, exact] of units) {
    if (exact && rest % mult !== 0) continue;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${unit}`;
      rest -= v * mult;
    }
  }
  return out;
}

/**
 * Byte sizes as Prometheus's body_size_limit accepts them (alecthomas/units base-2): `0`,
 * `512`, `10MB`, `1GiB`, `1GB512MB`. KB/KiB alike mean 1024.
 */
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  KIB: 1024,
  MB: 1024 ** 2,
  MIB: 1024 ** 2,
  GB: 1024 ** 3,
  GIB: 1024 ** 3,
  TB: 1024 ** 4,
  TIB: 1024 ** 4,
  PB: 1024 ** 5,
  PIB: 1024 ** 5,
  EB: 1024 ** 6,
  EIB: 1024 ** 6,
};

export function parseByteSize(text: string): number | null {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  if (s === "") return null;
  const re = /(\d+(?:\.\d+)?)([a-zA-Z]+)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return null;
    const mult = SIZE_UNITS[m[2]!] ?? SIZE_UNITS[m[2]!.toUpperCase()];
    if (mult === undefined || !/^(?:[KMGTPE]i?B|B)$/i.test(m[2]!)) return null;
    total += Number(m[1]) * mult;
    pos = re.lastIndex;
  }
  return Math.floor(total);
}
