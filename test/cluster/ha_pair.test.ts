/**
 * HA-pair deduplication with real processes: two Debian Prometheus 2.42 servers scrape the same
 * target with external labels cluster=c1 and __replica__=r1/r2 and remote-write into different
 * members of a 3-node Shoal cluster with --distributor.ha-tracker.enable. The target's value
 * tells which Prometheus scraped it (last digit 1 or 2), while the series' labels are the same.
 * One copy is stored, without the replica label; when the elected Prometheus is SIGKILLed, the
 * other's samples are stored after the failover timeout, with no longer gap.
 */
import { afterAll, expect, test } from "bun:test";
import { dumpLogs, removeDirs, startCluster, stopAll, aliveMembers, type TestNode } from "./harness.ts";
import { startPrometheus, waitFor, type PrometheusServer } from "../support/index.ts";

const UPDATE_MS = 1_000;
const FAILOVER_MS = 4_000;
const SCRAPE_MS = 1_000;

const nodes: TestNode[] = [];
const proms: PrometheusServer[] = [];
let scrapes = 0;
const target = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const k = new URL(req.url).searchParams.get("from") === "r1" ? 1 : 2;
    scrapes++;
    return new Response(`# TYPE ha_pair_value gauge\nha_pair_value ${scrapes * 10 + k}\n`, { headers: { "content-type": "text/plain; version=0.0.4" } });
  },
});

afterAll(async () => {
  await Promise.all(proms.map((p) => p.stop("SIGKILL")));
  await stopAll();
  target.stop(true);
  removeDirs();
});

function prometheusConfig(replica: string, writeTo: TestNode): string {
  return `global:
  scrape_interval: ${SCRAPE_MS / 1000}s
  scrape_timeout: 500ms
  external_labels:
    cluster: c1
    __replica__: ${replica}
scrape_configs:
  - job_name: ha_target
    params:
      from: [${replica}]
    static_configs:
      - targets: ["127.0.0.1:${target.port}"]
remote_write:
  - url: ${writeTo.url}/api/v1/write
    metadata_config:
      send: false
    queue_config:
      batch_send_deadline: 250ms
      min_backoff: 50ms
      max_backoff: 500ms
`;
}

interface Series {
  metric: Record<string, string>;
  values: [number, string][];
}

async function stored(node: TestNode, selector: string): Promise<Series[]> {
  const res = await fetch(`${node.url}/api/v1/query?query=${encodeURIComponent(`${selector}[10m]`)}`);
  const body = (await res.json()) as { status: string; data: { result: Series[] } };
  if (body.status !== "success") throw new Error(JSON.stringify(body));
  return body.data.result;
}

/** A counter of a process's /metrics, summed over its label sets. */
async function counter(url: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(name) && line.includes(labels) && /^[a-z_]+(\{|\s)/.test(line)) sum += Number(line.split(" ").at(-1));
  return sum;
}

/** Which replica scraped a stored sample. */
const replicaOf = (v: string) => (Number(v) % 10 === 1 ? "r1" : "r2");

test(
  "two Prometheus replicas into a 3-node cluster: one copy stored; the elected one killed, the other is stored after the failover timeout",
  async () => {
    try {
      await startCluster(
        "ha",
        3,
        ["--distributor.ha-tracker.enable", `--distributor.ha-tracker.update-timeout=${UPDATE_MS}ms`, `--distributor.ha-tracker.failover-timeout=${FAILOVER_MS}ms`, "--log.level=warn"],
        nodes,
      );
      for (const n of nodes) await waitFor(`${n.name} sees 3 members`, async () => (await aliveMembers(n)).length === 3);
      const [n1, n2, n3] = nodes as [TestNode, TestNode, TestNode];
      // The replicas write through different members: the election must agree across them.
      const byReplica: Record<string, PrometheusServer> = {};
      for (const [replica, node] of [
        ["r1", n1],
        ["r2", n2],
      ] as const) {
        const p = await startPrometheus(prometheusConfig(replica, node), ["--log.level=warn"]);
        proms.push(p);
        byReplica[replica] = p;
      }

      // Both replicas send; wait for 10 s of samples.
      const phase1 = await waitFor(
        "10 samples stored",
        async () => {
          const s = await stored(n3, "ha_pair_value");
          return s.length >= 1 && s[0]!.values.length >= 10 ? s : undefined;
        },
        { timeoutMs: 60_000 },
      );
      for (const p of proms) expect(await counter(p.url, "prometheus_remote_storage_samples_total")).toBeGreaterThan(0);
      expect(phase1).toHaveLength(1);
      expect(phase1[0]!.metric).toEqual({ __name__: "ha_pair_value", cluster: "c1", instance: `127.0.0.1:${target.port}`, job: "ha_target" });
      expect(await stored(n3, '{__replica__=~".+"}')).toEqual([]);
      const electedReplica = replicaOf(phase1[0]!.values[0]![1]);
      const other = electedReplica === "r1" ? "r2" : "r1";
      // One copy: every sample from the elected replica, about one per scrape interval.
      expect(new Set(phase1[0]!.values.map(([, v]) => replicaOf(v)))).toEqual(new Set([electedReplica]));
      const ts = phase1[0]!.values.map(([t]) => t * 1000);
      expect(ts.length).toBeLessThanOrEqual((ts.at(-1)! - ts[0]!) / SCRAPE_MS + 2);
      // The other replica was answered 202: nothing failed or was retried on its side.
      const otherProm = byReplica[other]!;
      expect(await counter(otherProm.url, "prometheus_remote_storage_samples_failed_total")).toBe(0);
      const otherNode = other === "r1" ? n1 : n2;
      expect(await counter(otherNode.url, "shoal_remote_write_ha_deduplicated_samples_total", 'cluster="c1"')).toBeGreaterThan(0);

      // SIGKILL the elected Prometheus: the other's samples appear after the failover timeout.
      byReplica[electedReplica]!.proc.kill("SIGKILL");
      const killedAt = Date.now();
      await waitFor(
        `samples of ${other} stored`,
        async () => (await stored(n3, "ha_pair_value"))[0]!.values.some(([, v]) => replicaOf(v) === other),
        { timeoutMs: 30_000 },
      );
      const tookOverAfter = Date.now() - killedAt;
      await Bun.sleep(3 * SCRAPE_MS);
      const all = await stored(n3, "ha_pair_value");
      expect(all).toHaveLength(1);
      const values = all[0]!.values;
      const who = values.map(([, v]) => replicaOf(v));
      const lastOld = who.lastIndexOf(electedReplica);
      const firstNew = who.indexOf(other);
      // One switch, never back.
      expect(who.slice(0, lastOld + 1).every((r) => r === electedReplica)).toBe(true);
      expect(who.slice(firstNew).every((r) => r === other)).toBe(true);
      expect(firstNew).toBe(lastOld + 1);
      let maxGap = 0;
      for (let i = 1; i < values.length; i++) maxGap = Math.max(maxGap, (values[i]![0] - values[i - 1]![0]) * 1000);
      const switchGap = (values[firstNew]![0] - values[lastOld]![0]) * 1000;
      console.log(`HA failover: ${other} stored ${tookOverAfter} ms after the kill; switch gap ${switchGap} ms; largest gap ${maxGap} ms (failover timeout ${FAILOVER_MS} ms)`);
      // Not before the elected replica was silent for the failover timeout less one update timeout
      // (the deciding member hears of it at least that often) ...
      expect(switchGap).toBeGreaterThanOrEqual(FAILOVER_MS - UPDATE_MS - SCRAPE_MS);
      // ... and no gap longer than the failover timeout (plus the scrape interval the first
      // accepted sample of the other replica may lie behind the failover instant).
      expect(maxGap).toBeLessThanOrEqual(FAILOVER_MS + SCRAPE_MS);
    } catch (err) {
      console.error(dumpLogs(nodes));
      for (const p of proms) console.error(`--- ${p.name}\n${p.log.slice(-20).join("\n")}`);
      throw err;
    }
  },
  180_000,
);
