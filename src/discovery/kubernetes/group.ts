/** A target group as the role builders make it: plain records, turned into Labels once at the end. */
import type { LabelRecord } from "./meta_labels.ts";

export interface RawGroup {
  source: string;
  labels: LabelRecord;
  targets: LabelRecord[];
}
