/**
 * /api/v1/rules, /api/v1/alerts and /api/v1/alertmanagers over HTTP: Prometheus's parameters,
 * errors and field order on one node's groups, and the cluster-wide answer merged from several
 * API servers on real ports that each know only the groups they evaluate.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createApiApp, type MemberDirectory, type MemberRef } from "../../src/api/server.ts";
import type { AlertStatus, AlertmanagersSource, RuleGroupStatus } from "../../src/model/index.ts";
import { NEVER, alert, alerting, deps, group, recording } from "./rules_fixtures.ts";

interface Body {
  status: string;
  data: { groups: { name: string; file: string; evaluatedBy: string; rules: Record<string, unknown>[] }[]; groupNextToken?: string; alerts?: AlertStatus[] };
  warnings?: string[];
  error?: string;
  errorType?: string;
}

const servers: ReturnType<typeof Bun.serve>[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop(true);
});

function serve(fetch: (req: Request) => Response | Promise<Response>): ReturnType<typeof Bun.serve> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
  servers.push(s);
  return s;
}

async function get(base: string, path: string): Promise<{ status: number; body: Body }> {
  const res = await fetch(base + path);
  return { status: res.status, body: (await res.json()) as Body };
}

describe("one node's rule groups, Prometheus's parameters", () => {
  const T = "2026-01-01T10:00:30Z";
  const groups = [
    group("/rules/b.yml", "gamma", [alerting("DiskFull", { severity: "ticket" }, [alert({ instance: "d1" }, "pending")], T)], "n1", T),
    group("/rules/a.yml", "beta", [recording("job:up:sum", { team: "infra" }, T, "query timed out")], "n1", T),
    group("/rules/a.yml", "alpha", [alerting("HighLoad", { severity: "page" }, [alert({ instance: "h1" }, "firing")], T), recording("job:load:avg", {}, T)], "n1", T),
    // Loaded here but evaluated by another member: a stale alert must not be listed as active.
    group("/rules/c.yml", "delta", [alerting("Elsewhere", {}, [alert({ instance: "x" }, "firing")])], ""),
  ];
  const ams: AlertmanagersSource = { alertmanagers: () => ({ activeAlertmanagers: [{ url: "http://am1:9093/api/v2/alerts" }], droppedAlertmanagers: [{ url: "http://am2:9093/api/v2/alerts" }] }) };
  const app = createApiApp(deps({ ruleGroups: () => groups }, { alertmanagers: ams }));
  const call = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, body: (await res.json()) as Body };
  };
  const names = (b: Body) => b.data.groups.map((g) => `${g.file}:${g.name}:${g.rules.map((r) => r.name).join(",")}`);

  test("every group, sorted by file then name, in Prometheus's field order with evaluatedBy", async () => {
    const { status, body } = await call("/api/v1/rules");
    expect(status).toBe(200);
    expect(names(body)).toEqual(["/rules/a.yml:alpha:HighLoad,job:load:avg", "/rules/a.yml:beta:job:up:sum", "/rules/b.yml:gamma:DiskFull", "/rules/c.yml:delta:Elsewhere"]);
    const alpha = body.data.groups[0]!;
    expect(Object.keys(alpha)).toEqual(["name", "file", "rules", "interval", "limit", "evaluationTime", "lastEvaluation", "evaluatedBy"]);
    expect(alpha.evaluatedBy).toBe("n1");
    expect(Object.keys(alpha.rules[0]!)).toEqual(["state", "name", "query", "duration", "keepFiringFor", "labels", "annotations", "alerts", "health", "evaluationTime", "lastEvaluation", "type"]);
    expect(alpha.rules[0]!.state).toBe("firing");
    expect(alpha.rules[0]!.duration).toBe(60);
    expect(Object.keys(alpha.rules[1]!)).toEqual(["name", "query", "labels", "health", "evaluationTime", "lastEvaluation", "type"]);
    expect(body.data.groups[1]!.rules[0]!.lastError).toBe("query timed out");
    expect(body.data.groupNextToken).toBeUndefined();
  });

  test("type=alert|record; any other value is a 400", async () => {
    expect(names((await call("/api/v1/rules?type=alert")).body)).toEqual(["/rules/a.yml:alpha:HighLoad", "/rules/b.yml:gamma:DiskFull", "/rules/c.yml:delta:Elsewhere"]);
    expect(names((await call("/api/v1/rules?type=RECORD")).body)).toEqual(["/rules/a.yml:alpha:job:load:avg", "/rules/a.yml:beta:job:up:sum"]);
    const bad = await call("/api/v1/rules?type=Alerts");
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: "error", errorType: "bad_data", error: 'invalid parameter "type": not supported value "alerts"' });
  });

  test("rule_name[], rule_group[] and file[] keep any of the values given", async () => {
    expect(names((await call("/api/v1/rules?rule_name[]=HighLoad&rule_name[]=job:up:sum")).body)).toEqual(["/rules/a.yml:alpha:HighLoad", "/rules/a.yml:beta:job:up:sum"]);
    expect(names((await call("/api/v1/rules?rule_group[]=gamma&rule_group[]=beta")).body)).toEqual(["/rules/a.yml:beta:job:up:sum", "/rules/b.yml:gamma:DiskFull"]);
    expect(names((await call(`/api/v1/rules?file[]=${encodeURIComponent("/rules/b.yml")}`)).body)).toEqual(["/rules/b.yml:gamma:DiskFull"]);
    expect(names((await call("/api/v1/rules?rule_group[]=alpha&file[]=/rules/b.yml")).body)).toEqual([]);
  });

  test("match[] selects rules by their configured labels; bad selectors are a 400", async () => {
    const q = (s: string) => call(`/api/v1/rules?${s.split("&").map((p) => `match[]=${encodeURIComponent(p)}`).join("&")}`);
    expect(names((await q('{severity="page"}')).body)).toEqual(["/rules/a.yml:alpha:HighLoad"]);
    expect(names((await q('{severity=~"page|ticket"}')).body)).toEqual(["/rules/a.yml:alpha:HighLoad", "/rules/b.yml:gamma:DiskFull"]);
    expect(names((await q('{team="infra"}&{severity="ticket"}')).body)).toEqual(["/rules/a.yml:beta:job:up:sum", "/rules/b.yml:gamma:DiskFull"]);
    const empty = await q('{severity=~".*"}');
    expect(empty.status).toBe(400);
    expect(empty.body.error).toContain("must contain at least one non-empty matcher");
    const broken = await q('{severity="page"');
    expect(broken.status).toBe(400);
    expect(broken.body.errorType).toBe("bad_data");
  });

  test("exclude_alerts=true leaves the alerts out (null, as Prometheus); a bad value is a 400", async () => {
    const { body } = await call("/api/v1/rules?type=alert&exclude_alerts=true");
    expect(body.data.groups.map((g) => g.rules[0]!.alerts)).toEqual([null, null, null]);
    expect((await call("/api/v1/rules?exclude_alerts=0")).body.data.groups[0]!.rules[0]!.alerts).toHaveLength(1);
    const bad = await call("/api/v1/rules?exclude_alerts=maybe");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid parameter "exclude_alerts": error converting exclude_alerts: strconv.ParseBool: parsing "maybe": invalid syntax');
  });

  test("group_limit and group_next_token page through the groups", async () => {
    const seen: string[] = [];
    let token = "";
    for (let page = 0; page < 10; page++) {
      const { status, body } = await call(`/api/v1/rules?group_limit=3${token ? `&group_next_token=${token}` : ""}`);
      expect(status).toBe(200);
      seen.push(...body.data.groups.map((g) => g.name));
      if (!body.data.groupNextToken) break;
      token = body.data.groupNextToken;
      expect(token).toBe(createHash("sha256").update("/rules/c.yml;delta").digest("hex"));
    }
    expect(seen).toEqual(["alpha", "beta", "gamma", "delta"]);
    const errors: [string, string][] = [
      ["group_next_token=abc", 'invalid parameter "group_next_token": group_limit needs to be present in order to paginate over the groups'],
      ["group_limit=0", 'invalid parameter "group_limit": group_limit needs to be greater than 0'],
      ["group_limit=two", 'invalid parameter "group_limit": group_limit needs to be a valid number: strconv.ParseInt: parsing "two": invalid syntax'],
      ["group_limit=1&group_next_token=abc", "invalid parameter \"group_next_token\": invalid group_next_token 'abc'. were rule groups changed?"],
    ];
    for (const [qs, message] of errors) {
      const bad = await call(`/api/v1/rules?${qs}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe(message);
    }
  });

  test("/api/v1/alerts lists the active alerts of the groups this node evaluates", async () => {
    const { body } = await call("/api/v1/alerts");
    expect(body.data.alerts!.map((a) => `${a.labels.instance}:${a.state}`)).toEqual(["h1:firing", "d1:pending"]);
    expect(Object.keys(body.data.alerts![0]!)).toEqual(["labels", "annotations", "state", "activeAt", "value"]);
  });

  test("/api/v1/alertmanagers lists the notifier's Alertmanagers", async () => {
    const res = await app.request("/api/v1/alertmanagers");
    expect(await res.json()).toEqual({
      status: "success",
      data: { activeAlertmanagers: [{ url: "http://am1:9093/api/v2/alerts" }], droppedAlertmanagers: [{ url: "http://am2:9093/api/v2/alerts" }] },
    });
  });

  test("an unknown scope is a 400", async () => {
    const bad = await call("/api/v1/rules?scope=everywhere");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('invalid parameter "scope"');
  });
});

describe("the cluster's rule groups, from any member", () => {
  const FILE = "/etc/shoal/rules.yml";
  const t = (s: number) => `2026-01-01T10:00:${String(s).padStart(2, "0")}Z`;
  // Every member loads every group; each reports state only for the groups it evaluates.
  // n3 took g3 over from n2 and both evaluated it for a moment (n3 the more recent); nobody
  // evaluates g4 (its owner is gone). Copies not evaluated keep stale alerts that must not show.
  const views: Record<string, RuleGroupStatus[]> = {
    n1: [
      group(FILE, "g1", [alerting("A1", { severity: "page" }, [alert({ instance: "i1" }, "firing")], t(10))], "n1", t(10)),
      group(FILE, "g2", [recording("r:g2:sum", {}, NEVER)], ""),
      group(FILE, "g3", [alerting("A3", {}, [alert({ instance: "stale-n1" }, "firing")])], ""),
      group(FILE, "g4", [alerting("A4", {}, [alert({ instance: "stale-g4" }, "firing")], t(1))], "", t(1)),
    ],
    n2: [
      group(FILE, "g1", [alerting("A1", { severity: "page" }, [])], ""),
      group(FILE, "g2", [recording("r:g2:sum", {}, t(20), "many-to-many matching not allowed")], "n2", t(20)),
      group(FILE, "g3", [alerting("A3", {}, [alert({ instance: "old-n2" }, "pending")], t(25))], "n2", t(25)),
      group(FILE, "g4", [alerting("A4", {}, [])], ""),
    ],
    n3: [
      group(FILE, "g1", [alerting("A1", { severity: "page" }, [])], ""),
      group(FILE, "g2", [recording("r:g2:sum", {})], ""),
      group(FILE, "g3", [alerting("A3", {}, [alert({ instance: "new-n3" }, "firing")], t(40))], "n3", t(40)),
      group(FILE, "g4", [alerting("A4", {}, [])], ""),
    ],
  };
  const requests: Record<string, string[]> = { n1: [], n2: [], n3: [] };
  const headers: string[] = [];
  const members: MemberRef[] = [];
  const urls: Record<string, string> = {};
  const apps: Record<string, ReturnType<typeof createApiApp>> = {};
  let hungPort = 0;

  function directory(self: string, extra: MemberRef[] = [], timeoutMs = 2000): MemberDirectory {
    return {
      members: () => [...members.map((m) => ({ ...m, self: m.name === self })), ...extra],
      request: () => ({ headers: { Authorization: "Bearer member-token" }, tls: {} }),
      timeoutMs,
    };
  }

  for (const name of ["n1", "n2", "n3"]) {
    const s = serve((req) => {
      requests[name]!.push(new URL(req.url).search);
      headers.push(req.headers.get("authorization") ?? "");
      return apps[name]!.fetch(req);
    });
    urls[name] = `http://127.0.0.1:${s.port}`;
    members.push({ name, httpAddress: `127.0.0.1:${s.port}`, self: false, health: "alive" });
  }
  for (const name of ["n1", "n2", "n3"]) apps[name] = createApiApp(deps({ ruleGroups: () => views[name]! }, { members: directory(name) }));

  const byName = (b: Body) => Object.fromEntries(b.data.groups.map((g) => [g.name, g]));

  test("each group's state comes from the member evaluating it, the same from every member", async () => {
    const answers = await Promise.all(["n1", "n2", "n3"].map((n) => get(urls[n]!, "/api/v1/rules")));
    for (const { status, body } of answers) {
      expect(status).toBe(200);
      expect(body.warnings).toBeUndefined();
      expect(body).toEqual(answers[0]!.body);
    }
    const g = byName(answers[0]!.body);
    expect(Object.keys(g)).toEqual(["g1", "g2", "g3", "g4"]);
    expect(g.g1!.evaluatedBy).toBe("n1");
    expect((g.g1!.rules[0]!.alerts as AlertStatus[]).map((a) => a.labels.instance)).toEqual(["i1"]);
    expect(g.g2!.evaluatedBy).toBe("n2");
    expect(g.g2!.rules[0]).toMatchObject({ health: "err", lastError: "many-to-many matching not allowed", lastEvaluation: t(20) });
    // A brief double evaluation: the latest evaluation wins.
    expect(g.g3!.evaluatedBy).toBe("n3");
    expect((g.g3!.rules[0]!.alerts as AlertStatus[]).map((a) => a.labels.instance)).toEqual(["new-n3"]);
    // Evaluated by nobody: the definition, health unknown, no alerts.
    expect(g.g4!.evaluatedBy).toBe("");
    expect(g.g4!.rules[0]).toMatchObject({ name: "A4", health: "unknown", state: "inactive", alerts: [] });
    // Members were asked for their own view, with the node's client credentials.
    expect(requests.n2!.some((q) => new URLSearchParams(q).get("scope") === "local")).toBe(true);
    expect(headers.filter((h) => h !== "").every((h) => h === "Bearer member-token")).toBe(true);
  });

  test("/api/v1/alerts is the union of the evaluating members' alerts", async () => {
    for (const n of ["n1", "n3"]) {
      const { body } = await get(urls[n]!, "/api/v1/alerts");
      expect(body.warnings).toBeUndefined();
      expect(body.data.alerts!.map((a) => `${a.labels.instance}:${a.state}`)).toEqual(["i1:firing", "new-n3:firing"]);
    }
  });

  test("scope=local answers from the node alone, without asking anyone", async () => {
    const before = requests.n1!.length + requests.n3!.length;
    const { body } = await get(urls.n2!, "/api/v1/rules?scope=local");
    expect(requests.n1!.length + requests.n3!.length).toBe(before);
    expect(body.data.groups.map((g) => `${g.name}:${g.evaluatedBy}`)).toEqual(["g1:", "g2:n2", "g3:n2", "g4:"]);
    const alerts = await get(urls.n2!, "/api/v1/alerts?scope=local");
    expect(alerts.body.data.alerts!.map((a) => a.labels.instance)).toEqual(["old-n2"]);
  });

  test("filters and pagination apply to the merged groups", async () => {
    const { body } = await get(urls.n2!, "/api/v1/rules?type=alert&group_limit=2");
    expect(body.data.groups.map((g) => `${g.name}:${g.evaluatedBy}`)).toEqual(["g1:n1", "g3:n3"]);
    const next = await get(urls.n2!, `/api/v1/rules?type=alert&group_limit=2&group_next_token=${body.data.groupNextToken}`);
    expect(next.body.data.groups.map((g) => `${g.name}:${g.evaluatedBy}`)).toEqual(["g4:"]);
    expect(next.body.data.groupNextToken).toBeUndefined();
    const named = await get(urls.n1!, "/api/v1/rules?rule_name[]=A3&exclude_alerts=true");
    expect(named.body.data.groups.map((g) => `${g.name}:${g.evaluatedBy}:${JSON.stringify(g.rules[0]!.alerts)}`)).toEqual(["g3:n3:null"]);
  });

  test("a member that does not answer in time is a warning, not a hang; a dead one is not asked", async () => {
    const hung = serve(() => new Promise<Response>(() => {}));
    hungPort = hung.port!;
    const extra: MemberRef[] = [
      { name: "n4", httpAddress: `127.0.0.1:${hungPort}`, self: false, health: "suspect" },
      { name: "n5", httpAddress: "127.0.0.1:1", self: false, health: "dead" },
    ];
    const app = createApiApp(deps({ ruleGroups: () => views.n1! }, { members: directory("n1", extra, 400) }));
    const t0 = performance.now();
    const res = await app.request("/api/v1/rules");
    const elapsed = performance.now() - t0;
    const body = (await res.json()) as Body;
    expect(res.status).toBe(200);
    expect(elapsed).toBeLessThan(2000);
    expect(body.warnings).toEqual([`cannot list the rule groups of cluster member n4 (127.0.0.1:${hungPort}): no answer within 400ms`]);
    expect(byName(body).g3!.evaluatedBy).toBe("n3");
    const alerts = (await (await app.request("/api/v1/alerts")).json()) as Body;
    expect(alerts.warnings).toHaveLength(1);
    expect(alerts.data.alerts!.map((a) => a.labels.instance)).toEqual(["i1", "new-n3"]);
  });

  test("a cluster of one answers from itself without any request", async () => {
    const before = Object.values(requests).reduce((n, l) => n + l.length, 0);
    // The node's own announced address is unreachable: it must not be asked over HTTP.
    const lone: MemberDirectory = { members: () => [{ name: "n2", httpAddress: "127.0.0.1:1", self: true, health: "alive" }], timeoutMs: 400 };
    const app = createApiApp(deps({ ruleGroups: () => views.n2! }, { members: lone }));
    const body = (await (await app.request("/api/v1/rules")).json()) as Body;
    expect(body.warnings).toBeUndefined();
    expect(body.data.groups.map((g) => `${g.name}:${g.evaluatedBy}`)).toEqual(["g1:", "g2:n2", "g3:n2", "g4:"]);
    expect(Object.values(requests).reduce((n, l) => n + l.length, 0)).toBe(before);
  });
});
