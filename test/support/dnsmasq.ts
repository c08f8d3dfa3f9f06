/**
 * Debian's dnsmasq as a real DNS server for tests: it answers the A/AAAA and SRV records it is
 * given, for names under `test.` only (other names under `test.` are NXDOMAIN), on a free UDP
 * port of 127.0.0.1. `setRecords` restarts it on the same port with new records (dnsmasq reads
 * SRV records only at start); `stop` leaves the port unanswered, as a failed server would.
 *
 *   const dns = await startDnsmasq({ hosts: [["127.0.0.1", "a.test"]], srv: [["_x._tcp.test", "a.test", 9100]] });
 *   ... --dns.server=${dns.address}
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { spawnProcess, type RunningProcess } from "./process.ts";
import { tempDir } from "./temp.ts";
import { waitFor } from "./wait.ts";

export const DNSMASQ_BIN = "/usr/sbin/dnsmasq";

export interface DnsRecords {
  /** [address, name]: A (IPv4) or AAAA (IPv6) records. */
  hosts?: [string, string][];
  /** [name, target, port]: SRV records. */
  srv?: [string, string, number][];
}

export interface Dnsmasq {
  /** 127.0.0.1:PORT, for --dns.server. */
  readonly address: string;
  readonly port: number;
  /** Replaces every record (a restart on the same port); resolves once the new records answer. */
  setRecords(records: DnsRecords): Promise<void>;
  stop(): Promise<void>;
}

export async function startDnsmasq(records: DnsRecords): Promise<Dnsmasq> {
  const dir = tempDir("dnsmasq");
  const port = freePort();
  let proc: RunningProcess | null = null;
  let generation = 0;

  const launch = async (r: DnsRecords) => {
    generation++;
    const hostsFile = join(dir, `hosts-${generation}`);
    const confFile = join(dir, `dnsmasq-${generation}.conf`);
    // A marker name per generation tells when the restarted server answers with the new records.
    const marker = `gen${generation}.marker.test`;
    writeFileSync(hostsFile, [...(r.hosts ?? []), ["127.0.0.9", marker]].map(([ip, name]) => `${ip} ${name}\n`).join(""));
    writeFileSync(confFile, ["local=/test/", ...(r.srv ?? []).map(([name, target, p]) => `srv-host=${name},${target},${p}`)].join("\n") + "\n");
    proc = spawnProcess("dnsmasq", [
      DNSMASQ_BIN,
      "--keep-in-foreground",
      `--port=${port}`,
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      `--addn-hosts=${hostsFile}`,
      `--conf-file=${confFile}`,
      "--user=root",
      "--pid-file=",
      "--log-facility=-",
      "--cache-size=0",
    ]);
    const { Resolver } = await import("node:dns/promises");
    const probe = new Resolver({ timeout: 300, tries: 1 });
    probe.setServers([`127.0.0.1:${port}`]);
    await waitFor(`dnsmasq answering on port ${port}`, async () => (await probe.resolve4(marker)).length > 0, { processes: [proc], timeoutMs: 10_000 });
  };

  await launch(records);
  return {
    address: `127.0.0.1:${port}`,
    port,
    async setRecords(r: DnsRecords) {
      await proc?.stop();
      await launch(r);
    },
    async stop() {
      await proc?.stop();
      proc = null;
    },
  };
}
