/**
 * How long a request line plus headers may be. Prometheus serves with Go's default
 * (http.DefaultMaxHeaderBytes, 1 MiB), so a long query in a GET URL — a big `match[]` list, a
 * generated PromQL expression — works there; Bun's server refuses more than 16 KiB with 431 unless
 * the runtime is started with --max-http-header-size. The compiled binary carries the flag
 * (scripts/build.ts), as do `npm start` and the test harness; a node started by plain
 * `bun src/cli.ts` runs with Bun's default and says so.
 */
import { maxHeaderSize } from "node:http";
import type { Logger } from "../model/index.ts";

export const MAX_REQUEST_HEADER_BYTES = 1 << 20;

/** The runtime flag that lifts Bun's limit to MAX_REQUEST_HEADER_BYTES. */
export const MAX_HEADER_SIZE_FLAG = `--max-http-header-size=${MAX_REQUEST_HEADER_BYTES}`;

/** Warns when this process's HTTP server refuses requests that Prometheus would serve. */
export function warnIfHeaderLimitLow(logger: Logger, limit: number = maxHeaderSize): void {
  if (limit >= MAX_REQUEST_HEADER_BYTES) return;
  logger.warn("HTTP request lines and headers are limited below Prometheus's 1 MiB: longer GET URLs are answered 431", {
    limit_bytes: limit,
    fix: `start the runtime with ${MAX_HEADER_SIZE_FLAG} (the compiled binary has it)`,
  });
}
