/**
 * One Alertmanager's queue and sender. Each Alertmanager has its own, so a slow or dead one
 * never delays the others (Prometheus's per-Alertmanager send loops). The queue is bounded and
 * drops its oldest alerts when full: the newest state of an alert is the one worth sending.
 */
import type { Clock, Logger } from "../../model/index.ts";
import { postableAlertsJSON, type NotifierAlert } from "./alert.ts";
import type { NotifierObservers } from "./metrics.ts";

/** Prometheus's DefaultMaxBatchSize. */
export const MAX_BATCH_SIZE = 256;

export interface SendLoopOptions {
  url: string;
  queueCapacity: number;
  timeoutMs: number;
  /** Headers and Bun's fetch options (auth, TLS, redirects), computed per request. */
  requestInit: () => { headers: Record<string, string>; extra: Partial<BunFetchRequestInit> };
  userAgent: string;
  clock: Clock;
  logger: Logger;
  observers: NotifierObservers;
}

export class SendLoop {
  private queue: NotifierAlert[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;
  private inFlight: AbortController | null = null;
  /** Alerts posted with a 2xx answer. */
  sent = 0;
  /** Alerts in requests that failed. */
  errors = 0;
  /** Alerts lost: pushed out of a full queue, in a failed request, or left when stopped. */
  dropped = 0;

  constructor(private readonly opts: SendLoopOptions) {}

  get url(): string {
    return this.opts.url;
  }

  queueLength(): number {
    return this.queue.length;
  }

  add(alerts: readonly NotifierAlert[]): void {
    if (this.stopped || alerts.length === 0) return;
    const cap = this.opts.queueCapacity;
    let incoming = alerts;
    let dropped = 0;
    if (incoming.length > cap) {
      dropped += incoming.length - cap;
      incoming = incoming.slice(incoming.length - cap);
    }
    const overflow = this.queue.length + incoming.length - cap;
    if (overflow > 0) {
      dropped += overflow;
      this.queue.splice(0, overflow);
    }
    for (const a of incoming) this.queue.push(a);
    if (dropped > 0) {
      this.dropped += dropped;
      this.opts.logger.warn("Alert notification queue full, dropping alerts", { count: dropped });
    }
    this.kick();
  }

  private kick(): void {
    if (this.running !== null || this.stopped) return;
    this.running = this.run().finally(() => {
      this.running = null;
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.queue.length > 0) await this.sendOneBatch();
  }

  private async sendOneBatch(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH_SIZE);
    if (!(await this.post(batch))) this.dropped += batch.length;
  }

  private async post(batch: NotifierAlert[]): Promise<boolean> {
    const { clock, url, logger } = this.opts;
    const begin = clock.now();
    const abort = new AbortController();
    this.inFlight = abort;
    const timer = clock.setTimeout(() => abort.abort(new DOMException("context deadline exceeded", "TimeoutError")), this.opts.timeoutMs);
    try {
      const { headers, extra } = this.opts.requestInit();
      const res = await fetch(url, {
        ...extra,
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json", "User-Agent": this.opts.userAgent },
        body: postableAlertsJSON(batch),
        signal: abort.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`bad response status ${res.status} ${res.statusText}`.trimEnd());
    } catch (e) {
      const err = abort.signal.aborted ? String((abort.signal.reason as Error | undefined)?.message ?? "context canceled") : (e as Error).message;
      logger.error("Error sending alerts", { alertmanager: url, count: batch.length, err });
      this.errors += batch.length;
      return false;
    } finally {
      clock.clearTimeout(timer);
      this.inFlight = null;
    }
    this.opts.observers.latency.observe((clock.now() - begin) / 1000, url);
    this.sent += batch.length;
    return true;
  }

  /**
   * Stops taking alerts. With `drainUntil` (a clock reading), first sends what is queued,
   * batch by batch, until the queue is empty or that time has come (then the request under
   * way is cut off); what is left is counted as dropped.
   */
  async stop(drainUntil: number | null): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const { clock } = this.opts;
    const cutOff = drainUntil === null ? 0 : Math.max(0, drainUntil - clock.now());
    const timer = clock.setTimeout(() => this.inFlight?.abort(new DOMException("context canceled", "AbortError")), cutOff);
    try {
      // The batch under way finishes (or is cut off) first.
      if (this.running !== null) await this.running;
      if (drainUntil !== null) while (this.queue.length > 0 && clock.now() < drainUntil) await this.sendOneBatch();
    } finally {
      clock.clearTimeout(timer);
    }
    if (this.queue.length > 0) {
      this.opts.logger.warn("Alert notification queue not drained on shutdown, dropping alerts", { alertmanager: this.opts.url, count: this.queue.length });
      this.dropped += this.queue.length;
      this.queue = [];
    }
  }
}
