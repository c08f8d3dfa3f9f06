/**
 * The request gate of the web config file, in front of every route as exporter-toolkit's handler
 * is: the rate limit (429), the configured response headers (on every answer, refusals included),
 * then HTTP basic authentication against bcrypt hashes (401 with `WWW-Authenticate: Basic`).
 * bcrypt is slow on purpose, so verified (user, hash, password) results are cached, and
 * verifications run one at a time so that a flood of wrong passwords costs one core at most.
 */
import type { WebConfig } from "../config/index.ts";

export type FetchHandler<S> = (req: Request, server: S) => Response | Promise<Response>;

/** exporter-toolkit's trick against user enumeration by timing: unknown users cost one bcrypt too. */
const UNKNOWN_USER_HASH = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
const CACHE_ENTRIES = 100;
/** bcrypt reads at most 72 bytes; a longer password is refused rather than matched by its prefix. */
const BCRYPT_MAX_PASSWORD_BYTES = 72;

class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly burst: number,
    readonly intervalMs: number,
  ) {
    this.tokens = burst;
    this.last = Date.now();
  }

  allow(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) / this.intervalMs);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function parseBasicAuth(header: string | null): { user: string; pass: string } | null {
  if (header === null) return null;
  const m = /^basic\s+(\S+)\s*$/i.exec(header);
  if (!m) return null;
  let decoded: string;
  try {
    decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  } catch {
    return null;
  }
  const i = decoded.indexOf(":");
  if (i < 0) return null;
  return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

/** As in exporter-toolkit, the configured headers are defaults that a handler's own header replaces. */
function withHeaders(res: Response, headers: Readonly<Record<string, string>>): Response {
  const names = Object.keys(headers).filter((n) => !res.headers.has(n));
  if (names.length === 0) return res;
  try {
    for (const n of names) res.headers.set(n, headers[n]!);
    return res;
  } catch {
    // Some responses carry immutable headers: copy them.
    const copy = new Headers(res.headers);
    for (const n of names) copy.set(n, headers[n]!);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: copy });
  }
}

export interface WebGate {
  wrap<S>(handler: FetchHandler<S>): FetchHandler<S>;
}

/** `config()` is called per request and returns the settings in effect (see LiveWebConfig). */
export function createWebGate(config: () => WebConfig): WebGate {
  const cache = new Map<string, boolean>();
  let bcryptQueue: Promise<unknown> = Promise.resolve();
  let bucket: TokenBucket | null = null;

  const verify = async (user: string, pass: string, users: ReadonlyMap<string, string>): Promise<boolean> => {
    const known = users.get(user);
    const hash = known ?? UNKNOWN_USER_HASH;
    const key = `${user}\0${hash}\0${new Bun.CryptoHasher("sha256").update(pass).digest("hex")}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const run = async (): Promise<boolean> => {
      const again = cache.get(key);
      if (again !== undefined) return again;
      let ok = false;
      if (Buffer.byteLength(pass) <= BCRYPT_MAX_PASSWORD_BYTES) {
        ok = await Bun.password.verify(pass, hash, "bcrypt").catch(() => false);
      }
      ok = ok && known !== undefined;
      if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(key, ok);
      return ok;
    };
    const p = bcryptQueue.then(run, run);
    bcryptQueue = p.catch(() => {});
    return p;
  };

  const limiter = (c: WebConfig): TokenBucket | null => {
    const rl = c.rateLimit;
    if (!rl) return (bucket = null);
    if (!bucket || bucket.burst !== rl.burst || bucket.intervalMs !== rl.intervalMs) bucket = new TokenBucket(rl.burst, rl.intervalMs);
    return bucket;
  };

  return {
    wrap<S>(handler: FetchHandler<S>): FetchHandler<S> {
      return async (req, server) => {
        const c = config();
        if (limiter(c)?.allow() === false) return withHeaders(new Response("Too Many Requests\n", { status: 429 }), c.headers);
        if (c.users.size > 0) {
          const creds = parseBasicAuth(req.headers.get("authorization"));
          if (!creds || !(await verify(creds.user, creds.pass, c.users))) {
            return withHeaders(new Response("Unauthorized\n", { status: 401, headers: { "WWW-Authenticate": "Basic" } }), c.headers);
          }
        }
        return withHeaders(await handler(req, server), c.headers);
      };
    },
  };
}
