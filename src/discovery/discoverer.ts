/**
 * A discoverer reports the target groups of one service-discovery config (a static list, a set
 * of file_sd files): always the full current list, never a diff.
 */
import type { TargetGroup } from "../config/index.ts";

export type { TargetGroup };

export interface Discoverer {
  /** Calls `onUpdate` with the full current list of groups whenever it changes (at least once, during start). */
  start(onUpdate: (groups: TargetGroup[]) => void): void;
  stop(): void;
}
