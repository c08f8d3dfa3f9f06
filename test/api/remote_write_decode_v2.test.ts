/**
 * The remote-write 2.0 decoder against protobufjs' encoding of the same requests (from the
 * types.proto definitions): the same label sets (sorted) and samples, with and without the label
 * cache; and on corrupted bodies only a WriteDecodeError, never another error or a hang.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { LabelsCache, WriteDecodeError } from "../../src/api/remote/write_decode.ts";
import { decodeWriteRequestV2 } from "../../src/api/remote/write_decode_v2.ts";
import { encodeV2, type V2Series } from "../e2e/remote_write_v2_client.ts";

const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/);
const request = fc
  .array(fc.record({ labels: fc.uniqueArray(fc.tuple(name, fc.string({ minLength: 1, maxLength: 5 })), { selector: ([n]) => n, maxLength: 4 }), samples: fc.array(fc.tuple(fc.integer({ min: -1e12, max: 1e13 }), fc.double({ noNaN: true })), { minLength: 1, maxLength: 4 }) }), { maxLength: 6 })
  .map((series) => {
    const symbols = [""];
    const ref = (s: string) => {
      let i = symbols.indexOf(s);
      if (i < 0) i = symbols.push(s) - 1;
      return i;
    };
    const ts: V2Series[] = series.map((s, k) => ({
      labelsRefs: [["__name__", `m${k % 3}`] as [string, string], ...s.labels.filter(([n]) => n !== "__name__")].flatMap(([n, v]) => [ref(n), ref(v)]),
      samples: s.samples.map(([timestamp, value]) => ({ timestamp, value })),
    }));
    return { symbols, ts };
  });

test("decodes what protobufjs encodes: labels sorted, samples in order", () => {
  const cache = new LabelsCache();
  fc.assert(
    fc.property(request, ({ symbols, ts }) => {
      const body = encodeV2(symbols, ts);
      for (const c of [undefined, cache]) {
        const out = decodeWriteRequestV2(body, c);
        expect(out.series.length).toBe(ts.length);
        ts.forEach((s, i) => {
          const want = [];
          for (let k = 0; k < s.labelsRefs.length; k += 2) want.push({ name: symbols[s.labelsRefs[k]!]!, value: symbols[s.labelsRefs[k + 1]!]! });
          want.sort((a, b) => (a.name < b.name ? -1 : 1));
          expect(out.series[i]).toEqual(want);
          const got = [];
          for (let j = out.offsets[i]!; j < out.offsets[i + 1]!; j++) got.push({ timestamp: out.timestamps[j], value: out.values[j] });
          expect(got).toEqual(s.samples!);
        });
      }
    }),
    { numRuns: 300 },
  );
});

test("a corrupted body is refused with a WriteDecodeError, never another error", () => {
  fc.assert(
    fc.property(request, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), ({ symbols, ts }, flips, cut) => {
      const body = encodeV2(symbols, ts).slice();
      if (body.length === 0) return;
      for (const [at, byte] of flips) body[at % body.length] = byte;
      try {
        decodeWriteRequestV2(body.subarray(0, body.length - (cut % 3)), new LabelsCache());
      } catch (e) {
        expect(e).toBeInstanceOf(WriteDecodeError);
      }
    }),
    { numRuns: 1000 },
  );
});
