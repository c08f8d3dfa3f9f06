/**
 * The serving side of the pull protocol: a member asked for some series (by hash ranges or by
 * key) pushes them to the caller in the background.
 */
import { labelsKey, type Labels } from "../../model/index.ts";
import { HashRanges } from "../ring.ts";
import type { PullRequest } from "../puller.ts";
import { labelsFromWire, type HandoffReason, type Transfers } from "../transfer.ts";
import type { HandoffContext } from "./context.ts";

export function pullHandler(ctx: HandoffContext): (req: unknown, caller: { from: string }) => Promise<{ accepted: boolean }> {
  return async (raw, caller) => {
    const req = raw as PullRequest;
    if (!req || typeof req !== "object" || typeof req.id !== "string") throw new Error("malformed pull request: no id");
    const reason: HandoffReason = req.reason === "join" || req.reason === "repair" || req.reason === "death" ? req.reason : "join";
    let filter: (l: Labels, h: number) => boolean;
    let fraction = 0;
    if (Array.isArray(req.keys)) {
      const keys = new Set(req.keys.map(String));
      filter = (l) => keys.has(labelsKey(l));
    } else {
      const ranges = HashRanges.fromWire(req.ranges);
      fraction = ranges.fraction();
      filter = (_l, h) => ranges.has(h);
    }
    const after = labelsFromWire(req.after);
    const opts: Parameters<Transfers["push"]>[0] = {
      id: req.id,
      peer: caller.from,
      peerName: ctx.name(caller.from),
      reason,
      filter,
      ringFraction: fraction,
      cancelled: () => ctx.stopped,
    };
    if (after) opts.after = after;
    if (typeof req.mint === "number") opts.mint = req.mint;
    if (typeof req.maxt === "number") opts.maxt = req.maxt;
    // Runs in the background; the caller watches its progress through the batches it receives.
    ctx.transfers.push(opts).catch((err: unknown) => ctx.logger.warn("serving a pull failed", { peer: opts.peerName, err }));
    return { accepted: true };
  };
}
