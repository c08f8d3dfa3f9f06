import { join, resolve } from "node:path";

/** The repository's root directory. */
export const REPO_ROOT = resolve(import.meta.dir, "../..");
/** The Bun executable running the tests, used to start Shoal from source. */
export const BUN = process.execPath;
/** Shoal's command line entry, run from source as `bun src/cli.ts`. */
export const SHOAL_CLI = join(REPO_ROOT, "src", "cli.ts");
