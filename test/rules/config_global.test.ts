import { expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../../src/config/index.ts";

test("global rule_query_offset is read (default 0) and a bad duration is refused", () => {
  expect(parseConfig("global:\n  rule_query_offset: 1m30s\n", "/etc/shoal/config.yml").global.ruleQueryOffset).toBe(90_000);
  expect(parseConfig("global: {}\n", "/etc/shoal/config.yml").global.ruleQueryOffset).toBe(0);
  expect(() => parseConfig("global:\n  rule_query_offset: soon\n", "/etc/shoal/config.yml")).toThrow(ConfigError);
});
