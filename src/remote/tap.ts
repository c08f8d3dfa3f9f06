/**
 * Where forwarded samples enter: the local storage with its appenders teed. Every sample an
 * appender of it accepted and committed, of a series the predicate says this node forwards, is
 * handed to the sink after the local commit and before `commit()` resolves — so a write that was
 * acknowledged is in the remote-write backlog. Everything else of the storage (backfill, export,
 * queriers…) is the storage's own: backfilled samples (late ones, hand-off and repairs) are not
 * forwarded here.
 */
import { setStaleAt, type Appendable, type Appender, type AppenderOptions, type Labels, type SampleRuns, type SampleSink } from "../model/index.ts";

/** Columnar samples of one commit, reused by later commits (a small pool: commits overlap). */
class RunBuffer implements SampleRuns {
  runs = 0;
  labels: Labels[] = [];
  ends = new Int32Array(64);
  timestamps = new Float64Array(256);
  values = new Float64Array(256);

  reset(): void {
    this.runs = 0;
    this.labels.length = 0;
  }

  get samples(): number {
    return this.runs === 0 ? 0 : this.ends[this.runs - 1]!;
  }

  add(labels: Labels, t: number, v: number, stale: boolean): void {
    let r = this.runs;
    if (r === 0 || this.labels[r - 1] !== labels) {
      if (r === this.ends.length) {
        const e = new Int32Array(r * 2);
        e.set(this.ends);
        this.ends = e;
      }
      this.labels[r] = labels;
      this.ends[r] = r === 0 ? 0 : this.ends[r - 1]!;
      this.runs = ++r;
    }
    const i = this.ends[r - 1]!;
    if (i === this.timestamps.length) {
      const t2 = new Float64Array(i * 2);
      t2.set(this.timestamps);
      const v2 = new Float64Array(i * 2);
      v2.set(this.values); // typed-array copy keeps a stale marker's bits
      this.timestamps = t2;
      this.values = v2;
    }
    this.timestamps[i] = t;
    if (stale) setStaleAt(this.values, i);
    else this.values[i] = v;
    this.ends[r - 1] = i + 1;
  }
}

const pool: RunBuffer[] = [];

class TeeAppender implements Appender {
  private buf: RunBuffer | null = null;
  private lastLabels: Labels | null = null;
  private lastForwards = false;

  constructor(
    private readonly inner: Appender,
    private readonly sink: SampleSink,
    private readonly forwards: (labels: Labels) => boolean,
  ) {}

  append(labels: Labels, t: number, v: number, stale?: boolean): void {
    this.inner.append(labels, t, v, stale);
    if (labels !== this.lastLabels) {
      this.lastLabels = labels;
      this.lastForwards = this.forwards(labels);
    }
    if (!this.lastForwards) return;
    this.buf ??= pool.pop() ?? new RunBuffer();
    this.buf.add(labels, t, v, stale === true);
  }

  async commit(): Promise<void> {
    const buf = this.buf;
    this.buf = null;
    this.lastLabels = null;
    try {
      await this.inner.commit();
      if (buf !== null && buf.samples > 0) await this.sink.write(buf);
    } finally {
      if (buf !== null) {
        buf.reset();
        if (pool.length < 8) pool.push(buf);
      }
    }
  }

  rollback(): void {
    this.inner.rollback();
    if (this.buf !== null) {
      this.buf.reset();
      if (pool.length < 8) pool.push(this.buf);
    }
    this.buf = null;
    this.lastLabels = null;
  }
}

/**
 * `local` whose `appender()` tees committed samples of forwarded series into `sink` (only while
 * the sink is active: without remote_write entries the appenders are the storage's own).
 */
export function tapCommits<T extends Appendable>(local: T, sink: SampleSink, forwards: (labels: Labels) => boolean): T {
  const appender = (opts?: AppenderOptions): Appender => {
    const inner = local.appender(opts);
    return sink.active ? new TeeAppender(inner, sink, forwards) : inner;
  };
  return new Proxy(local, {
    get(target, prop) {
      if (prop === "appender") return appender;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
