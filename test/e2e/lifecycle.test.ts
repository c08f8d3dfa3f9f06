/**
 * The lifecycle endpoints (/-/quit, /-/reload, POST /api/v1/cluster/leave) through real nodes:
 * off unless --web.enable-lifecycle (403, the node keeps running; SIGHUP and SIGTERM still
 * work), on with it, and never reachable from another site's page in a real browser.
 * `shoal cluster leave` against a node without the flag signals it when it runs here, and
 * otherwise says what to enable.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { launchBrowser } from "../ui/harness.ts";
import { BUN, waitFor, REPO_ROOT, run, startShoal, tempDir, type ShoalNode } from "../support/index.ts";

const started: ShoalNode[] = [];
afterAll(async () => {
  await Promise.all(started.map((n) => n.stop("SIGKILL")));
});

async function node(args: string[] = []): Promise<ShoalNode> {
  const n = await startShoal({ args: ["--log.level=info", ...args] });
  started.push(n);
  return n;
}

async function healthy(n: ShoalNode): Promise<boolean> {
  return (await fetch(`${n.url}/-/healthy`)).status === 200 && n.proc.exitCode === null;
}

function configFile(site: string): string {
  const path = join(tempDir("lifecycle-cfg"), "shoal.yml");
  writeFileSync(path, `global:\n  external_labels:\n    site: ${site}\nscrape_configs: []\n`);
  return path;
}

async function configYaml(n: ShoalNode): Promise<string> {
  return ((await (await fetch(`${n.url}/api/v1/status/config`)).json()) as { data: { yaml: string } }).data.yaml;
}

describe("without --web.enable-lifecycle", () => {
  test("quit, reload and cluster leave answer 403 and the node stays up; SIGHUP still reloads", async () => {
    const cfg = configFile("one");
    const n = await node([`--config.file=${cfg}`]);
    for (const [method, path] of [
      ["POST", "/-/quit"],
      ["PUT", "/-/quit"],
      ["POST", "/-/reload"],
      ["PUT", "/-/reload"],
      ["POST", "/api/v1/cluster/leave"],
    ] as const) {
      const r = await fetch(`${n.url}${path}`, { method });
      expect(`${method} ${path} ${r.status} ${(await r.text()).trim()}`).toBe(`${method} ${path} 403 Lifecycle API is not enabled.`);
    }
    expect((await fetch(`${n.url}/-/quit`)).status).toBe(405);
    await Bun.sleep(300);
    expect(await healthy(n)).toBe(true);
    expect(n.output()).not.toContain("Stopping the HTTP server");

    // The signals are the operator's own door and stay open.
    writeFileSync(cfg, "global:\n  external_labels:\n    site: two\nscrape_configs: []\n");
    n.proc.kill("SIGHUP");
    await waitFor("SIGHUP reload", async () => (await configYaml(n)).includes("site: two"), { timeoutMs: 10_000 });
    expect((await fetch(`${n.url}/api/v1/status/flags`)).ok).toBe(true);
    const flags = ((await (await fetch(`${n.url}/api/v1/status/flags`)).json()) as { data: Record<string, string> }).data;
    expect(flags["web.enable-lifecycle"]).toBe("false");
  }, 30_000);

  test("`shoal cluster leave` signals a node that runs on this machine and says so", async () => {
    const n = await node();
    const r = await run([BUN, join(REPO_ROOT, "src/cli.ts"), "cluster", "leave", `--url=${n.url}`], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("lifecycle API is not enabled (--web.enable-lifecycle)");
    expect(r.stdout).toContain(`process ${n.proc.pid}`);
    expect(r.stdout).toContain("sent it SIGTERM");
    expect(r.stdout).toContain("left the cluster; the node has exited");
    expect(await n.proc.exited).toBe(0);
    expect(n.output()).toContain('signal=SIGTERM');
    expect(n.output()).toContain("Closing storage");
  }, 40_000);

  test("`shoal cluster leave` against a node elsewhere says which flag to enable", async () => {
    // A node on another machine, as far as this command can tell: it answers the leave with the
    // lifecycle 403 but the lock file of the data directory it reports does not exist here.
    const remote = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/api/v1/cluster/leave") return new Response("Lifecycle API is not enabled.\n", { status: 403 });
        if (path === "/api/v1/status/flags") return Response.json({ status: "success", data: { "storage.tsdb.path": "/nonexistent/shoal-data" } });
        if (path === "/api/v1/status/runtimeinfo") return Response.json({ status: "success", data: { CWD: "/" } });
        return new Response("404 page not found\n", { status: 404 });
      },
    });
    try {
      const r = await run([BUN, join(REPO_ROOT, "src/cli.ts"), "cluster", "leave", `--url=http://127.0.0.1:${remote.port}`], { timeoutMs: 30_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("the node's lifecycle API is not enabled, so it cannot be asked to leave over HTTP");
      expect(r.stderr).toContain("Restart it with --web.enable-lifecycle");
      expect(r.stderr).toContain("/nonexistent/shoal-data/lock");
    } finally {
      remote.stop(true);
    }
  }, 30_000);
});

describe("with --web.enable-lifecycle", () => {
  test("reload applies a new config and quit stops the node", async () => {
    const cfg = configFile("one");
    const n = await node([`--config.file=${cfg}`, "--web.enable-lifecycle"]);
    writeFileSync(cfg, "global:\n  external_labels:\n    site: two\nscrape_configs: []\n");
    const reload = await fetch(`${n.url}/-/reload`, { method: "POST" });
    expect(reload.status).toBe(200);
    expect(await configYaml(n)).toContain("site: two");
    // A same-origin browser request (Origin = the node itself) is allowed.
    const quit = await fetch(`${n.url}/-/quit`, { method: "PUT", headers: { Origin: n.url, "Sec-Fetch-Site": "same-origin" } });
    expect(quit.status).toBe(200);
    expect(await n.proc.exited).toBe(0);
  }, 30_000);

  test("requests marked cross-site are refused and the node stays up", async () => {
    const n = await node(["--web.enable-lifecycle"]);
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    const cases: Record<string, string>[] = [
      { ...form, Origin: "http://evil.example" },
      { ...form, Origin: "null" },
      { ...form, "Sec-Fetch-Site": "cross-site" },
      { ...form, "Sec-Fetch-Site": "same-site", Origin: `http://127.0.0.1:${n.port + 1}` },
    ];
    for (const headers of cases) {
      for (const path of ["/-/quit", "/-/reload", "/api/v1/cluster/leave"]) {
        const r = await fetch(`${n.url}${path}`, { method: "POST", headers, body: "x=1" });
        expect(`${path} ${JSON.stringify(headers)} ${r.status}`).toBe(`${path} ${JSON.stringify(headers)} 403`);
        expect(await r.text()).toContain("Cross-site requests to the lifecycle API are refused");
      }
    }
    await Bun.sleep(300);
    expect(await healthy(n)).toBe(true);
  }, 30_000);

  test("a form on another site's page cannot quit the node (real browser)", async () => {
    const n = await node(["--web.enable-lifecycle"]);
    // The attacker's page: a form that posts itself to the node's /-/quit on load.
    const evil = Bun.serve({
      hostname: "localhost",
      port: 0,
      fetch: () =>
        new Response(
          `<!doctype html><form id="f" method="POST" action="${n.url}/-/quit"><input name="x" value="1"></form><script>document.getElementById("f").submit()</script>`,
          { headers: { "Content-Type": "text/html" } },
        ),
    });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const answered = page.waitForResponse((res) => res.url().endsWith("/-/quit"), { timeout: 15_000 });
      await page.goto(`http://localhost:${evil.port}/`);
      const res = await answered;
      expect(res.status()).toBe(403);
      expect(await res.text()).toContain("Cross-site requests to the lifecycle API are refused");
      await Bun.sleep(500);
      expect(await healthy(n)).toBe(true);
    } finally {
      await browser.close();
      evil.stop(true);
    }
  }, 60_000);
});
