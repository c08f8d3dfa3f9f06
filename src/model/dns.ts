/**
 * The DNS resolver that `--dns.server` chooses, shared by the rooms that look names up
 * (dns_sd_configs in discovery, `--cluster.join=dns+…|dnssrv+…` in cluster): one server given
 * as HOST:PORT, or the system's resolvers (/etc/resolv.conf) when none is given.
 */
import { Resolver } from "node:dns/promises";
import { FlagError } from "./flags.ts";

/** A lookup slower than this per try counts as failed (Go's DNS client waits 2s per server too). */
const TIMEOUT_MS = 2000;
const TRIES = 2;

/** Checks `--dns.server`'s value: "" (the system's resolvers), HOST:PORT or [IPv6]:PORT with an IP host. */
export function checkDnsServer(value: string): string {
  if (value === "") return value;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(value);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) {
    throw new FlagError(`--dns.server: expected IP:PORT of a DNS server (e.g. 10.0.0.10:53 or [fd00::a]:53), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A resolver asking `server` (IP:PORT), or the system's resolvers for "". */
export function newDnsResolver(server: string): Resolver {
  const r = new Resolver({ timeout: TIMEOUT_MS, tries: TRIES });
  if (server !== "") r.setServers([server]);
  return r;
}

/**
 * Whether a lookup error is an answer ("no such name", "no records of that type"): the set is
 * then empty. Any other error (timeout, refused, server failure) says nothing about the records.
 */
export function isDnsAbsent(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ENOTFOUND" || code === "ENODATA";
}
