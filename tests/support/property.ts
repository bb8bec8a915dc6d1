/**
 * How many samples a property test (fast-check) draws, and from which seed.
 *
 * The unit tier (`npm test`) runs each property `base` times from one fixed seed: the same samples on
 * every run, so the tier stays fast and a failure is reproducible. Boundaries a defect would sit on
 * belong in the property's `examples`, which run on top of the random samples.
 *
 * `HOMELAB_PROPERTY_RUNS=<factor>` (`.ci/run` sets it for `npm run test:all`) multiplies every property's
 * runs and draws a fresh seed each time, so coverage grows from run to run; fast-check prints the seed
 * of a failure, and `HOMELAB_PROPERTY_SEED=<seed>` replays it.
 */
export const FIXED_SEED = 16_2026;

export function runs(base: number): { numRuns: number; seed?: number } {
  const raw = process.env["HOMELAB_PROPERTY_RUNS"] ?? "1";
  const factor = Number(raw);
  if (!Number.isInteger(factor) || factor < 1)
    throw new Error(`HOMELAB_PROPERTY_RUNS must be a whole number of at least 1, not ${JSON.stringify(raw)}`);
  const replay = process.env["HOMELAB_PROPERTY_SEED"];
  const seed = replay !== undefined ? Number(replay) : factor === 1 ? FIXED_SEED : undefined;
  return seed === undefined ? { numRuns: base * factor } : { numRuns: base * factor, seed };
}
