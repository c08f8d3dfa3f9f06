import { readFileSync } from "node:fs";

/** The one error type of the config room: its message reads `file:line: field.path: what is wrong`. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly filename: string,
    readonly line: number | null,
    readonly field: string,
  ) {
    super(message);
  }
}

/** A config-like file's text; a missing or unreadable file is a ConfigError naming it, as Prometheus words it. */
export function readConfigText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file or directory" : (e as Error).message;
    throw new ConfigError(`open ${path}: ${why}`, path, null, "");
  }
}
