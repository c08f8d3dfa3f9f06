/**
 * The files a path pattern names (`rule_files`, `file_sd_configs.files`, a rule unit test's
 * `rule_files`): only the last path element may hold wildcards, as Prometheus's config
 * validation allows; matches come in name order, as Go's filepath.Glob returns them, under the
 * pattern's directory as written. A pattern that matches nothing names no file, which is not an
 * error (Prometheus loads nothing for it either).
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Glob } from "bun";

export interface GlobOptions {
  /**
   * Match any existing path, directories included, as Go's filepath.Glob does: promtool's check
   * and test commands glob so, and then fail on a directory when they read it. Without it only
   * regular files match, so that the server never tries to load a directory.
   */
  anyPath?: boolean;
}

export function globFiles(pattern: string, opts: GlobOptions = {}): string[] {
  const anyPath = opts.anyPath === true;
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!/[*?[]/.test(base)) {
    if (anyPath) return existsSync(pattern) ? [pattern] : [];
    try {
      return statSync(pattern).isFile() ? [pattern] : [];
    } catch {
      return [];
    }
  }
  try {
    return [...new Glob(base).scanSync({ cwd: dir, onlyFiles: !anyPath })].map((m) => join(dir, m)).sort();
  } catch {
    return [];
  }
}

/** Every file the `rule_files` patterns name, each once, in pattern then name order. */
export function ruleFilePaths(patterns: readonly string[]): string[] {
  return [...new Set(patterns.flatMap((p) => globFiles(p)))];
}
