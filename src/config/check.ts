/**
 * `shoal check config FILE...`: validates config files and reports like `promtool check config`
 * (same wording, stdout for success, stderr for failure, exit status 1 if any file failed).
 */
import { existsSync } from "node:fs";
import { Glob } from "bun";
import { basename, dirname } from "node:path";
import { loadConfigFile } from "./load.ts";
import type { Config } from "./types.ts";

export interface CheckOutput {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: CheckOutput = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!base.includes("*")) return existsSync(pattern) ? [pattern] : [];
  try {
    return [...new Glob(base).scanSync({ cwd: dir, absolute: true, onlyFiles: true })].sort();
  } catch {
    return [];
  }
}

/** Files the config refers to that must exist for the config to work (as promtool checks). */
function missingReferencedFile(cfg: Config): string | null {
  for (const sc of cfg.scrapeConfigs) {
    const files: [string, string | undefined][] = [
      ["password_file", sc.basicAuth?.passwordFile],
      ["credentials_file", sc.authorization?.credentialsFile],
      ["CA file", sc.tlsConfig.caFile],
      ["client cert file", sc.tlsConfig.certFile],
      ["client key file", sc.tlsConfig.keyFile],
    ];
    for (const [what, f] of files) {
      if (f !== undefined && !existsSync(f)) return `error checking ${what} ${JSON.stringify(f)}: stat ${f}: no such file or directory`;
    }
  }
  return null;
}

export async function runCheckConfig(args: string[], io: CheckOutput = stdio): Promise<number> {
  const files = args.filter((a) => !a.startsWith("-"));
  if (files.length === 0) {
    io.err("usage: shoal check config FILE...\n");
    return 2;
  }
  let failed = false;
  for (const file of files) {
    io.out(`Checking ${file}\n`);
    try {
      const cfg = loadConfigFile(file);
      const missing = missingReferencedFile(cfg);
      if (missing !== null) throw new Error(missing);
      if (cfg.ruleFiles.length > 0) {
        const found = cfg.ruleFiles.flatMap(globFiles);
        io.out(`  SUCCESS: ${found.length} rule files found\n`);
      }
      io.out(` SUCCESS: ${file} is valid prometheus config file syntax\n\n`);
    } catch (e) {
      failed = true;
      io.err(`  FAILED: ${(e as Error).message}\n\n`);
    }
  }
  return failed ? 1 : 0;
}
