/**
 * What every section checker of a config file needs: failing with `file:line: field.path:
 * message` (the line found in the YAML document), and resolving a file field against the
 * config file's directory, as Prometheus's SetDirectory does.
 */
import { isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { ConfigError } from "./error.ts";
import { classifyField } from "./prometheus_fields.ts";
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

  /**
   * Fails with what the schema found wrong under `base`. Misspelt fields are all listed in
   * Prometheus's words (`parsing YAML file F: yaml: unmarshal errors:` then `line N: field X not
   * found in type T`), as promtool prints them; else a field Prometheus knows but Shoal does not
   * implement is refused as not supported; else the first other problem is reported.
   */
  failSchema(issues: readonly z.core.$ZodIssue[], base: Path = []): never {
    const typos: { line: number; text: string; field: string }[] = [];
    let unsupported: { path: Path; key: string; message: string; line: number } | undefined;
    for (const issue of issues) {
      if (issue.code !== "unrecognized_keys") continue;
      const path = [...base, ...(issue.path as Path)];
      for (const key of issue.keys) {
        const line = this.yaml.line(path, key) ?? 0;
        const verdict = classifyField(path, key);
        if (verdict.kind === "typo") {
          typos.push({ line, text: `line ${line}: field ${key} not found in type ${verdict.goType}`, field: formatPath([...path, key]) });
        } else if (unsupported === undefined || line < unsupported.line) {
          unsupported = { path, key, message: verdict.message, line };
        }
      }
    }
    if (typos.length > 0) {
      typos.sort((a, b) => a.line - b.line);
      const lines = typos.map((t) => `\n  ${t.text}`).join("");
      throw new ConfigError(`parsing YAML file ${this.filename}: yaml: unmarshal errors:${lines}`, this.filename, typos[0]!.line, typos[0]!.field);
    }
    if (unsupported) this.fail(unsupported.path, unsupported.message, unsupported.key);
    const issue = issues[0]!;
    this.fail([...base, ...(issue.path as Path)], issue.message);
  }

  file(p: string | null | undefined): string | undefined {
    if (p === null || p === undefined || p === "") return undefined;
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }
}
