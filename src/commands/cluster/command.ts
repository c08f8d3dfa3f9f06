/**
 * `shoal cluster status|leave`: what a running node serves at /api/v1/status/cluster (members
 * and hand-off progress), and asking a node to leave the cluster gracefully.
 */
import type { ClusterStatus } from "../../cluster/index.ts";
import { FlagError, formatHelp, parseFlags, type FlagSpec } from "../../model/index.ts";
import { authHint, cliFetch, useHttpConfigFile } from "./http_client.ts";
import { runLeave } from "./leave.ts";
import { formatStatusTable } from "./status_table.ts";

const NODE_FLAGS: readonly FlagSpec[] = [
  { name: "url", kind: "string", def: "http://127.0.0.1:9090", help: "Base URL of the node to ask (with its route prefix, if it has one)." },
  {
    name: "http.config.file",
    kind: "string",
    def: "",
    placeholder: "<file>",
    help: "HTTP client configuration file (promtool's format: basic_auth, authorization, tls_config) for a node whose web config turns on TLS or authentication.",
  },
];

const VERBS: ReadonlyMap<string, { usage: string; what: string; flags: readonly FlagSpec[] }> = new Map([
  ["status", { usage: "shoal cluster status [--url http://127.0.0.1:9090] [--http.config.file <file>]", what: "Print the cluster's members and the hand-off progress as the node sees them.", flags: NODE_FLAGS }],
  [
    "leave",
    {
      usage: "shoal cluster leave [--url http://127.0.0.1:9090] [--http.config.file <file>] [--no-wait]",
      what: "Ask the node to hand its ranges over and leave the cluster, then follow it until it has exited.",
      flags: [...NODE_FLAGS, { name: "wait", kind: "bool", def: "true", help: "Follow the hand-off until the node has exited (--no-wait returns once the leave started)." }],
    },
  ],
]);

const CLUSTER_HELP = formatHelp({
  usage: [...VERBS.values()].map((v) => v.usage),
  description: "Look at a running cluster, or make one of its nodes leave it.",
  sections: [{ title: "Commands", lines: [...VERBS].flatMap(([name, v]) => [`  ${name}`, `      ${v.what}`]) }],
  flags: NODE_FLAGS,
});

async function runStatus(url: string): Promise<number> {
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/status/cluster`;
  let res: Response;
  try {
    res = await cliFetch(endpoint, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    console.error(`cannot reach ${endpoint}: ${(err as Error).message}`);
    return 1;
  }
  const body = (await res.json().catch(() => null)) as { status?: string; data?: ClusterStatus; error?: string } | null;
  if (!res.ok || !body || body.status !== "success" || !body.data) {
    console.error(`${endpoint}: HTTP ${res.status}${body?.error ? `: ${body.error}` : ""}${authHint(res.status)}`);
    return 1;
  }
  process.stdout.write(formatStatusTable(body.data));
  return 0;
}

export async function runClusterCommand(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  // Without a verb, or with only flags, the command says what it takes.
  if (name === undefined || name === "help" || name.startsWith("-")) {
    process.stdout.write(CLUSTER_HELP);
    return 0;
  }
  const verb = VERBS.get(name);
  if (verb === undefined) {
    process.stderr.write(`unknown cluster command ${JSON.stringify(name)}\n${CLUSTER_HELP}`);
    return 2;
  }
  let flags;
  try {
    flags = parseFlags(rest, verb.flags);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    process.stderr.write(`shoal cluster ${name}: ${e.message}\nusage: ${verb.usage}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(formatHelp({ usage: [verb.usage], description: verb.what, flags: verb.flags }));
    return 0;
  }
  const clientConfig = flags.string("http.config.file");
  if (clientConfig !== "") {
    try {
      useHttpConfigFile(clientConfig);
    } catch (e) {
      console.error(`invalid --http.config.file: ${(e as Error).message}`);
      return 1;
    }
  }
  const url = flags.string("url");
  return name === "leave" ? runLeave(url, flags.bool("wait")) : runStatus(url);
}
