/**
 * The config corpus in test/config/corpus through both the real `promtool check config`
 * (Prometheus 2.42) and `shoal check config`: the same exit status, and for misspelt fields the
 * same error lines. Where they differ the difference is listed here with its reason: Shoal refuses
 * fields it would otherwise ignore, and knows the fields Prometheus added after 2.42.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { BUN, SHOAL_CLI } from "../support/index.ts";

const CORPUS = join(import.meta.dir, "corpus");
const FILES = readdirSync(CORPUS).filter((f) => f.endsWith(".yml")).sort();
const promtool = Bun.which("promtool");

function check(cmd: string[], file: string) {
  const p = Bun.spawnSync([...cmd, "check", "config", file], { cwd: CORPUS });
  return { code: p.exitCode, err: p.stderr.toString() };
}
const shoal = (file: string) => check([BUN, SHOAL_CLI], file);

/**
 * Fields Shoal refuses as not supported: where (line, field path) Shoal says so, and promtool
 * 2.42's verdict — 0 where 2.42 knows the field (Shoal refuses what it would not honour), 1 where
 * the field came after 2.42 (both refuse, in different words).
 */
const UNSUPPORTED: Record<string, { line: number; field: string; promtool: 0 | 1 }> = {
  "unsupported-alertmanager-sigv4.yml": { line: 3, field: "alerting.alertmanagers[0].sigv4", promtool: 1 },
  "unsupported-ec2-sd.yml": { line: 3, field: "scrape_configs[0].ec2_sd_configs", promtool: 0 },
  "unsupported-enable-http2.yml": { line: 3, field: "scrape_configs[0].enable_http2", promtool: 0 },
  "unsupported-native-histograms.yml": { line: 3, field: "scrape_configs[0].scrape_native_histograms", promtool: 1 },
  "unsupported-oauth2.yml": { line: 3, field: "scrape_configs[0].oauth2", promtool: 0 },
  "unsupported-otlp.yml": { line: 2, field: "otlp.promote_resource_attributes", promtool: 1 },
  "unsupported-protobuf-protocol.yml": { line: 3, field: "scrape_configs[0].scrape_protocols[0]", promtool: 1 },
  "unsupported-proxy-url.yml": { line: 3, field: "scrape_configs[0].proxy_url", promtool: 0 },
  "unsupported-query-log-file.yml": { line: 2, field: "global.query_log_file", promtool: 0 },
  "unsupported-remote-read.yml": { line: 1, field: "remote_read", promtool: 0 },
  "unsupported-runtime.yml": { line: 2, field: "runtime.gogc", promtool: 1 },
  "unsupported-scrape-failure-log.yml": { line: 2, field: "global.scrape_failure_log_file", promtool: 1 },
  "unsupported-storage-exemplars.yml": { line: 3, field: "storage.exemplars.max_exemplars", promtool: 0 },
  "unsupported-storage-tsdb.yml": { line: 3, field: "storage.tsdb.out_of_order_time_window", promtool: 0 },
  "unsupported-tls-min-version.yml": { line: 4, field: "scrape_configs[0].tls_config.min_version", promtool: 0 },
  "unsupported-tracing.yml": { line: 2, field: "tracing.endpoint", promtool: 0 },
  "unsupported-track-timestamps-staleness.yml": { line: 3, field: "scrape_configs[0].track_timestamps_staleness", promtool: 1 },
  "unsupported-utf8-names.yml": { line: 2, field: "global.metric_name_validation_scheme", promtool: 1 },
};

/** Fields Prometheus added after 2.42 that Shoal implements: promtool 2.42 calls them unknown. */
const NEWER_THAN_2_42: Record<string, { shoal: 0 | 1; error?: string }> = {
  "v3-global-limits.yml": { shoal: 0 },
  "v3-rule-query-offset.yml": { shoal: 0 },
  "v3-scrape-protocols.yml": { shoal: 0 },
  "v3-duplicate-protocol.yml": {
    shoal: 1,
    error: 'v3-duplicate-protocol.yml:3: scrape_configs[0].scrape_protocols: duplicated protocol in scrape_protocols, got [PrometheusText0.0.4 PrometheusText0.0.4] for scrape config with job name "a"',
  },
};

test("every corpus file has an expectation", () => {
  const known = (f: string) => f.startsWith("valid-") || f.startsWith("typo-") || f in UNSUPPORTED || f in NEWER_THAN_2_42;
  expect(FILES.filter((f) => !known(f))).toEqual([]);
  expect(Object.keys(UNSUPPORTED).filter((f) => !FILES.includes(f))).toEqual([]);
});

describe.skipIf(!promtool)("shoal check config against promtool check config", () => {
  for (const file of FILES.filter((f) => f.startsWith("valid-"))) {
    test(`${file}: both accept it`, () => {
      expect(check([promtool!], file)).toEqual({ code: 0, err: "" });
      expect(shoal(file)).toEqual({ code: 0, err: "" });
    });
  }

  for (const file of FILES.filter((f) => f.startsWith("typo-"))) {
    test(`${file}: both refuse it with the same lines`, () => {
      const real = check([promtool!], file);
      expect(real.code).toBe(1);
      expect(real.err).toContain(" not found in type ");
      expect(shoal(file)).toEqual(real);
    });
  }

  for (const [file, want] of Object.entries(UNSUPPORTED)) {
    test(`${file}: refused as not supported by Shoal (promtool 2.42: ${want.promtool})`, () => {
      const ours = shoal(file);
      expect(ours.code).toBe(1);
      expect(ours.err).toStartWith(`  FAILED: ${file}:${want.line}: ${want.field}: `);
      expect(ours.err).toContain("is not supported by Shoal");
      expect(check([promtool!], file).code).toBe(want.promtool);
    });
  }

  for (const [file, want] of Object.entries(NEWER_THAN_2_42)) {
    test(`${file}: a field after 2.42, known to Shoal (shoal: ${want.shoal})`, () => {
      const real = check([promtool!], file);
      expect(real.code).toBe(1);
      expect(real.err).toContain(" not found in type ");
      const ours = shoal(file);
      expect(ours.code).toBe(want.shoal);
      expect(ours.err).toBe(want.error === undefined ? "" : `  FAILED: ${want.error}\n`);
    });
  }
});
