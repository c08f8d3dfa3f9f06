/** Temporary directories for tests, removed one by one or all together after the tests. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made = new Set<string>();

/** A fresh empty directory `$TMPDIR/shoal-<name>-XXXXXX`; remembered for `removeTempDirs`. */
export function tempDir(name = "test"): string {
  const dir = mkdtempSync(join(tmpdir(), `shoal-${name}-`));
  made.add(dir);
  return dir;
}

/** A `tempDir` holding `files` (file name → text). */
export function tempDirWith(name: string, files: Record<string, string>): string {
  const dir = tempDir(name);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** Deletes a directory made by `tempDir` (or any other path) and everything in it. */
export function removeTempDir(dir: string): void {
  made.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Deletes every directory `tempDir` made in this test process that is still there. */
export function removeTempDirs(): void {
  for (const dir of [...made]) removeTempDir(dir);
}
