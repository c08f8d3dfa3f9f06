/**
 * The versions of the select protocol and how a member is asked over them. /2 streams series as
 * binary select frames (select_frame.ts); /1 as CBOR batches (batch.ts). Both are answered, so a
 * cluster in a rolling upgrade keeps reading: a member that does not speak /2 yet is asked over
 * /1, and asked over /2 again a while later (it may have been upgraded and restarted since).
 */
import type { Series } from "../model/index.ts";
import { decodeBatch, type WireBatch } from "./batch.ts";
import type { Rpc } from "./rpc.ts";
import { decodeSelectFrame } from "./select_frame.ts";

export const SELECT_PROTOCOL_V1 = "/shoal/select/1";
export const SELECT_PROTOCOL_V2 = "/shoal/select/2";
/** The newest version, the one a member asks first. */
export const SELECT_PROTOCOL = SELECT_PROTOCOL_V2;

/** How long a member that refused /2 is asked over /1 before /2 is tried again. */
const OLD_PROTOCOL_RECHECK_MS = 60_000;

export interface MemberAnswer {
  /** The final answer of the exchange (the CBOR value after the streamed parts). */
  final: unknown;
  /** Series streamed before it, decoded; empty for label requests. */
  series: Series[];
  samples: number;
  /** Bytes of every frame received. */
  bytes: number;
  protocol: string;
}

export class SelectWire {
  /** Members that refused /2, until when they are asked over /1. */
  private readonly oldUntil = new Map<string, number>();

  constructor(private readonly rpc: Rpc) {}

  /** Sends one select-protocol request to a member and decodes what it streams back. */
  async call(peer: string, req: unknown, timeoutMs: number): Promise<MemberAnswer> {
    const until = this.oldUntil.get(peer);
    if (until === undefined || until < Date.now()) {
      try {
        return await this.exchange(peer, SELECT_PROTOCOL_V2, req, timeoutMs);
      } catch (err) {
        if (!isUnsupportedProtocol(err)) throw err;
        this.oldUntil.set(peer, Date.now() + OLD_PROTOCOL_RECHECK_MS);
      }
    }
    return this.exchange(peer, SELECT_PROTOCOL_V1, req, timeoutMs);
  }

  private async exchange(peer: string, protocol: string, req: unknown, timeoutMs: number): Promise<MemberAnswer> {
    const series: Series[] = [];
    let samples = 0;
    let bytes = 0;
    // Parts are decoded as they arrive, so decoding overlaps with the member still sending.
    const final = await this.rpc.call(peer, protocol, req, timeoutMs, (part, frameBytes) => {
      bytes += frameBytes;
      if (part instanceof Uint8Array) {
        const f = decodeSelectFrame(part);
        for (const s of f.series) series.push(s);
        samples += f.samples;
        return;
      }
      for (const s of decodeBatch((part as { b: WireBatch }).b)) {
        series.push(s);
        samples += s.timestamps.length;
      }
    });
    return { final, series, samples, bytes, protocol };
  }
}

/** libp2p's answer when the peer has no handler for any protocol offered. */
function isUnsupportedProtocol(err: unknown): boolean {
  return err instanceof Error && err.name === "UnsupportedProtocolError";
}
