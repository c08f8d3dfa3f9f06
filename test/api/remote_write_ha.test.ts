/**
 * HA-pair deduplication at the remote-write door of a single real node (the cluster of one
 * decides alone): the elected replica's samples stored without the replica label, the other's
 * answered 202 with the reason and dropped, requests without the labels stored as they are,
 * and a failover once the elected replica was silent for the failover timeout.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { encodeV2, remoteWriteV2 } from "../e2e/remote_write_v2_client.ts";
import { remoteWrite, writeRequestBody } from "../e2e/remote_write_client.ts";
import { startShoal, type ShoalNode } from "../support/index.ts";

let shoal: ShoalNode;
const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;

beforeAll(async () => {
  shoal = await startShoal({
    args: ["--log.level=error", "--distributor.ha-tracker.enable", "--distributor.ha-tracker.update-timeout=500ms", "--distributor.ha-tracker.failover-timeout=2s"],
  });
}, 60_000);

afterAll(async () => {
  await shoal?.stop();
});

async function series(selector: string): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  const at = (t0 + 600_000) / 1000;
  const res = await fetch(`${shoal.url}/api/v1/query?query=${encodeURIComponent(`${selector}[20m]`)}&time=${at}`);
  return ((await res.json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } }).data.result;
}

const write = (replica: string, t: number, v: number, extra: Record<string, string> = { cluster: "c1" }) =>
  remoteWrite(shoal.url, writeRequestBody([{ labels: { __name__: "ha_door", ...extra, __replica__: replica }, samples: [[t, v]] }]));

test("the elected replica is stored without the replica label; the other is answered 202 and dropped; failover after the timeout", async () => {
  expect((await write("r1", t0, 1)).status).toBe(204);
  const dropped = await write("r2", t0 + 1000, 2);
  expect(dropped.status).toBe(202);
  expect(await dropped.text()).toContain('samples of replica "r2" of HA cluster "c1" dropped: replica "r1" is elected');
  // 2.0 requests are deduplicated alike, and say nothing was written.
  const v2 = await remoteWriteV2(shoal.url, encodeV2(["", "__name__", "ha_door", "cluster", "c1", "__replica__", "r2"], [{ labelsRefs: [1, 2, 3, 4, 5, 6], samples: [{ value: 9, timestamp: t0 + 1500 }] }]));
  expect(v2.status).toBe(202);
  expect(v2.headers.get("X-Prometheus-Remote-Write-Samples-Written")).toBe("0");
  expect(await series('ha_door{cluster="c1"}')).toEqual([{ metric: { __name__: "ha_door", cluster: "c1" }, values: [[t0 / 1000, "1"]] }]);

  await Bun.sleep(2_100); // r1 silent for the failover timeout
  expect((await write("r2", t0 + 3000, 3)).status).toBe(204);
  expect((await write("r1", t0 + 4000, 4)).status).toBe(202);
  expect((await series('ha_door{cluster="c1"}'))[0]!.values).toEqual([
    [t0 / 1000, "1"],
    [t0 / 1000 + 3, "3"],
  ]);
});

test("a request without the cluster label is stored as it is, replica label included", async () => {
  expect((await write("r9", t0, 5, { job: "solo" })).status).toBe(204);
  expect(await series('ha_door{job="solo"}')).toEqual([{ metric: { __name__: "ha_door", __replica__: "r9", job: "solo" }, values: [[t0 / 1000, "5"]] }]);
});
