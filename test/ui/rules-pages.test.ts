/**
 * The Alerts and Rules pages in headless Chromium against the node's real HTTP app (API + UI)
 * on real ports: three members, each knowing only the state of the groups it evaluates, one
 * member that never answers. The pages show the merged cluster view: state per rule with the
 * member evaluating it, Prometheus's state filters and "show annotations", health and errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { createApiApp, type MemberRef } from "../../src/api/server.ts";
import { createUiApp } from "../../src/api/ui.ts";
import type { RuleGroupStatus } from "../../src/model/index.ts";
import { alert, alerting, deps, group, recording } from "../api/rules_fixtures.ts";
import { screenshot, waitUntil } from "./checks.ts";
import { launchBrowser } from "./harness.ts";

const FILE = "/etc/shoal/rules/node.yml";
const recent = (agoSeconds: number) => new Date(Date.now() - agoSeconds * 1000).toISOString();

// n2 evaluates node-alerts (one firing, one pending alert), n1 evaluates quiet (nothing active)
// and records, nobody evaluates orphan.
function views(): Record<string, RuleGroupStatus[]> {
  const firing = { ...alert({ instance: "h1", severity: "page" }, "firing", recent(600)), annotations: { summary: "h1 is hot", runbook: "https://runbooks/high-load" } };
  const pending = alert({ instance: "d7" }, "pending", recent(30));
  const defs = (evaluatedBy: { alerts: string; quiet: string }) => [
    group(
      FILE,
      "node-alerts",
      [
        alerting("HighLoad", { severity: "page" }, evaluatedBy.alerts ? [firing] : [], evaluatedBy.alerts ? recent(5) : undefined),
        alerting("DiskFull", { severity: "ticket" }, evaluatedBy.alerts ? [pending] : [], evaluatedBy.alerts ? recent(5) : undefined),
      ],
      evaluatedBy.alerts,
      evaluatedBy.alerts ? recent(5) : undefined,
    ),
    group(
      FILE,
      "quiet",
      [alerting("AllGood", {}, [], evaluatedBy.quiet ? recent(3) : undefined), recording("job:up:sum", {}, evaluatedBy.quiet ? recent(3) : undefined, evaluatedBy.quiet ? "vector contains metrics with the same labelset after applying rule labels" : undefined)],
      evaluatedBy.quiet,
      evaluatedBy.quiet ? recent(3) : undefined,
    ),
    group(FILE, "orphan", [alerting("Lost", {}, [])], ""),
  ];
  return {
    n1: defs({ alerts: "", quiet: "n1" }),
    n2: defs({ alerts: "n2", quiet: "" }),
    n3: defs({ alerts: "", quiet: "" }),
  };
}

const servers: ReturnType<typeof Bun.serve>[] = [];
const members: MemberRef[] = [];
let base = "";
let browser: Browser | null = null;
let page: Page | null = null;

beforeAll(async () => {
  const v = views();
  const hung = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
  servers.push(hung);
  const apps: Record<string, ReturnType<typeof createApiApp>> = {};
  for (const name of ["n1", "n2", "n3"]) {
    const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => apps[name]!.fetch(req) });
    servers.push(s);
    members.push({ name, httpAddress: `127.0.0.1:${s.port}`, self: false, health: "alive" });
  }
  members.push({ name: "n4", httpAddress: `127.0.0.1:${hung.port}`, self: false, health: "suspect" });
  for (const name of ["n1", "n2", "n3"]) {
    const dir = { members: () => members.map((m) => ({ ...m, self: m.name === name })), timeoutMs: 300 };
    apps[name] = createApiApp(deps({ ruleGroups: () => v[name]! }, { members: dir }), { extend: (a) => a.route("/", createUiApp()) });
  }
  base = `http://${members[0]!.httpAddress}`;
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  page.setDefaultTimeout(20_000);
}, 60_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  for (const s of servers) await s.stop(true);
});

const texts = (p: Page, sel: string) => p.locator(sel).allTextContents();

describe("alerts and rules pages show the cluster's rule groups", () => {
  test("alerts page: state per rule with its evaluating member, state filters, annotations", async () => {
    const p = page!;
    await p.goto(`${base}/alerts`);
    await p.locator(".alert-rule").first().waitFor();
    expect(await p.title()).toBe("Alerts · Shoal");
    // Groups in Prometheus's order (file, then name). Counts per state next to Prometheus's three checkboxes.
    expect((await p.locator("label.state-firing").textContent())!.replace(/\s+/g, "")).toBe("FIRING(1)");
    expect((await p.locator("label.state-pending").textContent())!.replace(/\s+/g, "")).toBe("PENDING(1)");
    expect((await p.locator("label.state-inactive").textContent())!.replace(/\s+/g, "")).toBe("INACTIVE(2)");
    expect(await texts(p, ".alert-rule summary")).toEqual(["FIRING HighLoad (1 active)", "PENDING DiskFull (1 active)", "INACTIVE Lost (0 active)", "INACTIVE AllGood (0 active)"]);
    // Which member evaluates each group; the group nobody evaluates says so.
    expect(await p.locator('[data-group="node-alerts"] .evaluated-by').textContent()).toBe("evaluated by n2");
    expect(await p.locator('[data-group="quiet"] .evaluated-by').textContent()).toBe("evaluated by n1");
    expect(await p.locator('[data-group="orphan"] .evaluated-by').textContent()).toBe("not evaluated");
    // The member that did not answer is named, the rest of the page still shown.
    expect(await p.locator(".notice.warning").first().textContent()).toContain("cannot list the rule groups of cluster member n4");

    // A firing rule opened: its alert's labels, state, active since and value.
    await p.locator('[data-rule="HighLoad"] summary').click();
    const row = p.locator('[data-rule="HighLoad"] tr.alert');
    await row.waitFor();
    expect(await row.locator(".label-badge").allTextContents()).toEqual(['instance="h1"', 'severity="page"']);
    expect(await row.locator("td").nth(1).textContent()).toBe("FIRING");
    expect(await row.locator(".active-since").textContent()).toMatch(/^10m(\d+s)? ago$/);
    expect(await row.locator("td").nth(3).textContent()).toBe("1e+00");
    expect(await p.locator('[data-rule="HighLoad"] .rule-def').textContent()).toContain("for: 1m");
    expect(await p.locator(".alert-annotations").count()).toBe(0);

    // Show annotations: each alert's annotations under it.
    await p.locator("label.show-annotations input").check();
    await p.locator(".alert-annotations").first().waitFor();
    expect(await texts(p, '[data-rule="HighLoad"] .alert-annotations dd')).toEqual(["https://runbooks/high-load", "h1 is hot"]);

    // Only firing and pending: the inactive rules go, the open rule stays open.
    await p.locator("label.state-inactive input").uncheck();
    await waitUntil(async () => (await p.locator(".alert-rule").count()) === 2, "inactive rules to be hidden");
    expect(await texts(p, ".alert-rule summary")).toEqual(["FIRING HighLoad (1 active)", "PENDING DiskFull (1 active)"]);
    expect(await p.locator('[data-rule="HighLoad"]').getAttribute("open")).not.toBeNull();
    await screenshot(p, "alerts-cluster");

    // The filters survive a reload, as Prometheus's do.
    await p.reload();
    await p.locator(".alert-rule").first().waitFor();
    expect(await p.locator("label.state-inactive input").isChecked()).toBe(false);
    expect(await p.locator("label.show-annotations input").isChecked()).toBe(true);
    await p.locator("label.state-inactive input").check();
    await p.locator("label.state-firing input").uncheck();
    await waitUntil(async () => (await texts(p, ".alert-rule summary")).join("|") === "PENDING DiskFull (1 active)|INACTIVE Lost (0 active)|INACTIVE AllGood (0 active)", "only pending and inactive rules");
    await p.locator("label.state-firing input").check();
    await p.locator("label.show-annotations input").uncheck();
  }, 60_000);

  test("rules page: groups with health, last evaluation, duration, errors and evaluating member", async () => {
    const p = page!;
    await p.goto(`${base}/rules`);
    await p.locator(".rule-group").first().waitFor();
    expect(await p.title()).toBe("Rules · Shoal");
    expect(await texts(p, ".rule-group h2 > :first-child")).toHaveLength(3);
    expect(await p.locator('[data-group="node-alerts"] .evaluated-by').textContent()).toBe("evaluated by n2");
    expect(await p.locator('[data-group="node-alerts"] .group-eval').textContent()).toMatch(/^last evaluation \d+(\.\d)?s ago · took 3\.0ms$/);
    expect(await texts(p, '[data-group="node-alerts"] td.health')).toEqual(["OK", "OK"]);
    // The recording rule's error, as the evaluating member reports it.
    const rec = p.locator('[data-group="quiet"] tr[data-rule="job:up:sum"]');
    expect(await rec.locator("td.health").textContent()).toBe("ERR");
    expect(await rec.locator("td.error-text").textContent()).toBe("vector contains metrics with the same labelset after applying rule labels");
    expect(await rec.locator("td.last-evaluation").textContent()).toMatch(/ago$/);
    expect(await rec.locator("td").nth(4).textContent()).toBe("2.0ms");
    // Nobody evaluates it: health unknown, never evaluated.
    expect(await p.locator('[data-group="orphan"] .evaluated-by').textContent()).toBe("not evaluated");
    expect(await texts(p, '[data-group="orphan"] td.health')).toEqual(["UNKNOWN"]);
    expect(await texts(p, '[data-group="orphan"] td.last-evaluation')).toEqual(["never"]);
    expect(await p.locator(".notice.warning").first().textContent()).toContain("n4");
    await screenshot(p, "rules-cluster");
  }, 60_000);
});
