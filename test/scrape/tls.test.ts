/** tls_config against a real HTTPS endpoint with a throwaway self-signed certificate. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { labelsFromRecord, nopLogger } from "../../src/model/index.ts";
import { ExpositionParser } from "../../src/scrape/exposition.ts";
import { ScrapeLoop } from "../../src/scrape/loop.ts";
import { buildTargets } from "../../src/scrape/targets.ts";
import { openTempDB, type TempDB } from "./helpers.ts";
import { tempDir } from "../support/index.ts";

const openssl = Bun.which("openssl");
let dir = "";
let server: ReturnType<typeof Bun.serve> | null = null;
let t: TempDB;

beforeAll(async () => {
  if (!openssl) return;
  dir = tempDir("tls");
  const gen = Bun.spawnSync([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=shoal-test", "-addext", "subjectAltName=DNS:shoal-test,IP:127.0.0.1"]);
  if (gen.exitCode !== 0) throw new Error(gen.stderr.toString());
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") },
    fetch: () => new Response("secure 1\n", { headers: { "content-type": "text/plain" } }),
  });
  t = await openTempDB();
});
afterAll(async () => {
  server?.stop(true);
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function scrape(tls: string): Promise<string> {
  const cfg = parseConfig(`scrape_configs:\n  - job_name: tls\n    scheme: https\n    tls_config: ${tls}\n    static_configs:\n      - targets: ["127.0.0.1:${server!.port}"]\n`, join(dir, "c.yml")).scrapeConfigs[0]!;
  const spec = buildTargets([{ source: "0", targets: [labelsFromRecord({ __address__: `127.0.0.1:${server!.port}` })], labels: [] }], cfg).active[0]!;
  const loop = new ScrapeLoop({ target: spec, config: cfg, appendable: t.db, parser: new ExpositionParser(), logger: nopLogger, offset: 0 });
  await loop.scrapeOnce();
  return loop.lastError;
}

test.skipIf(!openssl)("https targets: ca_file, insecure_skip_verify, server_name", async () => {
  expect(await scrape("{ca_file: cert.pem}")).toBe("");
  expect(await scrape("{insecure_skip_verify: true}")).toBe("");
  const untrusted = await scrape("{}");
  expect(untrusted).toStartWith(`Get "https://127.0.0.1:${server!.port}/metrics": `);
  expect(untrusted.toLowerCase()).toContain("certificate");
  expect(await scrape("{ca_file: cert.pem, server_name: shoal-test}")).toBe("");
  expect(await scrape("{ca_file: cert.pem, server_name: other-name}")).not.toBe("");
});
