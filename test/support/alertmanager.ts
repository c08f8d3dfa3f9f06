/**
 * Debian's Alertmanager (0.25) as a real peer for alerting tests, and a webhook receiver (a
 * Bun.serve) to put behind it: the receiver records every notification Alertmanager sends, so a
 * test can count them and read their alerts.
 */
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { spawnProcess, type RunningProcess } from "./process.ts";
import { removeTempDir, tempDir } from "./temp.ts";
import { waitHttpOk } from "./wait.ts";

export const ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager";

/** One alert of a webhook notification (Alertmanager's webhook payload). */
export interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** One webhook notification: a group's alerts at one flush. */
export interface WebhookNotification {
  receiver: string;
  status: "firing" | "resolved";
  alerts: WebhookAlert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  groupKey: string;
  /** When the receiver got it (Date.now()). */
  receivedAtMs: number;
}

export interface WebhookReceiver {
  /** The URL to put in a webhook_config. */
  readonly url: string;
  /** Every notification received, oldest first. */
  readonly notifications: WebhookNotification[];
  /** How many notifications were received. */
  count(): number;
  /** Every alert of every notification, oldest first (one alert may appear many times). */
  alerts(): WebhookAlert[];
  stop(): Promise<void>;
}

/** A webhook receiver on a free port of 127.0.0.1 that answers 200 to every POST. */
export function startWebhookReceiver(path = "/hook"): WebhookReceiver {
  const notifications: WebhookNotification[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (req) => {
      if (req.method !== "POST" || new URL(req.url).pathname !== path) return new Response("not found", { status: 404 });
      const body = (await req.json()) as Omit<WebhookNotification, "receivedAtMs">;
      notifications.push({ ...body, receivedAtMs: Date.now() });
      return new Response("ok");
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}${path}`,
    notifications,
    count: () => notifications.length,
    alerts: () => notifications.flatMap((n) => n.alerts),
    stop: () => server.stop(true),
  };
}

export interface AlertmanagerOptions {
  /** The whole alertmanager.yml; default: everything to `webhookURL` (required then). */
  configYaml?: string;
  webhookURL?: string;
  /** Route timings of the default config (Alertmanager's syntax); short so tests do not wait. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  extraArgs?: string[];
}

export interface AlertmanagerServer extends RunningProcess {
  readonly url: string;
  /** host:port, for a static_configs target. */
  readonly address: string;
  readonly port: number;
  /** Holds alertmanager.yml and the storage; deleted on stop. */
  readonly dataDir: string;
  /** The alerts Alertmanager holds (GET /api/v2/alerts). */
  alerts(): Promise<{ labels: Record<string, string>; annotations: Record<string, string>; status: { state: string }; endsAt: string }[]>;
}

/** A config routing every alert, grouped by alertname, to one webhook that is told about resolutions. */
export function webhookAlertmanagerConfig(webhookURL: string, groupWait = "100ms", groupInterval = "1s", repeatInterval = "1h"): string {
  return `route:
  receiver: webhook
  group_by: [alertname]
  group_wait: ${groupWait}
  group_interval: ${groupInterval}
  repeat_interval: ${repeatInterval}
receivers:
  - name: webhook
    webhook_configs:
      - url: ${JSON.stringify(webhookURL)}
        send_resolved: true
`;
}

/**
 * Starts Alertmanager on a free port of 127.0.0.1 with its gossip off (`--cluster.listen-address=`)
 * and storage in a temporary directory; resolves once /-/ready answers.
 */
export async function startAlertmanager(opts: AlertmanagerOptions): Promise<AlertmanagerServer> {
  const configYaml =
    opts.configYaml ??
    (opts.webhookURL !== undefined
      ? webhookAlertmanagerConfig(opts.webhookURL, opts.groupWait, opts.groupInterval, opts.repeatInterval)
      : undefined);
  if (configYaml === undefined) throw new Error("startAlertmanager: give configYaml or webhookURL");
  const port = freePort();
  const dataDir = tempDir("alertmanager");
  const cfg = join(dataDir, "alertmanager.yml");
  await Bun.write(cfg, configYaml);
  const p = spawnProcess("alertmanager", [
    ALERTMANAGER_BIN,
    `--config.file=${cfg}`,
    `--storage.path=${join(dataDir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
    ...(opts.extraArgs ?? []),
  ]);
  const url = `http://127.0.0.1:${port}`;
  const server: AlertmanagerServer = {
    ...p,
    url,
    address: `127.0.0.1:${port}`,
    port,
    dataDir,
    async alerts() {
      const r = await fetch(`${url}/api/v2/alerts`);
      if (!r.ok) throw new Error(`GET ${url}/api/v2/alerts: ${r.status}`);
      return (await r.json()) as Awaited<ReturnType<AlertmanagerServer["alerts"]>>;
    },
    async stop(signal?: NodeJS.Signals, graceMs?: number) {
      const code = await p.stop(signal, graceMs);
      removeTempDir(dataDir);
      return code;
    },
  };
  try {
    await waitHttpOk(`${url}/-/ready`, { timeoutMs: 30_000, process: p });
  } catch (err) {
    await server.stop("SIGKILL");
    throw err;
  }
  return server;
}
