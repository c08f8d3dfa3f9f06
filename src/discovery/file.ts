/**
 * file_sd_configs: JSON or YAML files of target groups, re-read when a file's modification time
 * or the set of matching files changes (checked by polling), and in any case every
 * refresh_interval. A file that fails to parse keeps its previous groups, as Prometheus does.
 */
import { readFileSync, statSync } from "node:fs";
import type { Logger } from "../model/index.ts";
import { globFiles, parseFileSD, type FileSDConfig, type TargetGroup } from "../config/index.ts";
import type { Discoverer } from "./discoverer.ts";

export class FileDiscoverer implements Discoverer {
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Per file: modification time seen and the groups read. */
  private readonly files = new Map<string, { mtime: number; size: number; groups: TargetGroup[] }>();
  private lastRefresh = 0;
  private lastEmitted = "";

  constructor(
    private readonly cfg: FileSDConfig,
    private readonly logger: Logger,
    private readonly pollInterval: number,
  ) {}

  start(onUpdate: (groups: TargetGroup[]) => void): void {
    this.refresh(onUpdate, true);
    this.timer = setInterval(() => this.refresh(onUpdate, false), Math.min(this.pollInterval, this.cfg.refreshInterval));
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private refresh(onUpdate: (groups: TargetGroup[]) => void, first: boolean): void {
    const now = Date.now();
    const forced = first || now - this.lastRefresh >= this.cfg.refreshInterval;
    if (forced) this.lastRefresh = now;
    const present = new Set<string>();
    for (const pattern of this.cfg.files) {
      for (const path of globFiles(pattern)) {
        present.add(path);
        let st;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        const known = this.files.get(path);
        if (!forced && known && known.mtime === st.mtimeMs && known.size === st.size) continue;
        try {
          const groups = parseFileSD(path, readFileSync(path, "utf8"));
          this.files.set(path, { mtime: st.mtimeMs, size: st.size, groups });
        } catch (e) {
          this.logger.error("Error reading file", { path, err: (e as Error).message });
          if (known) known.mtime = st.mtimeMs;
          else this.files.set(path, { mtime: st.mtimeMs, size: st.size, groups: [] });
        }
      }
    }
    for (const path of [...this.files.keys()]) if (!present.has(path)) this.files.delete(path);
    const groups = [...this.files.values()].flatMap((f) => f.groups);
    const key = JSON.stringify(groups);
    if (first || key !== this.lastEmitted) {
      this.lastEmitted = key;
      onUpdate(groups);
    }
  }
}
