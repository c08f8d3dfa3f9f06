/**
 * Prometheus flags that units and Helm charts pass but that have nothing to act on in Shoal.
 * They are accepted (a node must not refuse to start over them) and, when given, logged once at
 * start with the reason they change nothing — never silently ignored.
 *
 * Prometheus's --enable-feature names are handled the same way: each known name says what Shoal
 * does instead; an unknown one is warned about, as Prometheus warns.
 */
import type { Flags, Logger } from "./model/index.ts";
import { reportPromqlFeature } from "./promql_features.ts";

interface FeatureNote {
  readonly level: "info" | "warn";
  readonly why: string;
}

/** Prometheus's --enable-feature names (2.42 and 3.x) that change nothing in Shoal, and why. */
export const PROMETHEUS_FEATURES: ReadonlyMap<string, FeatureNote> = new Map([
  ["promql-at-modifier", { level: "info", why: "the @ modifier is always enabled in Shoal" }],
  ["promql-negative-offset", { level: "info", why: "negative offsets are always enabled in Shoal" }],
  ["remote-write-receiver", { level: "info", why: "the remote write receiver at /api/v1/write is always on in Shoal" }],
  ["memory-snapshot-on-shutdown", { level: "info", why: "Shoal always writes the head to a WAL checkpoint when it shuts down" }],
  ["new-service-discovery-manager", { level: "info", why: "Shoal has a single service discovery manager" }],
  ["auto-gomaxprocs", { level: "info", why: "there is no GOMAXPROCS in Shoal's runtime (Bun)" }],
  ["expand-external-labels", { level: "warn", why: "Shoal does not expand environment variables in external_labels; they are used as written" }],
  ["exemplar-storage", { level: "warn", why: "Shoal does not store exemplars" }],
  ["extra-scrape-metrics", { level: "warn", why: "Shoal does not write the extra scrape_* series" }],
  ["agent", { level: "warn", why: "Shoal has no agent mode; it runs as a full server" }],
  ["promql-per-step-stats", { level: "warn", why: "Shoal's query engine does not collect per-step statistics" }],
  ["no-default-scrape-port", { level: "warn", why: "Shoal does not support turning off the default scrape port" }],
  ["native-histograms", { level: "warn", why: "Shoal does not store native histograms" }],
  // Prometheus 3.x names for PromQL behaviour that Shoal has always on, or not at all.
  ["promql-experimental-functions", { level: "info", why: "experimental PromQL functions (info(), limitk, …) are always enabled in Shoal" }],
  ["promql-duration-expr", { level: "info", why: "duration expressions in ranges, steps and offsets are always enabled in Shoal" }],
  ["promql-delayed-name-removal", { level: "info", why: "Shoal always removes the metric name at the end of the evaluation, as Prometheus 3 does with this feature" }],
  ["type-and-unit-labels", { level: "warn", why: "Shoal's scraper does not add __type__ and __unit__ labels (PromQL drops them with the metric name wherever series carry them)" }],
  ["use-start-timestamps", { level: "warn", why: "Shoal does not store start timestamps" }],
  ["st-storage", { level: "warn", why: "Shoal does not store start timestamps" }],
]);

interface FlagNote {
  /** True when the flag's value asks for something Shoal does not do. */
  readonly active: (flags: Flags) => boolean;
  readonly why: string;
}

const FLAGS_WITHOUT_EFFECT: ReadonlyMap<string, FlagNote> = new Map([
  ["web.console.templates", { active: (f) => f.given.has("web.console.templates"), why: "Shoal has no console templates" }],
  ["web.console.libraries", { active: (f) => f.given.has("web.console.libraries"), why: "Shoal has no console templates" }],
  ["web.max-connections", { active: (f) => f.given.has("web.max-connections"), why: "Shoal's HTTP server (Bun) has no connection limit" }],
  ["storage.tsdb.wal-compression", { active: (f) => f.bool("storage.tsdb.wal-compression"), why: "Shoal's WAL records are not compressed" }],
  ["storage.tsdb.no-lockfile", { active: (f) => f.bool("storage.tsdb.no-lockfile"), why: "Shoal always locks its data directory; two writers would corrupt it" }],
]);

/** Logs every given flag and feature name that has no effect, and warns about unknown features. */
export function reportCompatibilityFlags(flags: Flags, logger: Logger): void {
  for (const [name, note] of FLAGS_WITHOUT_EFFECT) {
    if (note.active(flags)) logger.warn(`Flag --${name} has no effect: ${note.why}`, { value: flags.string(name) });
  }
  for (const feature of flags.list("enable-feature")) {
    // Names that do switch something on are logged as enabled, not as without effect.
    if (reportPromqlFeature(feature, logger)) continue;
    const note = PROMETHEUS_FEATURES.get(feature);
    if (note === undefined) logger.warn("Unknown option for --enable-feature", { option: feature });
    else logger[note.level](`Feature ${feature} has no effect: ${note.why}`, { option: feature });
  }
}

/** Bun closes a connection idle for this long at most (its idleTimeout is capped at 255 s). */
export const MAX_IDLE_TIMEOUT_SECONDS = 255;

/** --web.read-timeout as Bun.serve's idleTimeout in seconds, logging when Bun's cap shortens it. */
export function idleTimeoutSeconds(flags: Flags, logger: Logger): number {
  const seconds = Math.ceil(flags.durationMs("web.read-timeout") / 1000);
  if (seconds > MAX_IDLE_TIMEOUT_SECONDS && flags.given.has("web.read-timeout")) {
    logger.warn(`Flag --web.read-timeout is capped at ${MAX_IDLE_TIMEOUT_SECONDS}s by the HTTP server (Bun)`, { value: flags.string("web.read-timeout") });
  }
  // 0 turns Bun's idle timeout off; Prometheus's 0 likewise means no timeout.
  return Math.min(seconds, MAX_IDLE_TIMEOUT_SECONDS);
}
