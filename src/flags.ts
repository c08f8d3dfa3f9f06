/**
 * Command-line flags of `shoal` (the node), with Prometheus's names, defaults and syntax:
 * `--flag=value` and `--flag value`, booleans as `--flag` / `--no-flag`. The table is the single
 * source of truth for parsing, `--help` and `/api/v1/status/flags`. Other rooms add their flags
 * by appending rows to FLAG_SPECS (keep the rows sorted by name within a group).
 */

export type FlagKind = "string" | "duration" | "size" | "int" | "bool" | "list";

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** Textual default as --help and /api/v1/status/flags show it ("" means none). */
  readonly def: string;
  readonly help: string;
}

export const FLAG_SPECS: FlagSpec[] = [
  { name: "config.file", kind: "string", def: "", help: "Configuration file path. Without it, an embedded default config scrapes the node itself." },
  { name: "web.listen-address", kind: "string", def: "0.0.0.0:9090", help: "Address to listen on for UI, API, and telemetry." },
  { name: "web.enable-remote-write-receiver", kind: "bool", def: "true", help: "Accepted for compatibility with Prometheus. The remote write receiver at /api/v1/write is always on in Shoal." },
  { name: "web.remote-write-decode-workers", kind: "int", def: "1", help: "Worker threads that decode remote-write request bodies (snappy, protobuf) off the request thread. 0 decodes on the request thread." },
  { name: "web.config.file", kind: "string", def: "", help: "[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication (Prometheus's web configuration file: tls_server_config, http_server_config, rate_limit, basic_auth_users). Re-read when it or its certificate files change." },
  { name: "web.client-config.file", kind: "string", def: "", help: "HTTP client configuration file (the format of promtool's --http.config.file: basic_auth, authorization, tls_config) used when this node calls its peers' HTTP API and when the built-in config scrapes the node itself. Needed when --web.config.file turns on basic auth or client certificates." },
  { name: "web.enable-admin-api", kind: "bool", def: "false", help: "Enable API endpoints for admin control actions (delete_series, clean_tombstones)." },
  { name: "web.enable-lifecycle", kind: "bool", def: "false", help: "Enable shutdown and reload via HTTP request: POST|PUT /-/quit, POST|PUT /-/reload and POST /api/v1/cluster/leave (cross-site browser requests are refused). SIGTERM and SIGHUP work without it." },
  { name: "web.external-url", kind: "string", def: "", help: "The URL under which Shoal is externally reachable (for example, behind a reverse proxy). If it has a path, that path prefixes every HTTP endpoint unless --web.route-prefix is given. Default: http://<hostname>:<port>/ from --web.listen-address." },
  { name: "web.route-prefix", kind: "string", def: "", help: "Prefix for the internal routes of web endpoints (UI, API, /metrics, /-/healthy, ...); / redirects to it. Defaults to the path of --web.external-url." },
  { name: "web.page-title", kind: "string", def: "Shoal", help: "Document title of the web UI's pages." },
  { name: "web.cors.origin", kind: "string", def: ".*", help: "Regex for CORS origin. It is fully anchored. Example: 'https?://(domain1|domain2)\\.com'" },
  { name: "web.read-timeout", kind: "duration", def: "5m", help: "Maximum duration a connection may stay idle (no request being read or answered) before it is closed. Bun caps it at 255s." },
  { name: "web.max-connections", kind: "int", def: "512", help: "Accepted for compatibility with Prometheus; Shoal's HTTP server (Bun) has no connection limit, so a value is logged as having no effect." },
  { name: "web.console.templates", kind: "string", def: "consoles", help: "Accepted for compatibility with Prometheus; Shoal has no console templates (a value is logged as having no effect)." },
  { name: "web.console.libraries", kind: "string", def: "console_libraries", help: "Accepted for compatibility with Prometheus; Shoal has no console templates (a value is logged as having no effect)." },
  { name: "enable-feature", kind: "list", def: "", help: "Comma separated Prometheus feature names to enable (repeatable). Names whose behaviour Shoal has always on, or does not have, are logged as having no effect; unknown names are warned about." },
  { name: "storage.tsdb.path", kind: "string", def: "./data", help: "Base path for metrics storage." },
  { name: "storage.tsdb.retention.time", kind: "duration", def: "15d", help: "How long to retain samples in storage." },
  { name: "storage.tsdb.retention.size", kind: "size", def: "0B", help: "Maximum number of bytes that can be stored for blocks (units: B, KB, MB, GB, TB, PB, EB; base 1024). 0 disables it." },
  { name: "storage.tsdb.min-block-duration", kind: "duration", def: "2h", help: "Minimum duration of a data block before being persisted: the range of the blocks cut from the head." },
  { name: "storage.tsdb.max-block-duration", kind: "duration", def: "", help: "Maximum duration compacted blocks may span. Default: 10% of the retention time, at most 31d." },
  { name: "storage.tsdb.wal-compression", kind: "bool", def: "false", help: "Accepted for compatibility with Prometheus; Shoal's WAL records are not compressed, so turning it on is logged as having no effect." },
  { name: "storage.tsdb.no-lockfile", kind: "bool", def: "false", help: "Accepted for compatibility with Prometheus; Shoal always locks its data directory (two writers would corrupt it), so turning it on is logged as having no effect." },
  { name: "query.lookback-delta", kind: "duration", def: "5m", help: "The maximum lookback duration for retrieving metrics during expression evaluations and federation." },
  { name: "query.timeout", kind: "duration", def: "2m", help: "Maximum time a query may take before being aborted." },
  { name: "query.max-samples", kind: "int", def: "50000000", help: "Maximum number of samples a single query can load into memory." },
  { name: "query.max-concurrency", kind: "int", def: "20", help: "Maximum number of queries executed concurrently." },
  { name: "log.level", kind: "string", def: "info", help: "Only log messages with the given severity or above. One of: [debug, info, warn, error]" },
  { name: "log.format", kind: "string", def: "logfmt", help: "Output format of log messages. One of: [logfmt, json]" },
];

export class FlagError extends Error {}

/** Parsed flags: raw text by name (for /status/flags) plus typed accessors. */
export class Flags {
  constructor(
    /** Every known flag with its effective textual value (default when not given). */
    readonly values: ReadonlyMap<string, string>,
    /** Names given explicitly on the command line. */
    readonly given: ReadonlySet<string>,
    readonly help: boolean,
    readonly version: boolean,
  ) {}

  string(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new FlagError(`unknown flag --${name}`);
    return v;
  }

  bool(name: string): boolean {
    return this.string(name) === "true";
  }

  durationMs(name: string): number {
    return parseDurationMs(this.string(name));
  }

  bytes(name: string): number {
    return parseSizeBytes(this.string(name));
  }

  int(name: string): number {
    return Number.parseInt(this.string(name), 10);
  }

  /** A list flag's items: every occurrence, each split at commas, blanks dropped. */
  list(name: string): string[] {
    return this.string(name)
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  /** Flags as Prometheus's /api/v1/status/flags shows them: every flag, textual values. */
  toRecord(): Record<string, string> {
    return Object.fromEntries([...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_MS = [365 * 86400e3, 7 * 86400e3, 86400e3, 3600e3, 60e3, 1e3, 1];

/** Prometheus's duration syntax (`1y2w3d4h5m6s7ms`, or `0`), in milliseconds. */
export function parseDurationMs(text: string): number {
  if (text === "0") return 0;
  const m = text === "" ? null : DURATION_RE.exec(text);
  if (!m) throw new FlagError(`not a valid duration string: ${JSON.stringify(text)}`);
  let ms = 0;
  for (let i = 0; i < DURATION_UNITS_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * DURATION_UNITS_MS[i]!;
  }
  return ms;
}

const SIZE_UNITS: Record<string, number> = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40, PB: 2 ** 50, EB: 2 ** 60 };

/** Prometheus's base-2 byte sizes (`512MB`, `1GB`, `0`), in bytes. */
export function parseSizeBytes(text: string): number {
  if (text === "0") return 0;
  const m = /^(\d+)(B|KB|MB|GB|TB|PB|EB)$/i.exec(text);
  if (!m) throw new FlagError(`not a valid size: ${JSON.stringify(text)} (use e.g. 512MB, 10GB)`);
  return Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!;
}

function validate(spec: FlagSpec, value: string): void {
  const what = `invalid value ${JSON.stringify(value)} for flag --${spec.name}`;
  try {
    switch (spec.kind) {
      case "duration":
        parseDurationMs(value);
        break;
      case "size":
        parseSizeBytes(value);
        break;
      case "int":
        if (!/^-?\d+$/.test(value)) throw new FlagError("not an integer");
        break;
      case "bool":
        if (value !== "true" && value !== "false") throw new FlagError("expected true or false");
        break;
      default:
        break;
    }
  } catch (e) {
    throw new FlagError(`${what}: ${(e as Error).message}`);
  }
  if (spec.name === "log.level" && !["debug", "info", "warn", "error"].includes(value)) {
    throw new FlagError(`${what}: expected one of debug, info, warn, error`);
  }
  if (spec.name === "log.format" && !["logfmt", "json"].includes(value)) {
    throw new FlagError(`${what}: expected one of logfmt, json`);
  }
}

/** Parses argv; throws FlagError naming the offending flag. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[] = FLAG_SPECS): Flags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string>(specs.map((s) => [s.name, s.def]));
  const lists = new Map<string, string[]>();
  const given = new Set<string>();
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--version") {
      version = true;
      continue;
    }
    if (!arg.startsWith("--")) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = byName.get(name);
    if (!spec && name.startsWith("no-") && value === undefined) {
      const neg = byName.get(name.slice(3));
      if (neg && neg.kind === "bool") {
        spec = neg;
        name = neg.name;
        value = "false";
      }
    }
    if (!spec) throw new FlagError(`unknown flag --${name}`);
    if (value === undefined) {
      if (spec.kind === "bool") value = "true";
      else {
        const next = argv[i + 1];
        if (next === undefined) throw new FlagError(`expected a value for flag --${name}`);
        value = next;
        i++;
      }
    }
    validate(spec, value);
    given.add(name);
    if (spec.kind === "list") {
      const l = lists.get(name) ?? [];
      l.push(value);
      lists.set(name, l);
      values.set(name, l.join(","));
    } else {
      values.set(name, value);
    }
  }
  return new Flags(values, given, help, version);
}

/** The --help text: usage, then one entry per flag with its default. */
export function formatHelp(specs: readonly FlagSpec[] = FLAG_SPECS): string {
  const lines = [
    "usage: shoal [<flags>]",
    "       shoal tsdb <import|dump|analyze> [<flags>]",
    "",
    "A Prometheus-compatible monitoring server that clusters itself.",
    "",
    "Flags:",
    "  -h, --help                 Show this help.",
    "      --version              Show the version.",
  ];
  for (const s of specs) {
    const value = s.kind === "bool" ? "" : `=${s.kind === "string" ? "<string>" : `<${s.kind}>`}`;
    const def = s.def !== "" && s.kind !== "bool" ? ` (default: ${s.def})` : "";
    lines.push(`      --${s.name}${value}`);
    lines.push(`          ${s.help}${def}`);
  }
  return lines.join("\n") + "\n";
}
