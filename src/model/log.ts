/**
 * The logger every room receives from node.ts. Lines are logfmt (Prometheus's default) or JSON,
 * written to stderr, each with a time, a level, a message and key/value fields.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "logfmt" | "json";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line (e.g. component="tsdb"). */
  with(fields: LogFields): Logger;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function logfmtValue(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v);
  return s === "" || /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = LEVEL_RANK[opts.level ?? "info"];
  const format = opts.format ?? "logfmt";
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVEL_RANK[level] < min) return;
    const all: LogFields = { time: new Date().toISOString(), level, ...base, msg, ...fields };
    if (format === "json") {
      write(JSON.stringify(all, (_k, v: unknown) => (v instanceof Error ? v.message : v)));
    } else {
      write(
        Object.entries(all)
          .map(([k, v]) => `${k}=${logfmtValue(v)}`)
          .join(" "),
      );
    }
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    with: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

/** Discards everything; for tests and library use where no logger was given. */
export const nopLogger: Logger = createLogger({ write: () => {} });
