/**
 * One list/watch stream of one kind in one namespace (or all), as client-go's reflector runs it:
 * LIST (paged) fills the store, WATCH from the list's resourceVersion applies the
 * newline-delimited ADDED/MODIFIED/DELETED/BOOKMARK events; a watch that ends cleanly is
 * resumed from the last resourceVersion seen, an expired one (410 Gone) or a broken one is
 * followed by a fresh LIST. While the API server fails, the store keeps what it last held, so
 * the targets built from it stay.
 */
import type { Logger } from "../../model/index.ts";
import type { Connection } from "./connection.ts";
import { objectKey, type KubeObject } from "./objects.ts";

export type WatchEvent = "add" | "update" | "delete";

export interface ResourceWatchOptions {
  conn: Connection;
  /** e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  labelSelector: string;
  fieldSelector: string;
  logger: Logger;
  /** A change was applied to the store (after a LIST or a watch event). */
  onChange: () => void;
  onEvent: (event: WatchEvent) => void;
  /** A LIST or WATCH request failed (prometheus_sd_kubernetes_failures_total). */
  onFailure: () => void;
  /** ms before the first retry after a failure; doubled up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const PAGE_SIZE = 500;

/** The API server says the resourceVersion asked for is too old: list again. */
class ResourceExpired extends Error {}

interface WatchLine {
  type?: string;
  object?: KubeObject & { code?: number; message?: string; reason?: string };
}

export class ResourceWatcher {
  readonly store = new Map<string, KubeObject>();
  /** Whether a first LIST succeeded (until then the role has nothing to build from). */
  synced = false;
  private readonly stopping = new AbortController();

  constructor(private readonly opts: ResourceWatchOptions) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopping.abort();
  }

  private url(params: Record<string, string>): string {
    const q = new URLSearchParams();
    if (this.opts.labelSelector !== "") q.set("labelSelector", this.opts.labelSelector);
    if (this.opts.fieldSelector !== "") q.set("fieldSelector", this.opts.fieldSelector);
    for (const [k, v] of Object.entries(params)) q.set(k, v);
    return `${this.opts.conn.baseUrl}${this.opts.path}?${q}`;
  }

  private async get(url: string, signal: AbortSignal): Promise<Response> {
    const { headers, tls } = this.opts.conn.requestOptions();
    const res = await fetch(url, {
      headers: { ...headers, Accept: "application/json" },
      tls,
      signal,
      redirect: this.opts.conn.followRedirects ? "follow" : "manual",
    });
    if (res.status === 410) {
      await res.body?.cancel();
      throw new ResourceExpired(`GET ${url}: 410 Gone`);
    }
    if (!res.ok) {
      let detail = "";
      try {
        const status = (await res.json()) as { message?: string };
        if (status.message) detail = `: ${status.message}`;
      } catch {
        // Not a Kubernetes Status object; the status line says enough.
      }
      throw new Error(`GET ${url}: ${res.status} ${res.statusText}${detail}`);
    }
    return res;
  }

  private async run(): Promise<void> {
    const initial = this.opts.initialBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 30_000;
    let backoff = initial;
    let resourceVersion: string | null = null;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        if (resourceVersion === null) {
          resourceVersion = await this.list(signal);
          backoff = initial;
        }
        const started = performance.now();
        resourceVersion = await this.watch(resourceVersion, signal);
        // A watch the server ends at once must not turn into a busy loop of requests.
        const lasted = performance.now() - started;
        if (lasted < 200) await sleep(200 - lasted, signal);
      } catch (e) {
        if (signal.aborted) return;
        this.opts.onFailure();
        resourceVersion = null;
        if (e instanceof ResourceExpired) {
          this.opts.logger.info("Watch expired, listing again", { path: this.opts.path, err: e.message });
          continue;
        }
        this.opts.logger.error("Kubernetes list/watch failed; keeping the last known objects", { path: this.opts.path, err: (e as Error).message });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  /** Lists every object (page by page), replaces the store, and returns the list's resourceVersion. */
  private async list(signal: AbortSignal): Promise<string> {
    const items: KubeObject[] = [];
    let cont = "";
    let resourceVersion = "";
    do {
      const params: Record<string, string> = { limit: String(PAGE_SIZE) };
      if (cont !== "") params.continue = cont;
      const res = await this.get(this.url(params), AbortSignal.any([signal, AbortSignal.timeout(60_000)]));
      const body = (await res.json()) as { items?: KubeObject[] | null; metadata?: { resourceVersion?: string; continue?: string } };
      if (!body || typeof body !== "object") throw new Error(`GET ${this.opts.path}: the answer is not a list`);
      items.push(...(body.items ?? []));
      resourceVersion = body.metadata?.resourceVersion ?? "";
      cont = body.metadata?.continue ?? "";
    } while (cont !== "");
    const fresh = new Map<string, KubeObject>();
    for (const item of items) {
      if (!item?.metadata?.name) continue;
      fresh.set(objectKey(item.metadata), item);
    }
    for (const [key, obj] of fresh) {
      const old = this.store.get(key);
      if (!old) this.opts.onEvent("add");
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.opts.onEvent("update");
    }
    for (const key of this.store.keys()) if (!fresh.has(key)) this.opts.onEvent("delete");
    this.store.clear();
    for (const [k, v] of fresh) this.store.set(k, v);
    this.synced = true;
    this.opts.onChange();
    return resourceVersion;
  }

  /** Applies watch events until the stream ends cleanly; returns the last resourceVersion seen. */
  private async watch(resourceVersion: string, signal: AbortSignal): Promise<string> {
    // The server closes the watch after timeoutSeconds (spread, as client-go does, so that
    // many streams do not all re-connect at once); the client gives up a little later.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const url = this.url({ watch: "1", resourceVersion, allowWatchBookmarks: "true", timeoutSeconds: String(timeoutSeconds) });
    const res = await this.get(url, AbortSignal.any([signal, AbortSignal.timeout((timeoutSeconds + 30) * 1000)]));
    if (!res.body) return resourceVersion;
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line !== "") resourceVersion = this.apply(line, resourceVersion);
      }
    }
    const rest = buffered.trim();
    if (rest !== "") resourceVersion = this.apply(rest, resourceVersion);
    return resourceVersion;
  }

  private apply(line: string, resourceVersion: string): string {
    let ev: WatchLine;
    try {
      ev = JSON.parse(line) as WatchLine;
    } catch {
      throw new Error(`watch ${this.opts.path}: broken event ${JSON.stringify(line.slice(0, 80))}`);
    }
    const obj = ev.object;
    if (ev.type === "ERROR") {
      if (obj?.code === 410) throw new ResourceExpired(`watch ${this.opts.path}: ${obj.message ?? "410 Gone"}`);
      throw new Error(`watch ${this.opts.path}: ${obj?.message ?? "error event"}`);
    }
    if (!obj?.metadata) throw new Error(`watch ${this.opts.path}: event ${String(ev.type)} without an object`);
    const rv = obj.metadata.resourceVersion ?? resourceVersion;
    if (ev.type === "BOOKMARK") return rv;
    const key = objectKey(obj.metadata);
    if (ev.type === "ADDED" || ev.type === "MODIFIED") {
      this.opts.onEvent(this.store.has(key) ? "update" : "add");
      this.store.set(key, obj);
    } else if (ev.type === "DELETED") {
      this.opts.onEvent("delete");
      this.store.delete(key);
    } else {
      throw new Error(`watch ${this.opts.path}: unknown event type ${JSON.stringify(ev.type)}`);
    }
    this.opts.onChange();
    return rv;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
