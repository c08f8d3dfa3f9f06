/**
 * From a remote-write request body to decoded samples: snappy, then the protobuf message of the
 * protocol version the sender named (1.0 WriteRequest or 2.0 io.prometheus.write.v2.Request),
 * with the HTTP status and message for a body that cannot be decoded. Shared by the inline path
 * and the decoding workers (write_worker.ts).
 */
import { decodeWriteRequest, type DecodedWrite, type LabelsCache, WriteDecodeError } from "./write_decode.ts";
import { decodeWriteRequestV2 } from "./write_decode_v2.ts";
import { snappyDecodedLength, uncompressBlock } from "./snappy_block.ts";

/** The remote-write protocol version of a request, from its Content-Type's `proto` parameter. */
export type WriteProtocol = 1 | 2;

export interface WriteOutcome {
  status: number;
  message: string;
}

/** Decodes a snappy-compressed request, or says why not (400, or 413 when too large). */
export function decodeBody(body: Uint8Array, maxDecodedBytes: number, cache?: LabelsCache, protocol: WriteProtocol = 1): DecodedWrite | WriteOutcome {
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
    return protocol === 2 ? decodeWriteRequestV2(raw, cache) : decodeWriteRequest(raw, cache);
  } catch (e) {
    if (e instanceof WriteDecodeError) {
      return { status: 400, message: `bad ${protocol === 2 ? "io.prometheus.write.v2.Request" : "WriteRequest"} protobuf: ${e.message}` };
    }
    throw e;
  }
}

export function isOutcome(x: DecodedWrite | WriteOutcome): x is WriteOutcome {
  return (x as WriteOutcome).status !== undefined;
}
