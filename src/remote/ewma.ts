/**
 * An exponentially weighted moving rate, ticked at a fixed interval, as Prometheus's remote
 * storage measures samples in, samples out and send time to size its shards.
 */
export class EwmaRate {
  private newEvents = 0;
  private lastRate = 0;
  private init = false;

  constructor(
    private readonly alpha: number,
    private readonly intervalSeconds: number,
  ) {}

  incr(n: number): void {
    this.newEvents += n;
  }

  /** Events per second as of the last tick. */
  rate(): number {
    return this.lastRate;
  }

  tick(): void {
    const instant = this.newEvents / this.intervalSeconds;
    const had = this.newEvents > 0;
    this.newEvents = 0;
    if (this.init) this.lastRate += this.alpha * (instant - this.lastRate);
    else if (had) {
      this.init = true;
      this.lastRate = instant;
    }
  }
}
