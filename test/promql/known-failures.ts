/**
 * Eval cases of Prometheus's PromQL test scripts that are known to fail, by file and line, each
 * with the reason. The suite fails on any other failing case, and on an entry here that passes.
 */
export interface KnownFailure {
  file: string;
  line: number;
  reason: string;
}

export const KNOWN_FAILURES: KnownFailure[] = [];
