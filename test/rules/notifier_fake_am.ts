/**
 * A fake Alertmanager for the notifier's tests: a Bun.serve that records every POST (path,
 * headers, parsed body) and answers with a status the test chooses, or holds the answer until
 * the test releases it.
 */
import { createLogger, labelsFromRecord, type Logger } from "../../src/model/index.ts";
import { parseConfig, type AlertingConfig } from "../../src/config/index.ts";
import type { NotifierAlert } from "../../src/rules/index.ts";

export interface PostedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface Posted {
  path: string;
  headers: Headers;
  alerts: PostedAlert[];
}

export class FakeAlertmanager {
  readonly posts: Posted[] = [];
  status = 200;
  /** While set, requests wait for `release()` before being answered. */
  private held: (() => void)[] | null = null;
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor() {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) => {
        const body = (await req.json()) as PostedAlert[];
        this.posts.push({ path: new URL(req.url).pathname, headers: req.headers, alerts: body });
        if (this.held !== null) await new Promise<void>((resolve) => this.held!.push(resolve));
        return new Response(this.status === 200 ? "" : "no", { status: this.status });
      },
    });
  }

  get address(): string {
    return `127.0.0.1:${this.server.port}`;
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const r of waiting) r();
  }

  /** Every alert received, in order. */
  alerts(): PostedAlert[] {
    return this.posts.flatMap((p) => p.alerts);
  }

  async close(): Promise<void> {
    this.release();
    await this.server.stop(true);
  }
}

/** The `alerting` section of a config text, through the real parser. */
export function alertingConfig(yaml: string, file = "/tmp/notifier-test.yml"): { alerting: AlertingConfig; externalLabels: ReturnType<typeof labelsFromRecord> } {
  const cfg = parseConfig(yaml, file);
  return { alerting: cfg.alerting, externalLabels: cfg.global.externalLabels };
}

export function alert(name: string, extra: Record<string, string> = {}, times: Partial<Pick<NotifierAlert, "startsAtMs" | "endsAtMs">> = {}): NotifierAlert {
  return {
    labels: { alertname: name, ...extra },
    annotations: { summary: `${name} summary` },
    startsAtMs: times.startsAtMs ?? Date.UTC(2025, 0, 1, 12),
    endsAtMs: times.endsAtMs ?? 0,
    generatorURL: `http://shoal:9090/graph?g0.expr=${name}`,
  };
}

/** Logs kept in memory, to assert what the notifier said. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: "debug", write: (l) => lines.push(l) }), lines };
}
