/**
 * The one duration parser and the one byte-size parser against the examples Prometheus
 * documents and the cases its own tests pin (prometheus/common model.ParseDuration,
 * alecthomas/units ParseBase2Bytes as --storage.tsdb.retention.size reads it).
 */
import { describe, expect, test } from "bun:test";
import { formatDuration, parseByteSize, parseDuration } from "../../src/model/index.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("parseDuration (model.ParseDuration)", () => {
  const accepted: [string, number][] = [
    ["0", 0],
    ["0s", 0],
    ["324ms", 324],
    ["3s", 3 * S],
    ["5m", 5 * M],
    ["1h", H],
    ["1h30m", H + 30 * M],
    ["4d", 4 * D],
    ["4d1h", 4 * D + H],
    ["14d", 14 * D],
    ["3w", 21 * D],
    ["3w2d1h", 23 * D + H],
    ["10y", 10 * 365 * D],
    ["1y2w3d4h5m6s7ms", 365 * D + 14 * D + 3 * D + 4 * H + 5 * M + 6 * S + 7],
    ["90s", 90 * S],
    ["15d", 15 * D],
  ];
  for (const [text, ms] of accepted) {
    test(`${JSON.stringify(text)} is ${ms} ms`, () => expect(parseDuration(text)).toBe(ms));
  }

  const refused: [string, string][] = [
    ["", "empty duration string"],
    ["1", 'not a valid duration string: "1"'],
    ["s", 'not a valid duration string: "s"'],
    ["1.5s", 'unknown unit "." in duration "1.5s"'],
    ["-1s", 'not a valid duration string: "-1s"'],
    ["1m1h", 'not a valid duration string: "1m1h"'],
    ["1h1h", 'not a valid duration string: "1h1h"'],
    ["5m1m", 'not a valid duration string: "5m1m"'],
    ["15x", 'unknown unit "x" in duration "15x"'],
    ["5y1hs", 'unknown unit "hs" in duration "5y1hs"'],
    ["1h 30m", 'unknown unit "h " in duration "1h 30m"'],
    ["15 days", 'unknown unit " days" in duration "15 days"'],
    ["1H", 'unknown unit "H" in duration "1H"'],
    ["300000y", "duration out of range"],
  ];
  for (const [text, message] of refused) {
    test(`${JSON.stringify(text)} is refused: ${message}`, () => expect(() => parseDuration(text)).toThrow(message));
  }

  test("formats as model.Duration.String, and what it prints parses back", () => {
    const cases: [number, string][] = [
      [0, "0s"],
      [1, "1ms"],
      [1500, "1s500ms"],
      [15 * S, "15s"],
      [M, "1m"],
      [H + 30 * M, "1h30m"],
      [8 * D, "8d"],
      [14 * D, "2w"],
      [15 * D, "15d"],
      [365 * D, "1y"],
      [365 * D + S, "365d1s"],
    ];
    for (const [ms, text] of cases) {
      expect(formatDuration(ms)).toBe(text);
      expect(parseDuration(text)).toBe(ms);
    }
  });
});

describe("parseByteSize (units.ParseBase2Bytes)", () => {
  const accepted: [string, number][] = [
    ["0", 0],
    ["0B", 0],
    ["100B", 100],
    ["1KB", 1024],
    ["1KiB", 1024],
    ["10MB", 10 * 2 ** 20],
    ["512MB", 512 * 2 ** 20],
    ["1GiB", 2 ** 30],
    ["10GB", 10 * 2 ** 30],
    ["2TB", 2 * 2 ** 40],
    ["1PiB", 2 ** 50],
    ["1EB", 2 ** 60],
    ["1KB512B", 1536],
    ["1GB512MB", 2 ** 30 + 512 * 2 ** 20],
    ["1.5GB", 1.5 * 2 ** 30],
    ["1.5KB", 1536],
    [".5KB", 512],
    ["+1KB", 1024],
  ];
  for (const [text, bytes] of accepted) {
    test(`${JSON.stringify(text)} is ${bytes} bytes`, () => expect(parseByteSize(text)).toBe(bytes));
  }

  // A unit is required; units are case-sensitive ("kB" is the SI spelling and never 1024);
  // one size does not mix KB-style and KiB-style units.
  for (const text of ["", "512", "1kb", "1kB", "1mb", "10XB", "1GiB512MB", "1 GB", "GB", ".", "1.", "-1GB"]) {
    test(`${JSON.stringify(text)} is refused with the text quoted`, () => expect(() => parseByteSize(text)).toThrow(`not a valid size: ${JSON.stringify(text)}`));
  }

  test("sizes past int64 are refused", () => expect(() => parseByteSize("8EB")).toThrow("out of range"));
});
