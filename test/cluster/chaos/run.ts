/**
 * One seeded chaos run against real node processes: 5 members at R=3, a writer recording every
 * acknowledged sample, a random schedule (joins, graceful leaves through the three doors,
 * SIGKILLs, restarts on the same data directory, SIGSTOP/SIGCONT pauses) that never has more
 * than R−1 nodes down, queries on random live nodes throughout, then healing, waiting for the
 * hand-off to settle, and the final checks. Every decision of the schedule comes from the seeded
 * PRNG; process timing can still move things slightly, so the schedule is printed as it happens.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dumpLogs, runCli } from "../harness.ts";
import { tempDir, waitFor } from "../../support/index.ts";
import { AckedLog, runWriter } from "./acked.ts";
import { checkEverything, checkWindow, CopyCounter, type WindowKind } from "./checks.ts";
import { Fleet, type FleetNode } from "./fleet.ts";
import { describe, planSchedule, type PlannedEvent } from "./plan.ts";
import { Prng } from "./prng.ts";
import { readLocalCopies, settled, statusOddities, statusOf, supportsHandoff } from "./status.ts";

export interface ChaosOptions {
  seed: number;
  seconds: number;
  nodes?: number;
  replication?: number;
  series?: number;
  /** Joins and graceful leaves in the schedule (needs the hand-off protocol); default: detected. */
  membershipChanges?: boolean;
  settleTimeoutMs?: number;
  clusterName: string;
  extraArgs?: string[];
  print?: (line: string) => void;
}

export interface ChaosResult {
  seed: number;
  schedule: string[];
  failures: string[];
  stats: string[];
}

const LEAVE_TIMEOUT_MS = 60_000;
/** Anti-entropy compares data older than max(60 s, 3 × write timeout) (src/cluster/antientropy.ts). */
const ANTI_ENTROPY_HOLDBACK_MS = 60_000;
/** The nodes' --cluster.read-one-replica.quiet-period (shorter than the anti-entropy wait below). */
const QUIET_PERIOD_MS = 30_000;

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const print = o.print ?? ((l: string) => console.log(l));
  const R = o.replication ?? 3;
  const startCount = o.nodes ?? 5;
  const queryRng = new Prng(o.seed ^ 0x5bd1e995);
  const schedule: string[] = [];
  const failures: string[] = [];
  const stats: string[] = [];
  // Times are relative to the start of the chaos phase (negative while the cluster starts).
  let t0 = Date.now() + 10_000;
  const stamp = () => {
    const s = (Date.now() - t0) / 1000;
    return `${s < 0 ? "-" : "+"}${Math.abs(s).toFixed(1)}s`;
  };
  const note = (line: string) => {
    const l = `${stamp()} ${line}`;
    schedule.push(l);
    print(`[chaos ${o.seed}] ${l}`);
  };
  // Hand-off flags when the node has them: series no longer owned are dropped soon after the
  // ring settled, and replicas compare digests often enough to repair within the settle wait.
  const help = (await runCli(["--help"])).stdout;
  const hasHandoffFlags = help.includes("--cluster.handoff.drop-grace");
  const dropGraceMs = 2000;
  const antiEntropyMs = 5000;
  const handoffArgs = hasHandoffFlags
    ? [`--cluster.handoff.drop-grace=${dropGraceMs}ms`, `--cluster.handoff.anti-entropy-interval=${antiEntropyMs}ms`]
    : [];
  // Reads from one replica per range once the membership has been quiet this long: after the
  // anti-entropy wait the final queries are answered that way (and during the run whenever the
  // events leave such a gap).
  const quietArgs = help.includes("--cluster.read-one-replica.quiet-period") ? [`--cluster.read-one-replica.quiet-period=${QUIET_PERIOD_MS}ms`] : [];
  const fleet = new Fleet(o.clusterName, [`--cluster.replication-factor=${R}`, ...handoffArgs, ...quietArgs, ...(o.extraArgs ?? [])], note);
  const log = new AckedLog("chaos_test", o.series ?? 100);
  let stopWriter = false;
  let stopQueries = false;
  let writerError: Error | undefined;
  const queryCounts = { ok: 0, warned: 0, warnedShort: 0, error: 0, short: 0 };

  try {
    for (let i = 0; i < startCount; i++) {
      const n = await fleet.join(`c${i + 1}`, tempDir("chaos"));
      note(`start ${n.name}`);
    }
    const names = fleet.members().map((n) => n.name).sort().join();
    for (const n of fleet.up()) {
      await waitFor(`${n.name} sees ${names} alive and active`, async () => {
        const s = await nodeStatus(n);
        return s.members.filter((m) => m.health === "alive" && m.state === "active").map((m) => m.name).sort().join() === names;
      }, { timeoutMs: 30_000 });
    }
    const handoff = o.membershipChanges ?? (await supportsHandoff(fleet.up()[0]!));
    t0 = Date.now();
    note(`cluster of ${startCount} ready; R=${R}; schedule with ${handoff ? "joins, leaves, " : ""}kills, restarts, pauses for ${o.seconds} s`);

    const writer = runWriter({
      log,
      targets: () => fleet.up().map((n) => ({ name: n.name, url: n.proc!.url })),
      stop: () => stopWriter,
      intervalMs: 20,
      requestTimeoutMs: 8000,
      roundDeadlineMs: 60_000,
      random: () => queryRng.next(),
    }).catch((err: Error) => {
      writerError = err;
      note(`writer failed: ${err.message}`);
    });

    const queries = (async () => {
      while (!stopQueries && !writerError) {
        await Bun.sleep(400 + queryRng.int(0, 600));
        if (log.rounds < 2) continue;
        const targets = fleet.serving();
        if (targets.length === 0) continue;
        const target = queryRng.pick(targets);
        const kind: WindowKind = queryRng.pick(["recent", "recent", "older", "older", "whole"] as const);
        const { outcome, what } = await checkWindow(target.proc!.url, log, kind, () => queryRng.next(), 15_000);
        if (outcome.kind === "ok") queryCounts.ok++;
        else if (outcome.kind === "error") queryCounts.error++;
        else if (outcome.kind === "warned") {
          queryCounts.warned++;
          if (outcome.short) queryCounts.warnedShort++;
        } else {
          queryCounts.short++;
          const states = fleet.nodes.map((n) => `${n.name} ${n.state}`).join(", ");
          const f = `${stamp()} silently short answer from ${target.name} to ${what} [${states}]: ${outcome.diffs.join("; ")}`;
          failures.push(f);
          note(`QUERY FAILURE: ${f}`);
        }
      }
    })();

    const plan = planSchedule({ seed: o.seed, seconds: o.seconds, startNodes: startCount, replication: R, membershipChanges: handoff });
    print(`[chaos ${o.seed}] plan:\n${plan.map(describe).join("\n")}`);
    // A step that takes longer than planned (a restart, a join, a leave that has not exited by
    // its `gone` event) shifts the rest of the plan, so that the gaps between events (how long
    // a node stays paused or dead) stay as planned.
    let shift = 0;
    for (const e of plan) {
      if (writerError) break;
      const wait = t0 + e.at + shift - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      else shift -= wait;
      try {
        await execute(fleet, e, note);
      } catch (err) {
        failures.push(`${stamp()} ${describe(e)} failed: ${(err as Error).message}`);
        note(`ACTION FAILURE: ${describe(e)}: ${(err as Error).message}`);
      }
    }
    if (shift > 0) note(`the plan ran ${(shift / 1000).toFixed(1)} s behind its timeline (slow restarts, joins or leaves)`);
    // The plan ends with every node up; after an aborted run, heal what is left.
    for (const n of fleet.nodes) if (n.state === "paused") fleet.resume(n);
    for (const n of fleet.nodes) if (n.state === "killed") await fleet.restart(n);
    for (const n of fleet.nodes) if (n.state === "leaving") await n.gone;
    note("chaos over: every node is up");
    // A little more writing with everyone up, then the writer stops after its round.
    await Bun.sleep(3000);
    stopWriter = true;
    stopQueries = true;
    await writer;
    const writerStoppedAt = Date.now();
    await queries;
    if (writerError) failures.push(`writer: ${writerError.message}`);
    note(`writer stopped: ${log.summary()}`);
    stats.push(`writer: ${log.summary()}`);
    stats.push(
      `queries during the run: ${queryCounts.ok} complete, ${queryCounts.warned} with a warning (${queryCounts.warnedShort} of them short), ` +
        `${queryCounts.error} errors/timeouts, ${queryCounts.short} silently short`,
    );
    failures.push(...fleet.problems);

    const members = fleet.members();
    const settleStart = Date.now();
    const settleMs = o.settleTimeoutMs ?? 120_000;
    const why = await settled(members, settleMs, handoff);
    if (why) failures.push(`not settled after ${settleMs} ms: ${why}`);
    const settledAt = Date.now();
    note(`settled after ${settledAt - settleStart} ms${why ? ` (NOT: ${why})` : ""}`);
    const memberNames = new Set(members.map((m) => m.name));
    for (const n of members) {
      try {
        for (const odd of statusOddities(n.name, await statusOf(n), memberNames)) stats.push(`status oddity: ${odd}`);
      } catch (err) {
        failures.push(`${n.name}: status failed after the run: ${(err as Error).message}`);
      }
    }

    for (const n of members) {
      const diffs = await checkEverything(n.proc!.url, log, 30_000, 60_000);
      if (diffs.length) failures.push(`final query on ${n.name}: ${diffs.slice(0, 10).join("; ")}`);
    }
    note(`final queries on ${members.length} nodes done`);

    if (hasHandoffFlags && !why) {
      // Anti-entropy leaves out the newest minute (writes may still be on their way), so a
      // replica that missed one of the last writes is repaired only once that minute has passed:
      // wait for it, two anti-entropy rounds and the drop grace, then for the cluster to settle.
      const horizon = writerStoppedAt + ANTI_ENTROPY_HOLDBACK_MS + 2 * antiEntropyMs + dropGraceMs + 3000;
      note(`waiting ${((horizon - Date.now()) / 1000).toFixed(0)} s for anti-entropy to cover the last writes and the drop grace`);
      await Bun.sleep(Math.max(0, horizon - Date.now()));
      const again = await settled(members, 60_000, handoff);
      if (again) failures.push(`not settled after the anti-entropy wait: ${again}`);
      if (quietArgs.length > 0 && !again) {
        // The membership last changed before the cluster settled.
        await Bun.sleep(Math.max(0, settledAt + QUIET_PERIOD_MS + 2000 - Date.now()));
        for (const n of members) {
          const diffs = await checkEverything(n.proc!.url, log, 30_000, 60_000);
          if (diffs.length) failures.push(`query on ${n.name} once quiet (one replica per range): ${diffs.slice(0, 10).join("; ")}`);
        }
        // And they came from one replica per range: each series sent by one member.
        const n = members[0]!;
        const res = await fetch(`${n.proc!.url}/api/v1/query?query=${encodeURIComponent(`${log.metric}[60s]`)}&time=${(log.firstT() + 60_000) / 1000}&stats=all`);
        const body = (await res.json()) as { data?: { stats?: { cluster?: { members: { series: number }[] } } } };
        const sent = (body.data?.stats?.cluster?.members ?? []).reduce((a, m) => a + m.series, 0);
        if (sent !== log.seriesCount) failures.push(`once quiet, a query through ${n.name} read ${sent} series from the members for ${log.seriesCount}: not one replica per range`);
        note(`queries once quiet on ${members.length} nodes done (${sent} series read for ${log.seriesCount})`);
      }
    }

    const copies = new CopyCounter(log);
    const local = await readLocalCopies(members, log.metric, (dir) => dumpDir(dir, log.metric));
    for (const [name, text] of local) {
      const n = copies.addDump(name, text);
      stats.push(`${name} holds ${n} samples (${((n / log.samples()) * 100).toFixed(1)}%)`);
    }
    failures.push(...copies.problems, ...copies.wrongCopies(R));
    note(`local copies checked on ${local.size} nodes`);
  } catch (err) {
    failures.push(`run aborted: ${(err as Error).stack ?? err}`);
  } finally {
    stopWriter = true;
    stopQueries = true;
  }
  if (failures.length) {
    print(`[chaos ${o.seed}] FAILED — replay with CHAOS_SEED=${o.seed} CHAOS_SECONDS=${o.seconds}\nschedule:\n${schedule.join("\n")}`);
    print(dumpLogs(fleet.nodes.flatMap((n) => (n.proc ? [n.proc] : []))));
    // Every node's log (the harness keeps the last few thousand lines) and the schedule, kept
    // after the data directories are removed.
    const keep = mkdtempSync(join(tmpdir(), `shoal-chaos-${o.seed}-`));
    writeFileSync(join(keep, "schedule.txt"), schedule.join("\n") + "\n\nfailures:\n" + failures.join("\n") + "\n");
    for (const n of fleet.nodes) {
      const runs = [...n.past, ...(n.proc ? [n.proc] : [])];
      writeFileSync(join(keep, `${n.name}.log`), runs.map((p, i) => `--- start ${i + 1}\n${p.log.join("\n")}\n`).join(""));
    }
    print(`[chaos ${o.seed}] schedule, failures and node logs kept in ${keep}`);
  }
  return { seed: o.seed, schedule, failures, stats };
}

/** Carries out one planned event on the real nodes; slow steps are awaited. */
async function execute(fleet: Fleet, e: PlannedEvent, note: (l: string) => void): Promise<void> {
  note(describe(e).replace(/^\+[\d.]+s /, ""));
  switch (e.kind) {
    case "kill":
      return fleet.sigkill(fleet.byName(e.node));
    case "pause":
      return fleet.pause(fleet.byName(e.node));
    case "resume":
      return fleet.resume(fleet.byName(e.node));
    case "restart": {
      await fleet.restart(fleet.byName(e.node));
      note(`${e.node} ready`);
      return;
    }
    case "leave":
      return fleet.leave(fleet.byName(e.node), e.door, LEAVE_TIMEOUT_MS);
    case "gone":
      await fleet.byName(e.node).gone;
      return;
    case "join": {
      await fleet.join(e.node, tempDir("chaos"));
      note(`${e.node} ready`);
      return;
    }
  }
}

async function nodeStatus(n: FleetNode): Promise<{ members: { name: string; health: string; state: string }[] }> {
  const r = await fetch(`${n.proc!.url}/api/v1/status/cluster`, { signal: AbortSignal.timeout(5000) });
  return ((await r.json()) as { data: { members: { name: string; health: string; state: string }[] } }).data;
}

/** `shoal tsdb dump` of a stopped node's data directory. */
async function dumpDir(dir: string, metric: string): Promise<string> {
  const r = await runCli(["tsdb", "dump", `--storage.tsdb.path=${dir}`, `--match=${metric}`]);
  if (r.code !== 0) throw new Error(`tsdb dump of ${dir} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
