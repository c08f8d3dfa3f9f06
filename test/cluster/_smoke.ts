import { startNode, clusterPort, aliveMembers, waitFor, stopAll, FAST_TIMING, uniqueClusterName, getJSON, removeDirs } from "./harness.ts";
const name = uniqueClusterName("smoke");
const base = ["--cluster.listen-address=127.0.0.1:0", "--cluster.mdns=false", `--cluster.name=${name}`, ...FAST_TIMING];
try {
  const t0 = Date.now();
  const a = await startNode("a", base);
  console.log("a up", Date.now() - t0);
  const p = await clusterPort(a);
  const b = await startNode("b", [...base, `--cluster.join=127.0.0.1:${p}`]);
  const c = await startNode("c", [...base, `--cluster.join=127.0.0.1:${p}`]);
  (globalThis as any).nodes = [a, b, c];
  console.log("all up", Date.now() - t0);
  for (const n of [a, b, c]) await waitFor("3 members", async () => (await aliveMembers(n)).length === 3);
  console.log("formed", Date.now() - t0);
  const now = Date.now();
  const series = [];
  for (let i = 0; i < 50; i++) series.push({ labels: { __name__: "m", i: String(i) }, samples: [[now, i], [now + 1000, i + 1]] });
  const r = await fetch(b.url + "/write", { method: "POST", body: JSON.stringify({ series }) });
  console.log("write", r.status, await r.text(), Date.now() - t0);
  for (const n of [a, b, c]) {
    const sel = await getJSON<{ series: unknown[]; warnings: string[] }>(n, "/select?name=m");
    const loc = await getJSON<{ series: unknown[] }>(n, "/local?name=m");
    console.log(n.name, "select", sel.series.length, sel.warnings, "local", loc.series.length);
  }
  console.log(JSON.stringify(await getJSON(a, "/api/v1/status/cluster")).slice(0, 600));
} catch (e) { console.log(e); for (const n of (globalThis as any).nodes ?? []) console.log(n.name, n.log.slice(-15).join("\n")); } finally {
  await stopAll();
  removeDirs();
}
