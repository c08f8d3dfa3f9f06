/** static_configs: groups fixed by the config, reported once. */
import { labelsFromRecord } from "../model/index.ts";
import type { TargetGroup, TargetGroupConfig } from "../config/index.ts";
import type { Discoverer } from "./discoverer.ts";

export class StaticDiscoverer implements Discoverer {
  constructor(
    private readonly configs: readonly TargetGroupConfig[],
    private readonly sourcePrefix: string,
  ) {}

  start(onUpdate: (groups: TargetGroup[]) => void): void {
    onUpdate(
      this.configs.map((c, i) => ({
        source: `${this.sourcePrefix}${i}`,
        targets: c.targets.map((t) => labelsFromRecord({ __address__: t })),
        labels: labelsFromRecord(c.labels),
      })),
    );
  }

  stop(): void {}
}
