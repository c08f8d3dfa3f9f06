/**
 * The command-line prelude of promtool's file commands (`check config`, `check rules`,
 * `test rules`): flags and FILE arguments parsed, `--help` printed, a usage error (bad flag, no
 * file) exits 2, and, where promtool's kingpin checks its arguments, a path that is missing or a
 * directory exits 1 before any file is read.
 */
import { statSync } from "node:fs";
import { FlagError, parseFlags, type Flags, type FlagSpec } from "../model/index.ts";

/** Where a command writes: the process's stdout and stderr, or a test's buffers. */
export interface CommandOutput {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const stdio: CommandOutput = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export interface FileCommandSpec<T> {
  /** As typed after `shoal`, e.g. `check rules`. */
  name: string;
  usage: string;
  help: string;
  flags: readonly FlagSpec[];
  /** The command's settings from its flags (notes about them go to `io`); throws FlagError for a bad value. */
  settings: (flags: Flags, io: CommandOutput) => T;
  /** Refuse a FILE that does not exist or is a directory, as kingpin's ExistingFiles does. */
  existingFiles: boolean;
}

/** promtool (kingpin) refuses a path that is not an existing file before checking anything. */
function missingFileError(files: readonly string[]): string | null {
  for (const f of files) {
    let isDir: boolean;
    try {
      isDir = statSync(f).isDirectory();
    } catch {
      return `path '${f}' does not exist`;
    }
    if (isDir) return `'${f}' is a directory`;
  }
  return null;
}

/** The FILE arguments and settings to run with, or the exit status when the prelude already ended the command. */
export function parseFileCommand<T>(args: readonly string[], spec: FileCommandSpec<T>, io: CommandOutput): { files: readonly string[]; settings: T } | number {
  let files: readonly string[];
  let settings: T;
  try {
    const flags = parseFlags(args, spec.flags, { positionals: true });
    if (flags.help) {
      io.out(spec.help);
      return 0;
    }
    files = flags.positionals;
    settings = spec.settings(flags, io);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    io.err(`shoal ${spec.name}: ${e.message}\nusage: ${spec.usage}\n`);
    return 2;
  }
  if (files.length === 0) {
    io.err(`usage: ${spec.usage}\n`);
    return 2;
  }
  const missing = spec.existingFiles ? missingFileError(files) : null;
  if (missing !== null) {
    io.err(`shoal: error: ${missing}, try --help\n`);
    return 1;
  }
  return { files, settings };
}
