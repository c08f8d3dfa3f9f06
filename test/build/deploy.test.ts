/**
 * What deploy/ and the Dockerfile promise, checked with what runs here: kubectl's offline
 * (--local) commands parse the Kubernetes manifests and decode them into Kubernetes' own types, the
 * StatefulSet's flags and the ConfigMap's configuration start a real node, the sample configs
 * pass `shoal check config` and promtool, and the Dockerfile's ports, volume and npm step match
 * the code. (No Kubernetes API server and no Docker engine run here; the systemd unit is verified
 * against the real binary in release.test.ts.)
 */
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { CLUSTER_FLAGS } from "../../src/cluster/index.ts";
import { FLAG_SPECS } from "../../src/flags.ts";
import { BUN, freePort, REPO_ROOT as root, removeTempDir, run, SHOAL_CLI, spawnProcess, tempDir, waitHttpOk } from "../support/index.ts";

const k8sDir = join(root, "deploy/kubernetes");
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;

// Manifests are free-form JSON that these tests walk by path; a wrong path fails the expectation.
type Json = any;

const manifests: Json[] = readdirSync(k8sDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .flatMap((f) => parseAllDocuments(readFileSync(join(k8sDir, f), "utf8")).map((d) => d.toJS() as Json));
const find = (kind: string, name: string): Json => {
  const m = manifests.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!m) throw new Error(`deploy/kubernetes has no ${kind} ${name}`);
  return m;
};
const defaultOf = (name: string): string => [...FLAG_SPECS, ...CLUSTER_FLAGS].find((f) => f.name === name)!.def;
const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(":") + 1));

/** No kubeconfig at all (an empty home): nothing kubectl could talk to. */
function kubectlEnv(home: string): Record<string, string> {
  return { HOME: home, KUBECONFIG: "" };
}

/** kubectl with nothing to talk to (the --local commands never contact an API server): the objects it printed. */
async function kubectl(args: string[]): Promise<Json[]> {
  const home = tempDir("kubectl");
  try {
    const r = await run(["kubectl", ...args, "-o", "yaml"], { env: kubectlEnv(home) });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (exit ${r.code}): ${r.stderr}`);
    return parseAllDocuments(r.stdout).flatMap((d) => {
      const o = d.toJS() as Json;
      return o.kind === "List" ? (o.items as Json[]) : [o];
    });
  } finally {
    removeTempDir(home);
  }
}

/** Every scalar of a document by its path (a.b.0.c). */
function leaves(value: Json, path = "", into = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) leaves(v, path === "" ? k : `${path}.${k}`, into);
  } else {
    into.set(path, value);
  }
  return into;
}

/**
 * The fields of `written` that Kubernetes' types do not keep: a misspelled or misplaced field
 * vanishes when kubectl decodes the object into its Go type and encodes it again.
 */
function droppedByTypedDecode(written: Json, typed: Json): string[] {
  const kept = leaves(typed);
  return [...leaves(written)].filter(([p, v]) => kept.get(p) !== v).map(([p, v]) => `${p}=${JSON.stringify(v)} (kubectl: ${JSON.stringify(kept.get(p))})`);
}

describe("deploy/kubernetes", () => {
  test("kubectl parses every manifest offline: a namespace, the config, two services, the StatefulSet and a PodDisruptionBudget", async () => {
    // One line per object (kubectl prints several objects of a directory without separators).
    const home = tempDir("kubectl");
    const r = await run(["kubectl", "label", "--local", "-f", k8sDir, "shoal.dev/checked=true", "-o", 'jsonpath={.apiVersion} {.kind}/{.metadata.name} -n {.metadata.namespace}{"\\n"}'], {
      env: kubectlEnv(home),
    });
    removeTempDir(home);
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: "" });
    expect(r.stdout.trim().split("\n")).toEqual([
      "v1 Namespace/monitoring -n ",
      "v1 ConfigMap/shoal-config -n monitoring",
      "v1 Service/shoal-headless -n monitoring",
      "v1 Service/shoal -n monitoring",
      "apps/v1 StatefulSet/shoal -n monitoring",
      "policy/v1 PodDisruptionBudget/shoal -n monitoring",
    ]);
  });

  test("the StatefulSet and the services decode into Kubernetes' types with no field lost", async () => {
    // `set env` and `set selector` decode into the typed objects (a wrong type fails them) and
    // print them back; the added variable and the unchanged selector are their only edits.
    const [sts] = await kubectl(["set", "env", "--local", "-f", join(k8sDir, "30-statefulset.yaml"), "-c", "shoal", "SHOAL_TYPED_CHECK=1"]);
    expect(droppedByTypedDecode(find("StatefulSet", "shoal"), sts)).toEqual([]);
    const svcs = await kubectl(["set", "selector", "--local", "-f", join(k8sDir, "20-services.yaml"), "app.kubernetes.io/name=shoal"]);
    expect(svcs.map((s) => s.metadata.name)).toEqual(["shoal-headless", "shoal"]);
    expect(droppedByTypedDecode(find("Service", "shoal-headless"), svcs[0])).toEqual([]);
    expect(droppedByTypedDecode(find("Service", "shoal"), svcs[1])).toEqual([]);
  });

  test("a misspelled field or a wrong type is caught by the same checks", async () => {
    const dir = tempDir("k8s-bad");
    try {
      const good = readFileSync(join(k8sDir, "30-statefulset.yaml"), "utf8");
      const misspelled = join(dir, "misspelled.yaml");
      writeFileSync(misspelled, good.replace("terminationGracePeriodSeconds:", "terminationGracePeriodSecond:"));
      const [typed] = await kubectl(["set", "env", "--local", "-f", misspelled, "-c", "shoal", "SHOAL_TYPED_CHECK=1"]);
      expect(droppedByTypedDecode(parse(readFileSync(misspelled, "utf8")), typed)).toEqual(["spec.template.spec.terminationGracePeriodSecond=660 (kubectl: undefined)"]);
      const wrongType = join(dir, "wrong-type.yaml");
      writeFileSync(wrongType, good.replace("replicas: 3", 'replicas: "three"'));
      await expect(kubectl(["set", "env", "--local", "-f", wrongType, "-c", "shoal", "SHOAL_TYPED_CHECK=1"])).rejects.toThrow(/unable to decode .*[Rr]eplicas/);
    } finally {
      removeTempDir(dir);
    }
  });

  test("the pieces fit: headless service, SRV join name, ports, probes, volumes, disruption budget and grace period", () => {
    const sts = find("StatefulSet", "shoal");
    const pod = sts.spec.template.spec;
    const c = pod.containers[0];
    const podLabels = sts.spec.template.metadata.labels;
    expect(sts.spec.selector.matchLabels).toEqual(podLabels);

    const headless = find("Service", sts.spec.serviceName);
    expect(headless.spec.clusterIP).toBe("None");
    // Peers must resolve each other before any is ready.
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(headless.spec.selector).toEqual(podLabels);
    expect(find("Service", "shoal").spec.selector).toEqual(podLabels);

    const ports = Object.fromEntries(c.ports.map((p: Json) => [p.name, p.containerPort]));
    expect(ports).toEqual({ http: portOf(defaultOf("web.listen-address")), cluster: portOf(defaultOf("cluster.listen-address")) });
    expect(headless.spec.ports.map((p: Json) => [p.name, p.port])).toEqual([
      ["http", ports.http],
      ["cluster", ports.cluster],
    ]);

    // The join name is the SRV record Kubernetes makes for the headless service's "cluster" port.
    expect(c.args).toContain(`--cluster.join=dnssrv+_cluster._tcp.${headless.metadata.name}.$(POD_NAMESPACE).svc.cluster.local`);
    expect(c.env).toContainEqual({ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } });
    expect(c.args).toContain("--no-cluster.mdns");
    expect(c.readinessProbe.httpGet).toEqual({ path: "/-/ready", port: "http" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/-/healthy", port: "http" });

    // A graceful leave may take --cluster.handoff.leave-timeout: Kubernetes must wait longer.
    const leave = /^--cluster\.handoff\.leave-timeout=(\d+)m$/.exec(c.args.find((a: string) => a.startsWith("--cluster.handoff.leave-timeout=")) ?? "");
    expect(leave).not.toBeNull();
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(leave![1]) * 60);

    // The data volume is where the image keeps its data, one claim per member.
    const dataDir = /--storage\.tsdb\.path=([^"]+)"/.exec(readFileSync(join(root, "Dockerfile"), "utf8"))![1];
    expect(c.volumeMounts).toContainEqual({ name: sts.spec.volumeClaimTemplates[0].metadata.name, mountPath: dataDir });
    expect(c.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/shoal", readOnly: true });
    expect(c.args).toContain("--config.file=/etc/shoal/prometheus.yml");
    expect(Object.keys(find("ConfigMap", "shoal-config").data)).toEqual(["prometheus.yml"]);
    expect(c.image).toBe(`shoal:${version}`);

    const pdb = find("PodDisruptionBudget", "shoal");
    expect(pdb.spec.selector.matchLabels).toEqual(podLabels);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  test(
    "the StatefulSet's flags and the ConfigMap's configuration start a real node",
    async () => {
      const sts = find("StatefulSet", "shoal");
      const c = sts.spec.template.spec.containers[0];
      const dir = tempDir("k8s-node");
      const port = freePort();
      try {
        const config = join(dir, "prometheus.yml");
        writeFileSync(config, find("ConfigMap", "shoal-config").data["prometheus.yml"]);
        // Kubernetes expands $(POD_NAMESPACE) in args; the config file comes from the ConfigMap.
        const args = (c.args as string[]).map((a) => a.replaceAll("$(POD_NAMESPACE)", "monitoring")).map((a) => (a.startsWith("--config.file=") ? `--config.file=${config}` : a));
        const node = spawnProcess("shoal-k8s-args", [
          BUN,
          SHOAL_CLI,
          ...args,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--cluster.listen-address=127.0.0.1:0",
          // No cluster DNS here: a DNS server that does not answer, so the names fail fast.
          `--dns.server=127.0.0.1:${freePort()}`,
        ]);
        try {
          await waitHttpOk(`http://127.0.0.1:${port}/-/ready`, { timeoutMs: 30_000, process: node });
          const flags = (await (await fetch(`http://127.0.0.1:${port}/api/v1/status/flags`)).json()) as { data: Record<string, string> };
          expect(flags.data["cluster.join"]).toContain("dnssrv+_cluster._tcp.shoal-headless.monitoring.svc.cluster.local");
          const cfg = (await (await fetch(`http://127.0.0.1:${port}/api/v1/status/config`)).json()) as { data: { yaml: string } };
          expect(cfg.data.yaml).toContain("_http._tcp.shoal-headless.monitoring.svc.cluster.local");
        } finally {
          expect(await node.stop("SIGTERM", 15_000)).toBe(0);
        }
      } finally {
        removeTempDir(dir);
      }
    },
    60_000,
  );
});

describe("sample configurations", () => {
  test("deploy/prometheus.yml and the ConfigMap's prometheus.yml pass shoal check config and promtool check config", async () => {
    const dir = tempDir("sample-config");
    try {
      const k8s = join(dir, "k8s-prometheus.yml");
      writeFileSync(k8s, find("ConfigMap", "shoal-config").data["prometheus.yml"]);
      for (const file of [join(root, "deploy/prometheus.yml"), k8s]) {
        const shoal = await run([BUN, SHOAL_CLI, "check", "config", file]);
        expect({ file, code: shoal.code, err: shoal.stderr }).toEqual({ file, code: 0, err: "" });
        const promtool = await run(["promtool", "check", "config", file]);
        expect({ file, code: promtool.code, err: promtool.stderr }).toEqual({ file, code: 0, err: "" });
      }
    } finally {
      removeTempDir(dir);
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
  const ignored = readFileSync(join(root, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

  test("exposes the default HTTP and cluster ports and keeps the data directory in a volume", () => {
    const exposed = [...dockerfile.matchAll(/^EXPOSE (.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).map(Number));
    expect(exposed.sort()).toEqual([portOf(defaultOf("web.listen-address")), portOf(defaultOf("cluster.listen-address"))].sort());
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/shoal", "--storage\.tsdb\.path=\/data"\]$/m);
    expect(dockerfile).toMatch(/^RUN npm run build/m);
  });

  test("the build stage's npm ci works with the files copied before it, and every copied file is in the build context", async () => {
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \.\/?$/gm)].map((m) => m[1]!.trim().split(/\s+/));
    const first = copies[0]!;
    expect(first).toContain("package.json");
    for (const f of first) {
      expect(existsSync(join(root, f))).toBe(true);
      expect(ignored).not.toContain(f);
    }
    for (const m of dockerfile.matchAll(/^COPY --from=build \/src\/(\S+) /gm)) {
      const src = m[1]!;
      if (src.startsWith("dist/")) continue; // made by npm run build in the image
      expect(existsSync(join(root, src))).toBe(true);
      expect(ignored.some((i) => src === i || src.startsWith(`${i}/`))).toBe(false);
    }
    const dir = tempDir("docker-npm");
    try {
      for (const f of first) copyFileSync(join(root, f), join(dir, f));
      const npm = await run(["npm", "ci", "--dry-run", "--offline", "--no-audit", "--no-fund"], { cwd: dir });
      expect({ code: npm.code, err: npm.code === 0 ? "" : npm.stderr.slice(-2000) }).toEqual({ code: 0, err: "" });
    } finally {
      removeTempDir(dir);
    }
  }, 60_000);
});
