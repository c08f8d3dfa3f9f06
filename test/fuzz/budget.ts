/**
 * Run budget for the fuzz tests: a small fixed number of cases in the normal test run (a few
 * seconds per property), more on demand: `FUZZ_RUNS=100000 bun test test/fuzz`. The normal run
 * replays one reviewed seed, so that a red run points at a change and not at the dice (as the
 * chaos test does); `FUZZ_SEED=random` explores new cases, `FUZZ_SEED=n` replays one. fast-check
 * prints the seed and path of any failure.
 */
const PINNED_SEED = 20261207;

/** The seed for a property: FUZZ_SEED=n, a new one for FUZZ_SEED=random, else the pinned one. */
export function fuzzSeed(): number {
  const env = process.env.FUZZ_SEED;
  if (env === "random") return Math.floor(Math.random() * 2 ** 31);
  const n = Number(env);
  return env !== undefined && Number.isInteger(n) ? n : PINNED_SEED;
}
export function fuzzRuns(defaultRuns: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}

/** fast-check parameters for one property: the run budget and the seed (see fuzzSeed). */
export function fuzzParams(defaultRuns: number): { numRuns: number; seed: number } {
  return { numRuns: fuzzRuns(defaultRuns), seed: fuzzSeed() };
}

/** A test timeout that grows with the budget: `perRunMs` per case on top of a base. */
export function fuzzTimeout(defaultRuns: number, perRunMs: number, baseMs = 20_000): number {
  return baseMs + fuzzRuns(defaultRuns) * perRunMs;
}
