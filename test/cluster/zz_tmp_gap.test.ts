import { afterAll, test } from "bun:test";
import { clusterArgs, clusterPort, startNode, stopAll, removeDirs, uniqueClusterName, kill } from "./harness.ts";
afterAll(async () => { await stopAll(); removeDirs(); });
test("gap", async () => {
  const name = uniqueClusterName("gap");
  const a = await startNode("a", clusterArgs(name));
  const j = `--cluster.join=127.0.0.1:${await clusterPort(a)}`;
  const b = await startNode("b", clusterArgs(name, [j]));
  await Bun.sleep(6000);
  kill(b); await b.proc.exited;
  await Bun.sleep(3000);
  const b2 = await startNode("b", clusterArgs(name, [j]), { dataDir: b.dataDir });
  await Bun.sleep(4000);
  for (const n of [b, b2]) console.log(`--- ${n.name}\n` + n.log.filter(l => /cluster started|joined cluster through|member joined|Server is ready/.test(l)).map(l => l.slice(5, 40) + l.slice(l.indexOf("msg="), l.indexOf("msg=") + 40)).join("\n"));
}, 60000);
