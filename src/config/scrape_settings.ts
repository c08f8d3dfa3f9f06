/**
 * The scrape settings `global` and a scrape config share: limits (a scrape config's 0 takes the
 * global value, as Prometheus fills them in ScrapeConfig.Validate), the protocols offered in the
 * Accept header, and the native-histogram and UTF-8 name settings of Prometheus 3, which Shoal
 * accepts only at the values that describe what it does (text formats, classic histograms,
 * legacy names) and refuses otherwise rather than ignoring them.
 */
import type { Checker, Path } from "./checker.ts";
import type { RawScrapeSettings } from "./schema.ts";

/** Prometheus's exposition protocol names, as scrape_protocols spells them. */
export const SCRAPE_PROTOCOLS = ["OpenMetricsText0.0.1", "OpenMetricsText1.0.0", "PrometheusProto", "PrometheusText0.0.4", "PrometheusText1.0.0"] as const;
export type ScrapeProtocol = Exclude<(typeof SCRAPE_PROTOCOLS)[number], "PrometheusProto">;

/** Prometheus 3's default order when scrape_protocols is unset and native histograms are off. */
export const DEFAULT_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"];

export interface ScrapeSettings {
  /**
   * Offered in this order in the Accept header; undefined when neither scrape_protocols nor
   * metric_name_escaping_scheme was written, so the Prometheus 2.x header is sent.
   */
  scrapeProtocols?: ScrapeProtocol[];
  sampleLimit: number;
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
  bodySizeLimit: number;
  targetLimit: number;
  keepDroppedTargets: number;
}

const ESCAPING_SCHEMES = ["allow-utf-8", "underscores", "dots", "values"];
const SUPPORTED_PROTOCOLS = SCRAPE_PROTOCOLS.filter((p) => p !== "PrometheusProto").join(", ");

/** One protocol name: known to Prometheus, and one Shoal parses. */
export function checkScrapeProtocol(c: Checker, value: string, path: Path, key: string | undefined, where: string): ScrapeProtocol {
  if (!(SCRAPE_PROTOCOLS as readonly string[]).includes(value)) {
    c.fail(path, `unknown scrape protocol ${value}, supported: [${SCRAPE_PROTOCOLS.join(" ")}] ${where}`, key);
  }
  if (value === "PrometheusProto") {
    c.fail(path, `scrape protocol PrometheusProto ${where} is not supported by Shoal (it parses ${SUPPORTED_PROTOCOLS})`, key);
  }
  return value as ScrapeProtocol;
}

function refuseIf(c: Checker, path: Path, key: keyof RawScrapeSettings | string, refused: boolean, value: string, why: string): void {
  if (refused) c.fail(path, `${key}: ${value} is not supported by Shoal (${why})`, key);
}

/**
 * Checks the settings at `path`; `global` is undefined for the global section itself and the
 * resolved global settings for a scrape config. `where` ends Prometheus's messages
 * ("for global config", "for scrape config with job name \"x\"").
 */
export function checkScrapeSettings(c: Checker, raw: RawScrapeSettings, path: Path, global: ScrapeSettings | undefined, where: string): ScrapeSettings {
  let scrapeProtocols: ScrapeProtocol[] | undefined;
  if (raw.scrape_protocols != null) {
    const sps = raw.scrape_protocols;
    if (sps.length === 0) c.fail(path, `scrape_protocols cannot be empty ${where}`, "scrape_protocols");
    const seen = new Set<string>();
    for (const sp of sps) {
      if (seen.has(sp.toLowerCase())) c.fail(path, `duplicated protocol in scrape_protocols, got [${sps.join(" ")}] ${where}`, "scrape_protocols");
      seen.add(sp.toLowerCase());
    }
    scrapeProtocols = sps.map((sp, i) => checkScrapeProtocol(c, sp, [...path, "scrape_protocols", i], undefined, `in scrape_protocols ${where}`));
  }

  const validation = raw.metric_name_validation_scheme ?? "";
  if (validation !== "" && validation !== "legacy") {
    if (validation !== "utf8") {
      c.fail(path, `unknown name validation method specified, must be either '', 'legacy' or 'utf8', got ${validation}`, "metric_name_validation_scheme");
    }
    refuseIf(c, path, "metric_name_validation_scheme", true, "utf8", "metric and label names are checked as Prometheus 2 checks them: 'legacy'");
  }
  const escaping = raw.metric_name_escaping_scheme ?? "";
  if (escaping !== "") {
    if (!ESCAPING_SCHEMES.includes(escaping)) {
      c.fail(path, `unknown name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got ${JSON.stringify(escaping)}`, "metric_name_escaping_scheme");
    }
    refuseIf(c, path, "metric_name_escaping_scheme", escaping !== "underscores", escaping, "with legacy names only 'underscores' escaping applies");
    // The escaping is sent with the 1.0.0 text formats of Prometheus 3's Accept header.
    scrapeProtocols ??= global?.scrapeProtocols ?? [...DEFAULT_SCRAPE_PROTOCOLS];
  }
  refuseIf(c, path, "scrape_native_histograms", raw.scrape_native_histograms === true, "true", "Shoal stores no native histograms");
  refuseIf(c, path, "convert_classic_histograms_to_nhcb", raw.convert_classic_histograms_to_nhcb === true, "true", "Shoal stores no native histograms");
  refuseIf(c, path, "extra_scrape_metrics", raw.extra_scrape_metrics === true, "true", "Shoal does not report scrape_timeout_seconds, scrape_sample_limit and scrape_body_size_bytes");
  // always_scrape_classic_histograms is honoured either way: the text formats Shoal asks for carry
  // classic histograms only, so they are always stored, as Prometheus stores them from these formats.

  const pick = (own: number | null | undefined, fallback: number | undefined): number => (own ? own : (fallback ?? 0));
  return {
    scrapeProtocols: scrapeProtocols ?? global?.scrapeProtocols,
    sampleLimit: pick(raw.sample_limit, global?.sampleLimit),
    labelLimit: pick(raw.label_limit, global?.labelLimit),
    labelNameLengthLimit: pick(raw.label_name_length_limit, global?.labelNameLengthLimit),
    labelValueLengthLimit: pick(raw.label_value_length_limit, global?.labelValueLengthLimit),
    bodySizeLimit: pick(raw.body_size_limit, global?.bodySizeLimit),
    targetLimit: pick(raw.target_limit, global?.targetLimit),
    keepDroppedTargets: pick(raw.keep_dropped_targets, global?.keepDroppedTargets),
  };
}
