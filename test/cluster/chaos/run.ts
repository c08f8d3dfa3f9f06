/**
 * One seeded chaos run against real node processes: 5 members at R=3, a writer recording every
 * acknowledged sample, a random schedule (joins, graceful leaves through the three doors,
 * SIGKILLs, restarts on the same data directory, SIGSTOP/SIGCONT pauses) that never has more
 * than R−1 nodes down, queries on random live nodes throughout, then healing, waiting for the
 * hand-off to settle, and the final checks. Every decision of the schedule comes from the seeded
 * PRNG; process timing can still move things slightly, so the schedule is printed as it happens.
 */
import { dumpLogs, runCli, tempDir, waitFor } from "../harness.ts";
import { AckedLog, runWriter } from "./acked.ts";
import { checkEverything, checkWindow, CopyCounter, type WindowKind } from "./checks.ts";
import { Fleet, type FleetNode, type LeaveDoor } from "./fleet.ts";
import { Prng } from "./prng.ts";
import { readLocalCopies, settled, supportsHandoff } from "./status.ts";

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

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const print = o.print ?? ((l: string) => console.log(l));
  const R = o.replication ?? 3;
  const maxDown = R - 1;
  const startCount = o.nodes ?? 5;
  const rng = new Prng(o.seed);
  const queryRng = new Prng(o.seed ^ 0x5bd1e995);
  const schedule: string[] = [];
  const failures: string[] = [];
  const stats: string[] = [];
  const t0 = Date.now();
  const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const note = (line: string) => {
    const l = `${stamp()} ${line}`;
    schedule.push(l);
    print(`[chaos ${o.seed}] ${l}`);
  };
  const fleet = new Fleet(o.clusterName, [`--cluster.replication-factor=${R}`, ...(o.extraArgs ?? [])], note);
  const log = new AckedLog("chaos_test", o.series ?? 100);
  let stopWriter = false;
  let stopQueries = false;
  let writerError: Error | undefined;
  const queryCounts = { ok: 0, warned: 0, warnedShort: 0, error: 0, short: 0 };

  try {
    for (let i = 0; i < startCount; i++) {
      const n = await fleet.join(tempDir("chaos"));
      note(`start ${n.name}`);
    }
    const names = fleet.members().map((n) => n.name).sort().join();
    for (const n of fleet.up()) {
      await waitFor(`${n.name} sees ${names} alive and active`, async () => {
        const s = await nodeStatus(n);
        return s.members.filter((m) => m.health === "alive" && m.state === "active").map((m) => m.name).sort().join() === names;
      }, 30_000);
    }
    const handoff = o.membershipChanges ?? (await supportsHandoff(fleet.up()[0]!));
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
          const f = `${stamp()} silently short answer from ${target.name} (${target.state}) to ${what}: ${outcome.diffs.join("; ")}`;
          failures.push(f);
          note(`QUERY FAILURE: ${f}`);
        }
      }
    })();

    const resumeTimers: Timer[] = [];
    const endAt = Date.now() + o.seconds * 1000;
    while (Date.now() < endAt && !writerError) {
      // The same number of draws every tick, so that a replay takes the same decisions.
      const wait = rng.int(1500, 5000);
      const roll = rng.next();
      const who = rng.next();
      const howLong = rng.int(500, 6000);
      const door = (["sigterm", "http", "cli"] as const)[rng.int(0, 2)]!;
      await Bun.sleep(wait);
      const up = fleet.up();
      const killed = fleet.nodes.filter((n) => n.state === "killed");
      const members = fleet.members().length;
      const canDown = fleet.down() < maxDown && up.length > 1;
      const weights = {
        kill: canDown ? 3 : 0,
        pause: canDown ? 3 : 0,
        restart: killed.length > 0 ? 4 : 0,
        leave: handoff && canDown && members > startCount - 1 ? 2 : 0,
        join: handoff && members < startCount + 1 ? 2 : 0,
        idle: 1,
      };
      const action = pickWeighted(weights, roll);
      const choose = (list: FleetNode[]) => list[Math.min(list.length - 1, Math.floor(who * list.length))]!;
      try {
        if (action === "kill") {
          const n = choose(up);
          note(`SIGKILL ${n.name}`);
          await fleet.sigkill(n);
        } else if (action === "pause") {
          const n = choose(up);
          note(`SIGSTOP ${n.name} for ${howLong} ms`);
          fleet.pause(n);
          resumeTimers.push(
            setTimeout(() => {
              if (n.state === "paused") {
                fleet.resume(n);
                note(`SIGCONT ${n.name}`);
              }
            }, howLong),
          );
        } else if (action === "restart") {
          const n = choose(killed);
          note(`restart ${n.name} (same data directory)`);
          await fleet.restart(n);
          note(`${n.name} ready`);
        } else if (action === "leave") {
          const n = choose(up);
          note(`leave ${n.name} via ${door}`);
          await fleet.leave(n, door as LeaveDoor, LEAVE_TIMEOUT_MS);
        } else if (action === "join") {
          note(`join a new node`);
          const n = await fleet.join(tempDir("chaos"));
          note(`${n.name} joined (process ready)`);
        }
      } catch (err) {
        failures.push(`${stamp()} ${action} failed: ${(err as Error).message}`);
        note(`ACTION FAILURE: ${action}: ${(err as Error).message}`);
      }
    }

    // Heal: everything paused resumes, everything killed restarts, leaves finish.
    for (const t of resumeTimers) clearTimeout(t);
    note("chaos over: healing");
    for (const n of fleet.nodes) if (n.state === "paused") (fleet.resume(n), note(`SIGCONT ${n.name}`));
    for (const n of fleet.nodes.filter((x) => x.state === "killed")) {
      note(`restart ${n.name} (same data directory)`);
      await fleet.restart(n);
    }
    await Promise.all(fleet.leaves);
    // A little more writing with everyone up, then the writer stops after its round.
    await Bun.sleep(3000);
    stopWriter = true;
    stopQueries = true;
    await writer;
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
    const why = await settled(members, o.settleTimeoutMs ?? 120_000, handoff);
    if (why) failures.push(`not settled after ${o.settleTimeoutMs ?? 120_000} ms: ${why}`);
    note(`settled after ${Date.now() - settleStart} ms${why ? ` (NOT: ${why})` : ""}`);

    for (const n of members) {
      const diffs = await checkEverything(n.proc!.url, log, 30_000, 60_000);
      if (diffs.length) failures.push(`final query on ${n.name}: ${diffs.slice(0, 10).join("; ")}`);
    }
    note(`final queries on ${members.length} nodes done`);

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
  }
  return { seed: o.seed, schedule, failures, stats };
}

function pickWeighted(weights: Record<string, number>, roll: number): string {
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let r = roll * total;
  for (const [k, w] of entries) {
    r -= w;
    if (r < 0) return k;
  }
  return entries[entries.length - 1]![0];
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
