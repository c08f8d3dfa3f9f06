/**
 * Run budget for the fuzz tests: a small fixed number of cases in the normal test run (a few
 * seconds per property), more on demand: `FUZZ_RUNS=100000 bun test test/fuzz`. The seed is
 * random unless FUZZ_SEED is set; fast-check prints the seed and path of any failure to replay it.
 */
export function fuzzRuns(defaultRuns: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}

/** fast-check parameters for one property: the run budget, and FUZZ_SEED when given. */
export function fuzzParams(defaultRuns: number): { numRuns: number; seed?: number } {
  const seed = Number(process.env.FUZZ_SEED);
  return Number.isInteger(seed) ? { numRuns: fuzzRuns(defaultRuns), seed } : { numRuns: fuzzRuns(defaultRuns) };
}

/** A test timeout that grows with the budget: `perRunMs` per case on top of a base. */
export function fuzzTimeout(defaultRuns: number, perRunMs: number, baseMs = 20_000): number {
  return baseMs + fuzzRuns(defaultRuns) * perRunMs;
}
