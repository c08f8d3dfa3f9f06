/**
 * The storage as replicas write forwarded batches into it. Batches of one series reach a replica
 * from several distributors, and a client's next write may overtake the previous one's copy to
 * a slow replica (the client only waited for a quorum): the head would refuse the overtaken
 * samples as out of order and that replica would lack them for good. Here such late samples are
 * backfilled instead (durable, identical samples kept once), so every replica converges on the
 * same data. The distributor's own local share stays strict, so a client's genuinely
 * out-of-order write is still refused as in Prometheus when the node it talks to owns the series.
 */
import { AppendError, setStaleAt, type Appendable, type Appender, type Labels } from "../model/index.ts";
import type { SeriesData } from "../storage/index.ts";
import type { HandoffStorage } from "./transfer.ts";

export class LateTolerantAppendable implements Appendable {
  /** Late samples handed to backfill since start (the head counted them as out of order). */
  lateSamples = 0;

  /**
   * `backfilled` gets the late samples once stored (the commit tap does not see backfills; remote
   * write out forwards them); a rejection fails the write, which the sender then hints.
   */
  constructor(
    private readonly local: HandoffStorage,
    readonly backfilled: (series: readonly SeriesData[]) => Promise<void> = async () => {},
  ) {}

  appender(): Appender {
    return new LateTolerantAppender(this, this.local);
  }
}

interface Late {
  labels: Labels;
  t: number[];
  v: number[];
  stale: number[];
}

class LateTolerantAppender implements Appender {
  private readonly inner: Appender;
  private late: Late[] = [];
  private last: Late | null = null;

  constructor(
    private readonly owner: LateTolerantAppendable,
    private readonly local: HandoffStorage,
  ) {
    this.inner = local.appender();
  }

  append(labels: Labels, t: number, v: number, stale = false): void {
    try {
      this.inner.append(labels, t, v, stale);
    } catch (err) {
      if (!(err instanceof AppendError) || (err.reason !== "out_of_order" && err.reason !== "too_old")) throw err;
      let l = this.last;
      if (!l || l.labels !== labels) this.late.push((l = this.last = { labels, t: [], v: [], stale: [] }));
      if (stale) l.stale.push(l.t.length);
      l.t.push(t);
      l.v.push(stale ? 0 : v);
    }
  }

  async commit(): Promise<void> {
    await this.inner.commit();
    const late = this.late;
    this.late = [];
    this.last = null;
    if (late.length === 0) return;
    const series: SeriesData[] = late.map((l) => {
      const values = Float64Array.from(l.v);
      for (const i of l.stale) setStaleAt(values, i);
      return { labels: l.labels, timestamps: Float64Array.from(l.t), values };
    });
    await this.local.backfill(series);
    for (const l of late) this.owner.lateSamples += l.t.length;
    await this.owner.backfilled(series);
  }

  rollback(): void {
    this.inner.rollback();
    this.late = [];
    this.last = null;
  }
}
