/**
 * From a remote-write request body to decoded samples: snappy, then the WriteRequest protobuf,
 * with the HTTP status and message for a body that cannot be decoded. Shared by the inline path
 * and the decoding workers (write_worker.ts).
 */
import { decodeWriteRequest, type DecodedWrite, type LabelsCache, WriteDecodeError } from "./write_decode.ts";
import { snappyDecodedLength, uncompressBlock } from "./snappy_block.ts";

export interface WriteOutcome {
  status: number;
  message: string;
}

/** Decodes a snappy-compressed WriteRequest, or says why not (400, or 413 when too large). */
export function decodeBody(body: Uint8Array, maxDecodedBytes: number, cache?: LabelsCache): DecodedWrite | WriteOutcome {
  const declared = snappyDecodedLength(body);
  if (declared < 0) return { status: 400, message: "snappy: corrupt input (bad length preamble)" };
  if (declared > maxDecodedBytes) {
    return { status: 413, message: `decompressed payload of ${declared} bytes exceeds the limit of ${maxDecodedBytes} bytes` };
  }
  let raw: Uint8Array;
  try {
    raw = uncompressBlock(body, maxDecodedBytes);
  } catch (e) {
    return { status: 400, message: `snappy: corrupt input: ${(e as Error).message}` };
  }
  try {
    return decodeWriteRequest(raw, cache);
  } catch (e) {
    if (e instanceof WriteDecodeError) return { status: 400, message: `bad WriteRequest protobuf: ${e.message}` };
    throw e;
  }
}

export function isOutcome(x: DecodedWrite | WriteOutcome): x is WriteOutcome {
  return (x as WriteOutcome).status !== undefined;
}
