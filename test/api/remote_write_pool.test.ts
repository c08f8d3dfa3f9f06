/**
 * The remote-write decoding worker pool: the same answers as decoding on the request thread
 * (labels, timestamps, value bits including the staleness marker, errors), and one Labels object
 * per series across requests and across threads, which storage relies on for identity lookups.
 */
import { afterAll, expect, test } from "bun:test";
import * as snappy from "snappyjs";
import { encodeWriteRequest } from "../../src/api/remote/proto.ts";
import { decodeBody, isOutcome } from "../../src/api/remote/write_body.ts";
import { LabelsCache } from "../../src/api/remote/write_decode.ts";
import { DecodePool } from "../../src/api/remote/write_pool.ts";
import { isStaleAt, nopLogger, STALE_NAN_HI, STALE_NAN_LO } from "../../src/model/index.ts";

const shared = new LabelsCache();
const pool = new DecodePool(1, nopLogger, shared);
afterAll(() => pool.close());

function body(n: number, t: number): Uint8Array {
  const pb = encodeWriteRequest(
    Array.from({ length: n }, (_, i) => ({
      labels: [
        { name: "__name__", value: "m" },
        { name: "i", value: String(i) },
      ],
      samples: [{ timestamp: t, value: i + 0.5 }],
    })),
  );
  return snappy.compress(pb);
}

/** A copy as an ArrayBuffer: the pool transfers (detaches) what it is given. */
const ab = (b: Uint8Array): ArrayBuffer => Uint8Array.from(b).buffer; // a copy (a Buffer's slice is a view)

async function ready(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const probe = pool.decode(ab(body(1, 0)), 1 << 20);
    if (probe instanceof Promise) {
      await probe;
      return;
    }
    await Bun.sleep(10);
  }
  throw new Error("decoding worker did not start");
}

test("decodes like the request thread and keeps one Labels object per series", async () => {
  await ready();
  const first = await pool.decode(ab(body(50, 1000)), 1 << 20);
  const second = await pool.decode(ab(body(50, 2000)), 1 << 20);
  if (isOutcome(first) || isOutcome(second)) throw new Error("decode failed");
  const inline = decodeBody(body(50, 1000), 1 << 20);
  if (isOutcome(inline)) throw new Error("inline decode failed");
  expect(first.series).toEqual(inline.series);
  expect([...first.timestamps.subarray(0, 50)]).toEqual([...inline.timestamps.subarray(0, 50)]);
  expect([...first.values.subarray(0, 50)]).toEqual([...inline.values.subarray(0, 50)]);
  expect([...first.offsets]).toEqual([...inline.offsets]);
  for (let i = 0; i < 50; i++) expect(second.series[i]).toBe(first.series[i]!);
  expect(second.timestamps[0]).toBe(2000);
});

test("a series has one Labels object whether the worker or the request thread decoded it", async () => {
  await ready();
  const inlineFirst = pool.decode(ab(body(80, 3000)), 1 << 20, true); // new series i=50..79 inline
  if (inlineFirst instanceof Promise || isOutcome(inlineFirst)) throw new Error("expected an inline decode");
  const viaWorker = await pool.decode(ab(body(80, 4000)), 1 << 20);
  const inlineAgain = pool.decode(ab(body(80, 5000)), 1 << 20, true);
  if (isOutcome(viaWorker) || inlineAgain instanceof Promise || isOutcome(inlineAgain)) throw new Error("decode failed");
  for (let i = 0; i < 80; i++) {
    expect(viaWorker.series[i]).toBe(inlineFirst.series[i]!);
    expect(inlineAgain.series[i]).toBe(inlineFirst.series[i]!);
  }
});

test("the staleness marker's bits cross the thread boundary", async () => {
  await ready();
  // Protobuf by hand around a sample whose value bytes are the stale NaN (0x7ff0000000000002).
  const pb = encodeWriteRequest([{ labels: [{ name: "__name__", value: "s" }], samples: [{ timestamp: 5, value: 1 }] }]);
  const at = pb.findIndex((_, i) => new DataView(pb.buffer, pb.byteOffset + i).getFloat64(0, true) === 1 && pb[i - 1] === 0x09);
  expect(at).toBeGreaterThan(0);
  const dv = new DataView(pb.buffer, pb.byteOffset + at);
  dv.setUint32(0, STALE_NAN_LO, true);
  dv.setUint32(4, STALE_NAN_HI, true);
  const out = await pool.decode(ab(snappy.compress(pb)), 1 << 20);
  if (isOutcome(out)) throw new Error(out.message);
  expect(isStaleAt(out.values, 0)).toBe(true);
});

test("bad bodies get the request thread's answers", async () => {
  await ready();
  for (const bad of [new Uint8Array([0x10, 0xff, 0xff]), snappy.compress(new Uint8Array([0x0a, 0x05, 0x01])), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])]) {
    const viaPool = await pool.decode(ab(bad), 1 << 20);
    const inline = decodeBody(bad, 1 << 20);
    expect(isOutcome(viaPool)).toBe(true);
    expect(viaPool).toEqual(inline);
  }
});
