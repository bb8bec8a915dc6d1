/**
 * How many samples a property test (fast-check) draws, and from which seed.
 *
 * The unit tier (`npm test`) runs each property `base` times from one fixed seed: the same samples on
 * every run, so the tier stays fast and a failure is reproducible. Boundaries a defect would sit on
 * belong in the property's `examples`, which run on top of the random samples.
 *
 * `HOMELAB_PROPERTY_RUNS=<factor>` (`.ci/run` sets it for `npm run test:all`) multiplies every property's
 * runs, from the same fixed seed: CI is reproducible, and a red run means a defect, never an unlucky
 * draw. `HOMELAB_PROPERTY_SEED=random` draws a fresh seed to explore further (fast-check prints the
 * seed of a failure), and `HOMELAB_PROPERTY_SEED=<seed>` replays one.
 */
export const FIXED_SEED = 16_2026;

export function runs(base: number): { numRuns: number; seed?: number } {
  const raw = process.env["HOMELAB_PROPERTY_RUNS"] ?? "1";
  const factor = Number(raw);
  if (!Number.isInteger(factor) || factor < 1)
    throw new Error(`HOMELAB_PROPERTY_RUNS must be a whole number of at least 1, not ${JSON.stringify(raw)}`);
  const chosen = process.env["HOMELAB_PROPERTY_SEED"] ?? String(FIXED_SEED);
  if (chosen !== "random" && !Number.isInteger(Number(chosen)))
    throw new Error(
      `HOMELAB_PROPERTY_SEED must be a whole number or "random", not ${JSON.stringify(chosen)}`,
    );
  const seed = chosen === "random" ? undefined : Number(chosen);
  return seed === undefined ? { numRuns: base * factor } : { numRuns: base * factor, seed };
}
