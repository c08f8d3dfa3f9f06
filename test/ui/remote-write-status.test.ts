/**
 * The status page's Remote write section in headless Chromium, against a real node (from source)
 * whose remote_write endpoint first fails and then takes the samples: the queue's row shows the
 * endpoint, the pending samples and the last error, then what was sent.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { removeTempDirs, startShoal, tempDir, type ShoalNode } from "../support/index.ts";
import { remoteWrite, writeRequestBody } from "../e2e/remote_write_client.ts";
import { startReceiver, type Receiver } from "../remote/receiver.ts";
import { screenshot, waitUntil } from "./checks.ts";
import { launchBrowser } from "./harness.ts";

let browser: Browser | null = null;
let node: ShoalNode | null = null;
let rx: Receiver | null = null;
afterAll(async () => {
  await browser?.close();
  await node?.stop();
  rx?.stop();
  removeTempDirs();
});

describe("status page: remote write", () => {
  test("shows each queue with its endpoint, backlog, last error and what it sent", async () => {
    rx = startReceiver();
    rx.script = Array.from({ length: 1000 }, () => ({ status: 503, body: "receiver warming up" }));
    const dir = tempDir("ui-rw");
    writeFileSync(join(dir, "shoal.yml"), `remote_write:\n  - url: ${rx.url}\n    name: archive\n    queue_config: {batch_send_deadline: 100ms, min_backoff: 50ms, max_backoff: 200ms}\n`);
    node = await startShoal({ args: [`--config.file=${join(dir, "shoal.yml")}`] });
    const now = Date.now();
    const res = await remoteWrite(node.url, writeRequestBody([{ labels: { __name__: "ui_rw", x: "1" }, samples: [[now, 1], [now + 1000, 2]] }]));
    expect(res.status).toBe(204);

    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${node.url}/status#remote-write`);
    const row = page.locator("#remote-write table.remote-write-table tbody tr").first();
    await row.waitFor();
    await waitUntil(async () => ((await row.textContent()) ?? "").includes("503"), "the failing endpoint's error", () => page.reload().then(() => undefined));
    const failing = (await row.textContent()) ?? "";
    expect(failing).toContain("archive");
    expect(failing).toContain(rx.url);
    expect(failing).toContain("receiver warming up");
    await screenshot(page, "status-remote-write-failing");

    // The endpoint recovers: nothing pending any more, two samples sent.
    rx.script = [];
    await waitUntil(
      async () => {
        const cells = await row.locator("td").allTextContents();
        return cells[3] === "0" && rx!.samples.length === 2;
      },
      "the backlog to drain",
      () => page.reload().then(() => undefined),
    );
    await screenshot(page, "status-remote-write");
  }, 90_000);
});
