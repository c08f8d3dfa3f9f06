/**
 * A test API server of ours that speaks the Kubernetes list/watch protocol over HTTP(S), as
 * kube-apiserver does for JSON clients: GET a collection (`/api/v1/pods`,
 * `/api/v1/namespaces/NS/endpoints`, `/apis/discovery.k8s.io/v1/endpointslices`, …) lists it with
 * `metadata.resourceVersion` (paged by `limit`/`continue`); `?watch=1&resourceVersion=RV` streams
 * newline-delimited `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":…}` events after RV.
 * A resourceVersion older than the server keeps answers with an ERROR event holding a 410
 * Status, as the real server does. Equality label selectors are applied; every request is kept
 * for assertions. Tests change objects with put()/remove() and break things with fail(),
 * breakWatches() and expire().
 */
export type KubeObject = { metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> } & Record<string, unknown> } & Record<string, unknown>;

interface Watch {
  collection: string;
  namespace: string;
  selector: string;
  controller: ReadableStreamDefaultController<Uint8Array>;
}

interface Event {
  rv: number;
  collection: string;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
}

export interface FakeKubeApiOptions {
  /** Requests must carry `Authorization: Bearer <token>` (or Basic auth) when set. */
  authorization?: string;
  tls?: { cert: string; key: string };
}

const COLLECTION_RE = /^(\/api\/v1|\/apis\/[^/]+\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)$/;
const encoder = new TextEncoder();

function matchesSelector(obj: KubeObject, selector: string): boolean {
  if (selector === "") return true;
  return selector.split(",").every((req) => {
    const [k, v] = req.split("=");
    return obj.metadata.labels?.[k!] === v;
  });
}

export class FakeKubeApi {
  readonly server: ReturnType<typeof Bun.serve>;
  readonly requests: URL[] = [];
  private rv = 1000;
  /** Watches from before this resourceVersion get 410 Gone. */
  private oldestRv = 0;
  private failing = false;
  private readonly collections = new Map<string, Map<string, KubeObject>>();
  private readonly events: Event[] = [];
  private readonly watches = new Set<Watch>();

  constructor(private readonly opts: FakeKubeApiOptions = {}) {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: opts.tls,
      idleTimeout: 0,
      fetch: (req) => this.handle(req),
    });
  }

  get url(): string {
    return `${this.opts.tls ? "https" : "http"}://127.0.0.1:${this.server.port}`;
  }

  /** Adds or replaces an object in a collection (e.g. "/api/v1/pods"); open watches see it. */
  put(collection: string, obj: KubeObject): void {
    const items = this.items(collection);
    const key = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    const type = items.has(key) ? "MODIFIED" : "ADDED";
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    items.set(key, stored);
    this.publish({ rv: this.rv, collection, type, object: stored });
  }

  remove(collection: string, namespace: string, name: string): void {
    const items = this.items(collection);
    const key = `${namespace}/${name}`;
    const obj = items.get(key);
    if (!obj) return;
    items.delete(key);
    const gone = structuredClone(obj);
    gone.metadata.resourceVersion = String(++this.rv);
    this.publish({ rv: this.rv, collection, type: "DELETED", object: gone });
  }

  /** While failing, every request gets a 500 and open watches are cut. */
  fail(on: boolean): void {
    this.failing = on;
    if (on) this.breakWatches();
  }

  /** Cuts every open watch stream in the middle of an event, as a dropped connection does. */
  breakWatches(): void {
    for (const w of this.watches) {
      try {
        w.controller.enqueue(encoder.encode('{"type":"MODIFIED","object":{"kind":"Po'));
        w.controller.close();
      } catch {
        // already closed
      }
    }
    this.watches.clear();
  }

  /** Forgets history: open watches get an ERROR 410 event, and any watch from an older version too. */
  expire(): void {
    this.oldestRv = this.rv + 1;
    for (const w of this.watches) {
      this.send(w, { type: "ERROR", object: this.goneStatus(0) });
      w.controller.close();
    }
    this.watches.clear();
  }

  stop(): void {
    this.breakWatches();
    this.server.stop(true);
  }

  private items(collection: string): Map<string, KubeObject> {
    let m = this.collections.get(collection);
    if (!m) this.collections.set(collection, (m = new Map()));
    return m;
  }

  private goneStatus(rv: number) {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `too old resource version: ${rv} (${this.oldestRv})`,
      reason: "Expired",
      code: 410,
    };
  }

  private send(w: Watch, event: unknown): void {
    try {
      w.controller.enqueue(encoder.encode(JSON.stringify(event) + "\n"));
    } catch {
      this.watches.delete(w);
    }
  }

  private publish(e: Event): void {
    this.events.push(e);
    for (const w of this.watches) {
      if (w.collection !== e.collection) continue;
      if (w.namespace !== "" && e.object.metadata.namespace !== w.namespace) continue;
      if (!matchesSelector(e.object, w.selector)) continue;
      this.send(w, { type: e.type, object: e.object });
    }
  }

  private handle(req: Request): Response {
    const url = new URL(req.url);
    this.requests.push(url);
    if (this.opts.authorization !== undefined && req.headers.get("authorization") !== this.opts.authorization) {
      return Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 }, { status: 401 });
    }
    if (this.failing) {
      return Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", message: "etcdserver: request timed out", code: 500 }, { status: 500 });
    }
    const m = url.pathname.match(COLLECTION_RE);
    if (!m) return Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", code: 404 }, { status: 404 });
    const collection = `${m[1]}/${m[3]}`;
    const namespace = m[2] ?? "";
    const selector = url.searchParams.get("labelSelector") ?? "";
    const visible = [...this.items(collection).values()].filter((o) => (namespace === "" || o.metadata.namespace === namespace) && matchesSelector(o, selector));
    const watch = url.searchParams.get("watch");
    if (watch !== "1" && watch !== "true") {
      const limit = Number(url.searchParams.get("limit") ?? "0");
      const from = Number(url.searchParams.get("continue") ?? "0");
      const page = limit > 0 ? visible.slice(from, from + limit) : visible;
      const more = limit > 0 && from + limit < visible.length;
      return Response.json({
        kind: "List",
        apiVersion: "v1",
        metadata: { resourceVersion: String(this.rv), ...(more ? { continue: String(from + limit) } : {}) },
        items: page,
      });
    }
    const since = Number(url.searchParams.get("resourceVersion") ?? "0");
    let watchRef: Watch | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const w: Watch = { collection, namespace, selector, controller };
        watchRef = w;
        if (since < this.oldestRv) {
          this.send(w, { type: "ERROR", object: this.goneStatus(since) });
          controller.close();
          return;
        }
        for (const e of this.events) {
          if (e.rv <= since || e.collection !== collection) continue;
          if (namespace !== "" && e.object.metadata.namespace !== namespace) continue;
          if (!matchesSelector(e.object, selector)) continue;
          this.send(w, { type: e.type, object: e.object });
        }
        this.watches.add(w);
      },
      cancel: () => {
        if (watchRef) this.watches.delete(watchRef);
      },
    });
    return new Response(stream, { headers: { "content-type": "application/json", "transfer-encoding": "chunked" } });
  }
}
