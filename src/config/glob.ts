/**
 * The files a path pattern of the config names (`rule_files`, `file_sd_configs.files`): only the
 * last path element may hold wildcards, as Prometheus's config validation allows; matches come in
 * name order, as Go's filepath.Glob returns them. A pattern that matches nothing names no file,
 * which is not an error (Prometheus loads nothing for it either).
 */
import { statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { Glob } from "bun";

export function globFiles(pattern: string): string[] {
  const base = basename(pattern);
  if (!/[*?[]/.test(base)) {
    try {
      return statSync(pattern).isFile() ? [pattern] : [];
    } catch {
      return [];
    }
  }
  try {
    return [...new Glob(base).scanSync({ cwd: dirname(pattern), absolute: true, onlyFiles: true })].sort();
  } catch {
    return [];
  }
}

/** Every file the `rule_files` patterns name, each once, in pattern then name order. */
export function ruleFilePaths(patterns: readonly string[]): string[] {
  return [...new Set(patterns.flatMap(globFiles))];
}
