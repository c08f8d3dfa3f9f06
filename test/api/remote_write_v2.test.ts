/**
 * Remote write 2.0 into a real Shoal node over HTTP, with requests built by protobufjs from the
 * io.prometheus.write.v2 definitions: labels resolved through the symbols table (in any order,
 * sorted as Prometheus sorts them), the written-count headers, and 400s that name what is wrong
 * with a malformed body (nothing of it stored).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { encodeV2, remoteWriteV2 } from "../e2e/remote_write_v2_client.ts";
import { remoteWrite, writeRequestBody } from "../e2e/remote_write_client.ts";
import { startShoal, type ShoalNode } from "../support/index.ts";

let shoal: ShoalNode;
const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;

beforeAll(async () => {
  shoal = await startShoal({ args: ["--log.level=error"] });
}, 60_000);

afterAll(async () => {
  await shoal?.stop();
});

async function samples(selector: string): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  const at = (t0 + 600_000) / 1000;
  const res = await fetch(`${shoal.url}/api/v1/query?query=${encodeURIComponent(`${selector}[20m]`)}&time=${at}`);
  const body = (await res.json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  return body.data.result.sort((a, b) => JSON.stringify(a.metric).localeCompare(JSON.stringify(b.metric)));
}

const written = (res: Response) => [
  res.headers.get("X-Prometheus-Remote-Write-Samples-Written"),
  res.headers.get("X-Prometheus-Remote-Write-Histograms-Written"),
  res.headers.get("X-Prometheus-Remote-Write-Exemplars-Written"),
];

test("samples with labels from the symbols table are stored; the answer counts what was written", async () => {
  const symbols = ["", "__name__", "rw2_up", "job", "api", "zone", "eu", "instance", "i1", "help text", "seconds"];
  const body = encodeV2(symbols, [
    // Unsorted refs (zone, __name__, job): sorted on the way in, as Prometheus does.
    { labelsRefs: [5, 6, 1, 2, 3, 4], samples: [{ value: 1, timestamp: t0 }, { value: 2, timestamp: t0 + 15_000 }] },
    {
      labelsRefs: [1, 2, 3, 4, 7, 8],
      samples: [{ value: 7, timestamp: t0 }],
      exemplars: [{ labelsRefs: [7, 8], value: 1, timestamp: t0 }],
      metadata: { type: 2, helpRef: 9, unitRef: 10 },
    },
    // A native histogram alone: not stored by Shoal, so not counted as written.
    { labelsRefs: [1, 2, 3, 4, 7, 8, 5, 6], histograms: [{ countInt: 3, sum: 1.5, timestamp: t0 }] },
  ]);
  const res = await remoteWriteV2(shoal.url, body);
  expect(res.status).toBe(204);
  expect(written(res)).toEqual(["3", "0", "0"]);
  expect(await samples("rw2_up")).toEqual([
    { metric: { __name__: "rw2_up", instance: "i1", job: "api" }, values: [[t0 / 1000, "7"]] },
    { metric: { __name__: "rw2_up", job: "api", zone: "eu" }, values: [[t0 / 1000, "1"], [t0 / 1000 + 15, "2"]] },
  ]);

  // The same series through another symbols table: still one series.
  const again = await remoteWriteV2(shoal.url, encodeV2(["", "zone", "eu", "job", "api", "__name__", "rw2_up"], [{ labelsRefs: [5, 6, 3, 4, 1, 2], samples: [{ value: 3, timestamp: t0 + 30_000 }] }]));
  expect(again.status).toBe(204);
  expect(written(again)).toEqual(["1", "0", "0"]);
  const after = await samples('rw2_up{zone="eu"}');
  expect(after).toHaveLength(1);
  expect(after[0]!.values.map(([, v]) => v)).toEqual(["1", "2", "3"]);
});

test("a malformed 2.0 body is a 400 naming the problem, and nothing of it is stored", async () => {
  const ok = { labelsRefs: [1, 2], samples: [{ value: 1, timestamp: t0 }] };
  const cases: [Uint8Array, RegExp][] = [
    [encodeV2(["", "__name__", "rw2_bad_a"], [ok, { labelsRefs: [1, 9], samples: [{ value: 1, timestamp: t0 }] }]), /timeseries\[1\]: labels_refs\[1\] = 9 is outside the symbols table \(size 3\)/],
    [encodeV2(["", "__name__", "rw2_bad_b"], [ok, { labelsRefs: [1, 2, 1], samples: [{ value: 1, timestamp: t0 }] }]), /timeseries\[1\]: labels_refs has an odd length \(3\)/],
    [encodeV2(["", "__name__", "rw2_bad_c"], [ok, { labelsRefs: [1, 2] }]), /timeseries\[1\]: a series must contain at least one sample or histogram/],
    [encodeV2(["", "__name__", "rw2_bad_d", "job"], [ok, { labelsRefs: [3, 0], samples: [{ value: 1, timestamp: t0 }] }]), /timeseries\[1\]: series without a metric name/],
    [encodeV2(["", "__name__", "rw2_bad_e"], [ok]).subarray(0, 20), /bad io\.prometheus\.write\.v2\.Request protobuf: .*runs past the end/],
  ];
  for (const [body, message] of cases) {
    const res = await remoteWriteV2(shoal.url, body);
    const text = await res.text();
    expect({ status: res.status, text }).toEqual({ status: 400, text: expect.stringMatching(message) });
  }
  expect(await samples('{__name__=~"rw2_bad_.*"}')).toEqual([]);
});

test("an out-of-order sample in a 2.0 request: 400, and the answer says nothing was written", async () => {
  const symbols = ["", "__name__", "rw2_ooo"];
  expect((await remoteWriteV2(shoal.url, encodeV2(symbols, [{ labelsRefs: [1, 2], samples: [{ value: 1, timestamp: t0 + 60_000 }] }]))).status).toBe(204);
  const res = await remoteWriteV2(shoal.url, encodeV2(symbols, [{ labelsRefs: [1, 2], samples: [{ value: 2, timestamp: t0 + 120_000 }, { value: 3, timestamp: t0 }] }]));
  expect(res.status).toBe(400);
  expect(written(res)).toEqual(["0", "0", "0"]);
  expect((await samples("rw2_ooo"))[0]!.values).toEqual([[t0 / 1000 + 60, "1"]]);
});

test("content negotiation: an unknown proto message is a 415 listing both accepted; 1.0 answers carry no written counts", async () => {
  const res = await remoteWriteV2(shoal.url, encodeV2(["", "__name__", "x"], []), "application/x-protobuf;proto=io.prometheus.write.v3.Request");
  expect(res.status).toBe(415);
  expect(await res.text()).toContain("io.prometheus.write.v3.Request protobuf message is not accepted by this server; accepted [prometheus.WriteRequest io.prometheus.write.v2.Request]");
  const v1 = await remoteWrite(shoal.url, writeRequestBody([{ labels: { __name__: "rw2_v1" }, samples: [[t0, 1]] }]));
  expect(v1.status).toBe(204);
  expect(written(v1)).toEqual([null, null, null]);
});
