/** Status: build and runtime info, remote write queues, command-line flags, the loaded configuration and TSDB stats. */
import type { RemoteQueueStatus } from "../../../src/model/index.ts";
import { apiGet } from "../api.ts";
import { h, type Child } from "../dom.ts";
import { errorBox, refreshingPage } from "./common.ts";
import type { Page } from "./page.ts";

interface NameCount {
  name: string;
  value: number;
}
interface TsdbStatus {
  headStats?: { numSeries?: number; numLabelPairs?: number; chunkCount?: number; minTime?: number; maxTime?: number };
  seriesCountByMetricName?: NameCount[];
  labelValueCountByLabelName?: NameCount[];
  memoryInBytesByLabelName?: NameCount[];
  seriesCountByLabelValuePair?: NameCount[];
}

/** Each part is fetched on its own: a node that lacks one endpoint still shows the others. */
async function section(title: string, id: string, load: () => Promise<Child>): Promise<HTMLElement> {
  let body: Child;
  try {
    body = await load();
  } catch (err) {
    body = errorBox(err);
  }
  return h("section", { class: "status-section", id }, h("h2", null, title), body);
}

function kvTable(obj: Record<string, unknown>): HTMLElement {
  return h(
    "table",
    { class: "data-table kv-table" },
    h(
      "tbody",
      null,
      ...Object.keys(obj).map((k) => h("tr", null, h("th", null, k), h("td", { class: "mono" }, formatValue(obj[k])))),
    ),
  );
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function countTable(title: string, rows: NameCount[] | undefined, nameCol: string, valueCol: string): HTMLElement | null {
  if (!rows || rows.length === 0) return null;
  return h(
    "div",
    { class: "count-table" },
    h("h3", null, title),
    h(
      "table",
      { class: "data-table" },
      h("thead", null, h("tr", null, h("th", null, nameCol), h("th", { class: "num" }, valueCol))),
      h("tbody", null, ...rows.map((r) => h("tr", null, h("td", { class: "mono" }, r.name), h("td", { class: "num" }, r.value.toLocaleString())))),
    ),
  );
}

function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) >= 9e15) return "–";
  return new Date(ms).toISOString();
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** One row per remote_write queue: where it sends, how far behind it is, what failed last. */
function remoteWriteTable(queues: RemoteQueueStatus[]): HTMLElement {
  if (queues.length === 0) return h("p", { class: "muted" }, "No remote_write endpoints are configured.");
  const cols = ["Name", "Endpoint", "Shards (desired, min–max)", "Pending samples", "On disk", "Sent", "Retried", "Failed", "Dropped", "Highest sent", "Delivered through", "Last error"];
  return h(
    "table",
    { class: "data-table remote-write-table" },
    h("thead", null, h("tr", null, ...cols.map((c) => h("th", null, c)))),
    h(
      "tbody",
      null,
      ...queues.map((q) =>
        h(
          "tr",
          null,
          h("td", { class: "mono" }, q.name),
          h("td", { class: "mono" }, q.url),
          h("td", { class: "num" }, `${q.shards} (${Math.ceil(q.desiredShards)}, ${q.minShards}–${q.maxShards})`),
          h("td", { class: "num" }, q.pendingSamples.toLocaleString()),
          h("td", { class: "num" }, formatBytes(q.diskBytes)),
          h("td", { class: "num" }, q.samplesSent.toLocaleString()),
          h("td", { class: "num" }, q.samplesRetried.toLocaleString()),
          h("td", { class: "num" }, q.samplesFailed.toLocaleString()),
          h("td", { class: "num" }, q.samplesDropped.toLocaleString()),
          h("td", { class: "mono" }, q.highestSentMs > 0 ? formatTime(q.highestSentMs) : "–"),
          h("td", { class: "mono" }, q.deliveredThroughMs > 0 ? formatTime(q.deliveredThroughMs) : "–"),
          h("td", { class: "mono" }, q.lastError === "" ? "–" : `${formatTime(q.lastErrorAtMs)}: ${q.lastError}`),
        ),
      ),
    ),
  );
}

export function statusPage(): Page {
  return refreshingPage({
    title: "Status",
    className: "status-page",
    refreshMs: null,
    header: h(
      "nav",
      { class: "page-tools anchors" },
      h("a", { href: "#build" }, "Build"),
      h("a", { href: "#runtime" }, "Runtime"),
      h("a", { href: "#tsdb" }, "TSDB"),
      h("a", { href: "#remote-write" }, "Remote write"),
      h("a", { href: "#flags" }, "Flags"),
      h("a", { href: "#config" }, "Configuration"),
    ),
    load: async (signal) => {
      const parts = await Promise.all([
        section("Build information", "build", async () => kvTable((await apiGet<Record<string, unknown>>("/api/v1/status/buildinfo", undefined, signal)).data)),
        section("Runtime information", "runtime", async () => kvTable((await apiGet<Record<string, unknown>>("/api/v1/status/runtimeinfo", undefined, signal)).data)),
        section("TSDB status", "tsdb", async () => {
          const t = (await apiGet<TsdbStatus>("/api/v1/status/tsdb", undefined, signal)).data;
          const head = t.headStats ?? {};
          return h(
            "div",
            null,
            h(
              "div",
              { class: "cards" },
              ...[
                ["Head series", head.numSeries],
                ["Label pairs", head.numLabelPairs],
                ["Chunks", head.chunkCount],
              ].map(([k, v]) => h("div", { class: "card neutral" }, h("div", { class: "card-title" }, String(k)), h("div", { class: "card-value" }, v === undefined ? "–" : Number(v).toLocaleString()))),
              h("div", { class: "card neutral" }, h("div", { class: "card-title" }, "Head time range"), h("div", { class: "card-value small-text" }, `${formatTime(head.minTime)} → ${formatTime(head.maxTime)}`)),
            ),
            h(
              "div",
              { class: "count-grid" },
              countTable("Top series count by metric name", t.seriesCountByMetricName, "Name", "Count"),
              countTable("Top label names with value count", t.labelValueCountByLabelName, "Name", "Count"),
              countTable("Top label names by memory usage", t.memoryInBytesByLabelName, "Name", "Bytes"),
              countTable("Top series count by label value pairs", t.seriesCountByLabelValuePair, "Name", "Count"),
            ),
          );
        }),
        section("Remote write", "remote-write", async () => remoteWriteTable((await apiGet<{ queues: RemoteQueueStatus[] }>("/api/v1/status/remote_write", undefined, signal)).data.queues)),
        section("Command-line flags", "flags", async () => kvTable((await apiGet<Record<string, string>>("/api/v1/status/flags", undefined, signal)).data)),
        section("Configuration", "config", async () => {
          const cfg = (await apiGet<{ yaml: string }>("/api/v1/status/config", undefined, signal)).data;
          return h("pre", { class: "config-yaml" }, cfg.yaml);
        }),
      ]);
      return h("div", null, ...parts);
    },
  });
}
