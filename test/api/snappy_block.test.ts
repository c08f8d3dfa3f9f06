/** The snappy block decoder: it decodes every real stream exactly and refuses bad ones fast. */
import { expect, test } from "bun:test";
import fc from "fast-check";
import * as snappy from "snappyjs";
import { DEFAULT_REMOTE_WRITE_LIMITS, handleWriteBody } from "../../src/api/remote/write.ts";
import { SnappyError, uncompressBlock } from "../../src/api/remote/snappy_block.ts";
import { openTSDB } from "../../src/storage/index.ts";
import { tempDir } from "../support/index.ts";

test("every stream snappy produces decompresses to its input", () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), fc.string({ maxLength: 3000 }).map((s) => new TextEncoder().encode(s.repeat(3)))), (input) => {
      expect(uncompressBlock(snappy.compress(input), 1 << 20)).toEqual(input);
    }),
    { numRuns: 400 },
  );
});

test("a literal whose 4-byte length overflows is refused at once (snappyjs alone spins for minutes)", async () => {
  const body = new Uint8Array([0x1c, 0xfc, 0xd6, 0xf1, 0xb4, 0xa1, 0x4b]);
  expect(() => uncompressBlock(body, 1 << 20)).toThrow(SnappyError);
  const dir = tempDir("snappy-hang");
  const db = await openTSDB({ dir });
  const started = performance.now();
  const out = await handleWriteBody(body, db, DEFAULT_REMOTE_WRITE_LIMITS);
  expect(out.status).toBe(400);
  expect(out.message).toContain("snappy: corrupt input: literal at byte 1 runs past the input");
  expect(performance.now() - started).toBeLessThan(1000);
  await db.close();
});

test("copies before the start, short output and long output are refused", () => {
  expect(() => uncompressBlock(new Uint8Array([4, 0x01, 0x05]), 100)).toThrow("refers to data before the start");
  expect(() => uncompressBlock(new Uint8Array([5, 0x0c, 1, 2, 3, 4]), 100)).toThrow("the preamble declared 5");
  expect(() => uncompressBlock(new Uint8Array([2, 0x0c, 1, 2, 3, 4]), 100)).toThrow("exceeds the declared length");
});

/** Remote-write-like text: label sets that repeat with small changes (long back-references). */
const labelText = fc
  .array(fc.tuple(fc.constantFrom("http_requests_total", "node_cpu_seconds_total", "up"), fc.nat(999), fc.constantFrom("GET", "POST")), { minLength: 1, maxLength: 60 })
  .map((rows) => new TextEncoder().encode(rows.map(([m, i, v]) => `__name__\x00${m}\x00instance\x00host-${i}:9100\x00method\x00${v}\x00job\x00api`).join("\n")));

test("long back-references and literals (the native-copy paths) decode to the input", () => {
  fc.assert(
    fc.property(labelText, (input) => {
      expect(uncompressBlock(snappy.compress(input), 1 << 20)).toEqual(input);
    }),
    { numRuns: 300 },
  );
});

test("mutated streams: a SnappyError or exactly the declared length, never a hang or another error", () => {
  fc.assert(
    fc.property(
      labelText,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      (input, muts) => {
        const body = new Uint8Array(snappy.compress(input));
        for (const [i, v] of muts) body[i % body.length] = v;
        let out: Uint8Array | null = null;
        try {
          out = uncompressBlock(body, 1 << 20);
        } catch (e) {
          expect(e).toBeInstanceOf(SnappyError);
          return;
        }
        let declared = 0;
        for (let k = 0, shift = 0; k < 5; k++, shift += 7) {
          declared += (body[k]! & 0x7f) * 2 ** shift;
          if (body[k]! < 0x80) break;
        }
        expect(out.length).toBe(declared);
      },
    ),
    { numRuns: 1000 },
  );
});
