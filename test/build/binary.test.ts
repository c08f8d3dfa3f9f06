/**
 * The compiled binary on its own: `scripts/build.ts` builds it into a temp dir, and every check
 * runs it from another temp dir with an empty environment (no PATH, no node_modules near it), as
 * on a machine that has neither Node nor Bun.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { servedIndexHtml } from "../../src/api/ui.ts";
import { remoteWrite, writeRequestBody } from "../e2e/remote_write_client.ts";
import { freePort, REPO_ROOT as root, removeTempDir, run, spawnProcess, tempDir, waitFor, waitHttpOk } from "../support/index.ts";

const work = tempDir("build-test");
const bin = join(work, "bin", "shoal");
const buildDir = join(work, "build");
const runDir = join(work, "run");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const hasUi = readdirSync(join(root, "web")).includes("index.html");

interface Result {
  code: number;
  out: string;
  err: string;
}

async function runBinary(args: string[], timeoutMs = 30_000): Promise<Result> {
  const r = await run([bin, ...args], { cwd: runDir, inheritEnv: false, timeoutMs });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  mkdirSync(runDir, { recursive: true });
  const built = await run([process.execPath, join(root, "scripts/build.ts"), "--outfile", bin, "--build-dir", buildDir], { timeoutMs: 240_000 });
  if (built.code !== 0) throw new Error(`build failed (exit ${built.code}):\n${built.stdout}\n${built.stderr}`);
}, 240_000);

afterAll(() => {
  removeTempDir(work);
});

describe("dist/shoal", () => {
  test("--version prints the package version with no Node, Bun or PATH around", async () => {
    const r = await runBinary(["--version"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(pkg.version);
    expect(r.out.toLowerCase()).toContain("shoal");
  });

  test("--help lists the flags", async () => {
    const r = await runBinary(["--help"]);
    expect(r.code).toBe(0);
    const text = r.out + r.err;
    for (const flag of ["--config.file", "--storage.tsdb.path", "--web.listen-address", "--storage.tsdb.retention.time", "--log.level"]) {
      expect(text).toContain(flag);
    }
  });

  test("an unknown flag fails with a message naming it", async () => {
    const r = await runBinary(["--no-such-flag=1"]);
    expect(r.code).not.toBe(0);
    expect(r.out + r.err).toContain("no-such-flag");
  });

  test(
    "starts a node: ready, own metrics, PromQL, remote write on the decoding worker, the embedded UI; SIGTERM stops it cleanly",
    async () => {
      const port = freePort();
      const data = join(work, "data");
      const node = spawnProcess("shoal", [
          bin,
          `--web.listen-address=127.0.0.1:${port}`,
          `--storage.tsdb.path=${data}`,
          "--log.level=warn",
          // Its own cluster of one: no mDNS, and no fixed cluster port shared with other tests.
          "--cluster.listen-address=127.0.0.1:0",
          "--no-cluster.mdns",
        ], { cwd: runDir, inheritEnv: false });
      const base = `http://127.0.0.1:${port}`;
      try {
        await waitHttpOk(`${base}/-/ready`, { timeoutMs: 30_000, process: node });
        expect((await fetch(`${base}/-/healthy`)).status).toBe(200);

        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toContain("# TYPE");
        expect(metrics).toMatch(/process_resident_memory_bytes|shoal_/);

        const q = (await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent("1+1")}&time=4`)).json()) as {
          status: string;
          data: { resultType: string; result: [number, string] };
        };
        expect(q.status).toBe("success");
        expect(q.data.resultType).toBe("scalar");
        expect(q.data.result).toEqual([4, "2"]);
        // Request lines up to Prometheus's (Go's) 1 MiB: a 100 KB query in a GET URL is served, not refused with 431.
        const long = await fetch(`${base}/api/v1/query?time=4&query=${encodeURIComponent(`vector(3) or absent(x{a="${"z".repeat(100_000)}"})`)}`);
        expect(long.status).toBe(200);

        // Remote write: the decoding worker is compiled into the binary too (scripts/build.ts
        // adds its entry); concurrent writes reach it once it has started.
        const t0 = Date.now() - 60_000;
        let round = 0;
        await waitFor(
          "a remote write decoded on the worker",
          async () => {
            round++;
            const statuses = await Promise.all(
              Array.from({ length: 4 }, async (_, k) => {
                const body = writeRequestBody([{ labels: { __name__: "bin_rw", k: String(k) }, samples: [[t0 + round, k]] }]);
                return (await remoteWrite(base, body)).status;
              }),
            );
            expect(statuses).toEqual([204, 204, 204, 204]);
            const m = /^shoal_remote_write_decoded_requests_total\{thread="worker"\} (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text());
            return Number(m?.[1] ?? 0) > 0;
          },
          { timeoutMs: 20_000, processes: [node] },
        );
        const rw = (await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent("count(bin_rw)")}`)).json()) as { data: { result: { value: [number, string] }[] } };
        expect(rw.data.result[0]?.value[1]).toBe("4");

        if (hasUi) {
          // The UI comes out of the binary: index.html from the build (asset URLs made absolute,
          // prefix and title in the head), and every asset it names.
          const built = servedIndexHtml(readFileSync(join(buildDir, "web", "index.html"), "utf8"), "", "Shoal");
          const res = await fetch(`${base}/`);
          expect(res.status).toBe(200);
          expect(res.headers.get("content-type")).toContain("text/html");
          const html = await res.text();
          expect(html).toBe(built);
          const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
          expect(assets.length).toBeGreaterThan(0);
          for (const a of assets) {
            const r = await fetch(base + a);
            expect(r.status).toBe(200);
            expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(0);
          }
        }
      } finally {
        expect(await node.stop("SIGTERM", 15_000)).toBe(0);
      }
    },
    60_000,
  );

  test(
    "tsdb import then dump round-trips OpenMetrics through the binary",
    async () => {
      const data = join(work, "tsdb-data");
      const file = join(runDir, "in.om");
      const t0 = 1_700_000_000_000;
      const lines: string[] = ["# TYPE build_requests counter"];
      const expected: string[] = [];
      for (let i = 0; i < 50; i++) {
        const t = t0 + i * 15_000;
        for (const code of ["200", "500"]) {
          const v = i * (code === "200" ? 3 : 1) + 0.5;
          lines.push(`build_requests_total{code="${code}",job="x"} ${v} ${t / 1000}`);
        }
      }
      lines.push("# EOF");
      writeFileSync(file, lines.join("\n") + "\n");
      for (const code of ["200", "500"]) {
        for (let i = 0; i < 50; i++) {
          const v = i * (code === "200" ? 3 : 1) + 0.5;
          expected.push(`{__name__="build_requests_total", code="${code}", job="x"} ${v} ${t0 + i * 15_000}`);
        }
      }
      const imp = await runBinary(["tsdb", "import", file, `--storage.tsdb.path=${data}`]);
      expect(imp.err + imp.out).not.toContain("rror:");
      expect(imp.code).toBe(0);
      const dump = await runBinary(["tsdb", "dump", `--storage.tsdb.path=${data}`]);
      expect(dump.code).toBe(0);
      expect(dump.out.trim().split("\n")).toEqual(expected);
    },
    60_000,
  );
});
