/**
 * The cluster status as the page draws it, read from /api/v1/status/cluster. The reader is
 * tolerant about field names (seconds or milliseconds, counts or token lists) so that the page
 * keeps working while the status grows new fields.
 */
export interface MemberView {
  id: string;
  name: string;
  /** Ring state: joining, active, leaving. */
  state: string;
  /** Liveness from heartbeats: alive, suspect, dead (null when the status does not say). */
  health: string | null;
  self: boolean;
  addresses: string[];
  httpAddress: string | null;
  /** Seconds since the last heartbeat was received; 0 for this node; null when unknown. */
  heartbeatAge: number | null;
  tokenCount: number | null;
  /** Ring positions of this member's tokens (32-bit), when the status lists them. */
  tokens: number[] | null;
  /** Fraction (0..1) of the hash ring this member owns as primary. */
  ringShare: number | null;
  /** Fraction of the hash ring this member holds as one of the R replicas. */
  replicaShare: number | null;
  /** Bytes and batches queued here for replicas that could not be reached (hinted handoff). */
  handoffBacklogBytes: number | null;
  handoffBacklogBatches: number | null;
  /** Transfer of data after a membership change: 0..1 done, with a description. */
  handoffProgress: number | null;
  handoffDescription: string | null;
  /** Load figures the member announces in its heartbeat (memory, samples appended, ...). */
  load: Record<string, number>;
  raw: Record<string, unknown>;
}

export interface TransferView {
  label: string;
  state: string | null;
  /** 0..1 when the transfer reports how far it is. */
  progress: number | null;
  detail: string;
}

export interface ClusterView {
  self: string | null;
  name: string | null;
  replicationFactor: number | null;
  configuredReplicationFactor: number | null;
  writeQuorum: number | null;
  members: MemberView[];
  /** Data transfers after membership changes (join pulls, leave pushes, re-replication, repairs). */
  transfers: TransferView[];
  /** Replication health: how much of the ring has fewer live replicas than wanted. */
  replication: { healthy: boolean; text: string } | null;
  raw: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

function num(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null;
}

function strings(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
  if (typeof v === "string" && v !== "") return [v];
  return [];
}

/** Seconds since a heartbeat, from any of: *AgeSeconds, *AgeMs, or a timestamp (ISO or ms). */
function heartbeatAge(m: Obj, now: number): number | null {
  const secs = num(pick(m, "heartbeatAgeSeconds", "heartbeatAge", "lastHeartbeatAgeSeconds", "ageSeconds"));
  if (secs !== null) return secs;
  const ms = num(pick(m, "heartbeatAgeMs", "lastHeartbeatAgeMs", "ageMs"));
  if (ms !== null) return ms / 1000;
  const at = pick(m, "lastHeartbeat", "lastHeartbeatAt", "lastSeen", "heartbeatAt");
  if (typeof at === "string") {
    const t = Date.parse(at);
    return Number.isNaN(t) ? null : Math.max(0, (now - t) / 1000);
  }
  const atMs = num(at);
  if (atMs !== null) return Math.max(0, (now - (atMs < 1e11 ? atMs * 1000 : atMs)) / 1000);
  return null;
}

function readHandoff(m: Obj): Pick<MemberView, "handoffBacklogBytes" | "handoffBacklogBatches" | "handoffProgress" | "handoffDescription"> {
  const hinted = pick(m, "hintedHandoff", "hints", "handoffBacklog", "backlog");
  let bytes: number | null = null;
  let batches: number | null = null;
  if (isObj(hinted)) {
    bytes = num(pick(hinted, "bytes", "pendingBytes", "queuedBytes", "backlogBytes"));
    batches = num(pick(hinted, "batches", "pendingBatches", "queuedBatches", "entries", "count"));
  } else {
    batches = num(hinted);
  }
  bytes ??= num(pick(m, "hintedHandoffBytes", "handoffBacklogBytes"));
  batches ??= num(pick(m, "hintedHandoffBatches", "handoffBacklogBatches"));
  const transfer = pick(m, "handoff", "transfer", "handoffProgress");
  let progress: number | null = null;
  let description: string | null = null;
  if (isObj(transfer)) {
    progress = num(pick(transfer, "progress", "fraction", "ratio"));
    const done = num(pick(transfer, "done", "doneSeries", "transferred", "sentSeries"));
    const total = num(pick(transfer, "total", "totalSeries"));
    if (progress === null && done !== null && total !== null && total > 0) progress = done / total;
    description = str(pick(transfer, "state", "phase", "description"));
    if (done !== null && total !== null) description = `${description ?? "transferred"} ${done}/${total}`;
  } else {
    progress = num(transfer);
  }
  if (progress !== null && progress > 1) progress /= 100;
  return { handoffBacklogBytes: bytes, handoffBacklogBatches: batches, handoffProgress: progress, handoffDescription: description };
}

export function readClusterStatus(data: unknown, now = Date.now()): ClusterView {
  const d: Obj = isObj(data) ? data : {};
  const selfId = str(pick(d, "self", "selfId", "nodeId", "localNode", "id"));
  const rawMembers = pick(d, "members", "nodes", "peers");
  const list: Obj[] = Array.isArray(rawMembers) ? rawMembers.filter(isObj) : isObj(rawMembers) ? Object.entries(rawMembers).map(([id, m]) => ({ id, ...(isObj(m) ? m : {}) })) : [];
  const members = list.map((m): MemberView => {
    const id = str(pick(m, "id", "nodeId", "peerId")) ?? str(m.name) ?? "?";
    const name = str(pick(m, "name", "nodeName")) ?? id;
    const tokensRaw = m.tokens;
    const tokens = Array.isArray(tokensRaw) ? tokensRaw.map(Number).filter(Number.isFinite) : null;
    const tokenCount = tokens ? tokens.length : num(pick(m, "tokens", "tokenCount", "numTokens"));
    let share = num(pick(m, "ringShare", "ownership", "share", "ringOwnership"));
    if (share !== null && share > 1) share /= 100;
    return {
      id,
      name,
      state: (str(pick(m, "state", "status")) ?? "unknown").toLowerCase(),
      health: str(pick(m, "health", "liveness"))?.toLowerCase() ?? null,
      self: m.self === true || m.local === true || (selfId !== null && (id === selfId || name === selfId)),
      addresses: strings(pick(m, "addresses", "addrs", "multiaddrs", "address")),
      httpAddress: str(pick(m, "httpAddress", "http", "apiAddress", "httpAddr")),
      heartbeatAge: heartbeatAge(m, now),
      tokenCount,
      tokens,
      ringShare: share,
      replicaShare: num(pick(m, "replicaShare", "replicaOwnership")),
      ...readHandoff(m),
      load: readLoad(m.load),
      raw: m,
    };
  });
  // Without explicit shares, a member's share is its part of the ring between tokens.
  if (members.some((m) => m.ringShare === null) && members.every((m) => m.tokens !== null)) {
    const shares = sharesFromTokens(members.map((m) => m.tokens!));
    members.forEach((m, i) => (m.ringShare ??= shares[i]!));
  }
  return {
    self: selfId ?? members.find((m) => m.self)?.id ?? null,
    name: str(pick(d, "clusterName", "name", "cluster")),
    replicationFactor: num(pick(d, "replicationFactor", "replication_factor", "rf")),
    configuredReplicationFactor: num(pick(d, "configuredReplicationFactor")),
    writeQuorum: num(pick(d, "writeQuorum", "quorum")),
    members,
    replication: readReplication(d),
    transfers: readTransfers(d, members),
    raw: d,
  };
}

function readReplication(d: Obj): ClusterView["replication"] {
  const r = pick(d, "replication", "replicationHealth");
  if (typeof r === "string") return { healthy: r === "ok" || r === "healthy", text: r };
  if (!isObj(r)) return null;
  const pct = (f: number) => `${(f * 100).toFixed(f > 0 && f < 0.001 ? 3 : 1)}%`;
  const full = num(pick(r, "fullyReplicatedFraction", "fullyReplicated"));
  const under = num(pick(r, "underReplicatedFraction"));
  const unavailable = num(pick(r, "unavailableFraction"));
  const underRanges = num(pick(r, "underReplicatedRanges", "underReplicated"));
  const unavailableRanges = num(pick(r, "unavailableRanges", "unavailable"));
  const healthy =
    typeof r.healthy === "boolean" ? r.healthy : !(under ?? underRanges ?? 0) && !(unavailable ?? unavailableRanges ?? 0);
  const parts: string[] = [];
  if (full !== null) parts.push(`${pct(full)} of the ring fully replicated`);
  if (under) parts.push(`${pct(under)} under-replicated`);
  if (underRanges) parts.push(`${underRanges} under-replicated range(s)`);
  if (unavailable) parts.push(`${pct(unavailable)} without a live replica`);
  if (unavailableRanges) parts.push(`${unavailableRanges} range(s) without a live replica`);
  const text = str(pick(r, "message", "text"));
  if (text) parts.push(text);
  return { healthy, text: parts.length > 0 ? parts.join(" · ") : healthy ? "healthy" : "degraded" };
}

/** Each member's fraction of the 32-bit ring: the arcs ending at its tokens. */
export function sharesFromTokens(tokenLists: number[][]): number[] {
  const all: { t: number; m: number }[] = [];
  tokenLists.forEach((list, m) => list.forEach((t) => all.push({ t, m })));
  all.sort((a, b) => a.t - b.t);
  const shares = tokenLists.map(() => 0);
  const RING = 2 ** 32;
  for (let i = 0; i < all.length; i++) {
    const prev = i === 0 ? all[all.length - 1]!.t - RING : all[i - 1]!.t;
    shares[all[i]!.m]! += (all[i]!.t - prev) / RING;
  }
  return shares;
}

function readLoad(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "number" && Number.isFinite(x)) out[k] = x;
  return out;
}

/**
 * Transfers from the status's handoff part, whatever its exact form: a list of transfers, or an
 * object holding such a list, or one summary object. Names of peers are mapped to member names.
 */
function readTransfers(d: Obj, members: MemberView[]): TransferView[] {
  const root = pick(d, "handoff", "handoffs", "transfers");
  let list: Obj[] = [];
  if (Array.isArray(root)) list = root.filter(isObj);
  else if (isObj(root)) {
    const inner = pick(root, "transfers", "active", "inProgress", "running");
    list = Array.isArray(inner) ? inner.filter(isObj) : Object.keys(root).length > 0 ? [root] : [];
  }
  const nameOf = (v: unknown): string | null => {
    const id = str(v);
    if (id === null) return null;
    return members.find((m) => m.id === id)?.name ?? id;
  };
  return list.map((t) => {
    const from = nameOf(pick(t, "from", "source", "sender"));
    const to = nameOf(pick(t, "to", "target", "receiver", "peer"));
    const kind = str(pick(t, "kind", "type", "reason", "direction"));
    const label = [kind, from !== null || to !== null ? `${from ?? "?"} → ${to ?? "?"}` : null].filter(Boolean).join(" ") || "transfer";
    let progress = num(pick(t, "progress", "fraction", "ratio"));
    if (progress === null) {
      for (const unit of ["Series", "Bytes", "Samples", "Ranges", ""]) {
        const done = num(pick(t, `done${unit}`, `sent${unit}`, `moved${unit}`, `transferred${unit}`, `received${unit}`));
        const total = num(pick(t, `total${unit}`));
        if (done !== null && total !== null && total > 0) {
          progress = Math.min(1, done / total);
          break;
        }
      }
    }
    if (progress !== null && progress > 1) progress /= 100;
    const skip = new Set(["from", "source", "sender", "to", "target", "receiver", "peer", "kind", "type", "reason", "direction", "progress", "fraction", "ratio", "state", "status", "phase"]);
    const detail = Object.entries(t)
      .filter(([k, v]) => !skip.has(k) && (typeof v === "number" || typeof v === "string"))
      .map(([k, v]) => `${k} ${typeof v === "number" ? v.toLocaleString() : v}`)
      .join(" · ");
    return { label, state: str(pick(t, "state", "status", "phase")), progress, detail };
  });
}
