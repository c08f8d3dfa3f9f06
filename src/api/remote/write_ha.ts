/**
 * HA-pair deduplication of a decoded remote-write request, as Mimir's distributor does it: the
 * cluster and replica labels are read from the request's first series (a Prometheus server
 * sends its external labels on every series); when both are there, the injected filter says
 * whether this replica is the elected one. A non-elected replica's request is answered 202 and
 * nothing of it is stored (the sender counts it as sent and moves on); an elected one's series
 * are stored without the replica label. A request without either label is stored as it is.
 */
import { getLabel, type HaReplicaFilter, type Labels } from "../../model/index.ts";
import type { WriteOutcome } from "./write_body.ts";
import type { DecodedWrite } from "./write_decode.ts";

export interface HaDedup {
  filter: HaReplicaFilter;
  /**
   * Each label set (the decoders hand out one object per series) to its copy without the
   * replica label, so storage keeps seeing one object per series.
   */
  stripped: WeakMap<Labels, Labels>;
}

export function haDedup(filter: HaReplicaFilter): HaDedup {
  return { filter, stripped: new WeakMap() };
}

function withoutLabel(labels: Labels, name: string, cache: WeakMap<Labels, Labels>): Labels {
  let out = cache.get(labels);
  if (out === undefined) {
    const i = labels.findIndex((l) => l.name === name);
    out = i < 0 ? labels : [...labels.slice(0, i), ...labels.slice(i + 1)];
    cache.set(labels, out);
  }
  return out;
}

/**
 * Null when the request is to be stored (its series rewritten in place without the replica
 * label where it was elected); the 202 outcome when another replica is elected. Throws
 * WriteUnavailableError when the election could not be asked.
 */
export async function applyHaDedup(req: DecodedWrite, ha: HaDedup): Promise<(WriteOutcome & { cluster: string }) | null> {
  const first = req.series[0];
  if (first === undefined) return null;
  const { clusterLabel, replicaLabel } = ha.filter;
  const cluster = getLabel(first, clusterLabel);
  const replica = getLabel(first, replicaLabel);
  if (cluster === "" || replica === "") return null;
  const v = await ha.filter.check(cluster, replica);
  if (!v.accept) {
    return {
      status: 202,
      cluster,
      message: `samples of replica ${JSON.stringify(replica)} of HA cluster ${JSON.stringify(cluster)} dropped: replica ${JSON.stringify(v.elected)} is elected`,
    };
  }
  const series = req.series;
  for (let s = 0; s < series.length; s++) series[s] = withoutLabel(series[s]!, replicaLabel, ha.stripped);
  return null;
}
