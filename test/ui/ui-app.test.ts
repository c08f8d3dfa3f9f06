/** The UI sub-app over HTTP: hashed assets cached forever, index.html revalidated, SPA routes, gzip. */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { memberUrl } from "../../src/model/index.ts";
import { createUiApp, UI_ROUTES } from "../../src/api/ui.ts";

// Bundles web/ in memory, exactly as `bun src/cli.ts` does.
const app = new Hono();
app.route("/", createUiApp());
app.get("/api/v1/query", (c) => c.json({ status: "success" }));

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return app.request(path, { headers });
}

describe("UI sub-app", () => {
  test("index.html at / and every client route, not cached", async () => {
    for (const route of UI_ROUTES) {
      const res = await get(route);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(await res.text()).toContain('<main id="app">');
    }
    expect((await get("/targets/")).status).toBe(200);
  });

  test("assets are content-hashed, immutable and gzip-compressed", async () => {
    const html = await (await get("/")).text();
    const urls = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(urls.some((u) => /\/assets\/[\w.-]+-[a-z0-9]{6,}\.js$/.test(u))).toBe(true);
    expect(urls.some((u) => /\/assets\/[\w.-]+-[a-z0-9]{6,}\.css$/.test(u))).toBe(true);
    // Chunks the entry imports on demand (the query page) are served the same way; the entry
    // names them relative to itself, so they resolve under any route prefix.
    const entryUrl = urls.find((u) => u.endsWith(".js"))!;
    const entry = await (await get(entryUrl)).text();
    const chunks = [...entry.matchAll(/"(\.\/[\w.-]+\.js)"/g)].map((m) => new URL(m[1]!, `http://ui${entryUrl}`).pathname).filter((u) => !urls.includes(u));
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    for (const u of [...urls, ...chunks]) {
      const plain = await get(u);
      expect(plain.status).toBe(200);
      expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      const body = new Uint8Array(await plain.arrayBuffer());
      const gz = await get(u, { "Accept-Encoding": "gzip, br" });
      expect(gz.headers.get("content-encoding")).toBe("gzip");
      const packed = new Uint8Array(await gz.arrayBuffer());
      expect(packed.length).toBeLessThan(body.length);
      expect(Bun.gunzipSync(packed)).toEqual(body);
      const etag = plain.headers.get("etag")!;
      expect((await get(u, { "If-None-Match": etag })).status).toBe(304);
    }
  });

  test("claims only its own paths", async () => {
    expect((await get("/assets/nope-12345678.js")).status).toBe(404);
    expect((await get("/api/v1/query")).status).toBe(200);
    expect(await (await get("/api/v1/query")).json()).toEqual({ status: "success" });
    expect((await get("/metrics")).status).toBe(404);
    expect((await get("/no-such-page")).status).toBe(404);
  });
});

test("members are reached at their announced address, wildcard hosts on loopback", () => {
  expect(memberUrl("10.0.0.5:9090")).toBe("http://10.0.0.5:9090");
  expect(memberUrl("0.0.0.0:9090")).toBe("http://127.0.0.1:9090");
  expect(memberUrl(":9090")).toBe("http://127.0.0.1:9090");
  expect(memberUrl("[::]:9090")).toBe("http://[::1]:9090");
  expect(memberUrl(":::9090")).toBe("http://[::1]:9090");
  expect(memberUrl("[fd00::1]:9090")).toBe("http://[fd00::1]:9090");
  expect(memberUrl("http://node-b:9090/")).toBe("http://node-b:9090");
});
