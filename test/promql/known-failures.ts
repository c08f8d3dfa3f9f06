/**
 * Eval cases of Prometheus's PromQL test scripts that are known to fail, by file and line, each
 * with the reason. The suite fails on any other failing case; an entry here that passes is
 * reported (so the list can be trimmed) without failing the suite, since another room's fix can
 * make it pass at any time.
 */
export interface KnownFailure {
  file: string;
  line: number;
  reason: string;
}

export const KNOWN_FAILURES: KnownFailure[] = [];
