/**
 * What every section checker of a config file needs: failing with `file:line: field.path:
 * message` (the line found in the YAML document), and resolving a file field against the
 * config file's directory, as Prometheus's SetDirectory does.
 */
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "./error.ts";
import type { YamlDoc } from "./yamldoc.ts";

export type Path = (string | number)[];

function formatPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s;
}

export class Checker {
  constructor(
    readonly filename: string,
    readonly yaml: YamlDoc,
    readonly baseDir: string,
  ) {}

  fail(path: Path, message: string, key?: string): never {
    const line = this.yaml.line(path, key);
    const field = formatPath(key !== undefined ? [...path, key] : path);
    const where = line === null ? this.filename : `${this.filename}:${line}`;
    throw new ConfigError(`${where}: ${field === "" ? "" : field + ": "}${message}`, this.filename, line, field);
  }

  file(p: string | null | undefined): string | undefined {
    if (p === null || p === undefined || p === "") return undefined;
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }
}
