/**
 * Asking the other cluster members over their HTTP API. Work is sharded over the cluster
 * (targets scraped, rule groups evaluated by one member each), so a question about the whole
 * cluster is answered by gathering each member's own answer. Members are reached at their
 * announced address with the node's client credentials (--web.client-config.file); a member
 * that does not answer within the timeout is reported, never waited on.
 */
import { memberUrl } from "../model/index.ts";

/** The part of a cluster member's status needed to reach it. */
export interface MemberRef {
  readonly name: string;
  /** HOST:PORT (or a whole base URL) the member announces for its HTTP API. */
  readonly httpAddress: string;
  readonly self: boolean;
  readonly health?: string;
}

/** Credentials and TLS settings for calls to members, read per call (the client config reloads). */
export type MemberRequest = () => { headers: Record<string, string>; tls: NonNullable<BunFetchRequestInit["tls"]> };

/** Who the members are and how to call them. */
export interface MemberDirectory {
  members(): readonly MemberRef[];
  request?: MemberRequest;
  /** How long to wait for one member's answer; DEFAULT_MEMBER_TIMEOUT_MS when absent. */
  timeoutMs?: number;
}

/** Long enough for a loaded member, short enough that a page or Grafana panel never seems to hang. */
export const DEFAULT_MEMBER_TIMEOUT_MS = 5000;

/**
 * GETs `pathAndQuery` (e.g. `/api/v1/targets?state=active`) from a member and returns the `data`
 * of its success envelope; throws with the member's error, the HTTP status or the timeout.
 */
export async function fetchMemberData<T>(member: MemberRef, pathAndQuery: string, timeoutMs: number, request?: MemberRequest): Promise<T> {
  const r = request?.();
  const init: BunFetchRequestInit = { signal: AbortSignal.timeout(timeoutMs), ...(r ? { headers: r.headers, tls: r.tls } : {}) };
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${memberUrl(member.httpAddress)}${pathAndQuery}`, init);
    text = await res.text();
  } catch (err) {
    if (err instanceof DOMException && err.name === "TimeoutError") throw new Error(`no answer within ${timeoutMs}ms`);
    throw err;
  }
  let body: { status?: string; data?: T; error?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`HTTP ${res.status}: ${text.trim().slice(0, 200) || "not a JSON answer"}`);
  }
  if (!res.ok || body?.status !== "success" || body.data === undefined) throw new Error(body?.error ?? `HTTP ${res.status}`);
  return body.data;
}

export interface MemberAnswers<T> {
  answers: { member: MemberRef; data: T }[];
  /** Members that were asked and did not answer, with the reason. */
  failed: { member: MemberRef; error: string }[];
  /** Members the cluster considers dead: not asked. */
  dead: MemberRef[];
}

/**
 * Asks every live member at once. `local`, when given, answers for this node itself without a
 * request (the node's own view is at hand and must not depend on reaching its own address).
 */
export async function askMembers<T>(dir: MemberDirectory, pathAndQuery: string, local?: () => T): Promise<MemberAnswers<T>> {
  const out: MemberAnswers<T> = { answers: [], failed: [], dead: [] };
  const timeoutMs = dir.timeoutMs ?? DEFAULT_MEMBER_TIMEOUT_MS;
  const members = dir.members();
  await Promise.all(
    members.map(async (member): Promise<void> => {
      if (member.health === "dead") {
        out.dead.push(member);
        return;
      }
      try {
        const data = member.self && local ? local() : await fetchMemberData<T>(member, pathAndQuery, timeoutMs, dir.request);
        out.answers.push({ member, data });
      } catch (err) {
        out.failed.push({ member, error: err instanceof Error ? err.message : String(err) });
      }
    }),
  );
  // Answers arrive in any order; keep the directory's order so merges are deterministic.
  const order = new Map(members.map((m, i) => [m, i]));
  out.answers.sort((a, b) => order.get(a.member)! - order.get(b.member)!);
  out.failed.sort((a, b) => order.get(a.member)! - order.get(b.member)!);
  return out;
}
