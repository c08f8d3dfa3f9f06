/** Builds remote-write 1.0 requests (protobufjs + snappy) and sends them, for tests. */
import * as snappy from "snappyjs";
import { encodeWriteRequest, type PbTimeSeries } from "../../src/api/remote/proto.ts";

export interface TestSeries {
  labels: Record<string, string>;
  /** [timestamp ms, value] pairs. */
  samples: [number, number][];
}

/** Sorted labels, as remote-write 1.0 requires. */
export function toPbSeries(series: TestSeries[]): PbTimeSeries[] {
  return series.map((s) => ({
    labels: Object.entries(s.labels)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => ({ name, value })),
    samples: s.samples.map(([timestamp, value]) => ({ timestamp, value })),
  }));
}

export function writeRequestBody(series: TestSeries[]): Uint8Array {
  return snappy.compress(encodeWriteRequest(toPbSeries(series)));
}

export async function remoteWrite(baseUrl: string, body: Uint8Array): Promise<Response> {
  return fetch(`${baseUrl}/api/v1/write`, {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    headers: {
      "Content-Type": "application/x-protobuf",
      "Content-Encoding": "snappy",
      "X-Prometheus-Remote-Write-Version": "0.1.0",
    },
  });
}
