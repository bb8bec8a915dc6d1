/**
 * Three test tiers, as jest projects (type checking is `npm run typecheck`; jest only transpiles):
 * - unit: `npm test`. Everything under tests/ that needs nothing but `npm ci`: no daemon, no tool from
 *   the system (Pulumi's mocks, doubles, pure analysis, the plan in-process). The default while
 *   developing, well under a minute (docs/development.md, "A fast unit tier").
 * - integration: `npm run test:integration`, files named `*.integration.test.ts`. Real parts from Debian
 *   (dockerd, sshd, haproxy, borg, promtool, pebble + lego, moto, PostgreSQL, shellcheck, nft, bash, …),
 *   which `.ci/run` installs; the plan CLI or the program in a child process; runs too long for the unit
 *   tier.
 * - rehearsal: `npm run test:rehearsal`, tests/rehearsal/. The reference homelab deployed on two local
 *   hosts, about ten minutes, one file at a time.
 * `npm run test:all` runs the three in that order; `.ci/run` calls it.
 */
const transform = { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] };
// A project's `testTimeout` is ignored (jest reads it from the top level only): tests/support/timeout.ts
// sets each project's limit from its globals.
// tests/support/environment.ts: jest's node environment, with the TypeScript compiler and npm's arborist
// (which @pulumi/pulumi loads) loaded once per worker instead of once per test file.
const base = {
  testEnvironment: "<rootDir>/tests/support/environment.ts",
  moduleNameMapper: {
    "^typescript$": "<rootDir>/tests/support/shared/typescript.ts",
    "^@npmcli/arborist$": "<rootDir>/tests/support/shared/arborist.ts",
  },
  transform,
  rootDir: __dirname,
  setupFilesAfterEnv: ["<rootDir>/tests/support/timeout.ts"],
};
const timeout = (ms) => ({ globals: { HOMELAB_TEST_TIMEOUT: ms } });

module.exports = {
  // Pulumi's runtime keeps module-level state (config, mocks): one program per worker file.
  maxWorkers: 2,
  projects: [
    {
      ...base,
      displayName: "unit",
      roots: ["<rootDir>/tests"],
      testMatch: ["**/*.test.ts"],
      testPathIgnorePatterns: ["/tests/rehearsal/", "\\.integration\\.test\\.ts$"],
      ...timeout(30_000),
    },
    {
      ...base,
      displayName: "integration",
      roots: ["<rootDir>/tests"],
      testMatch: ["**/*.integration.test.ts"],
      testPathIgnorePatterns: ["/tests/rehearsal/"],
      ...timeout(60_000),
    },
    {
      ...base,
      displayName: "rehearsal",
      roots: ["<rootDir>/tests/rehearsal"],
      testMatch: ["**/*.test.ts"],
      ...timeout(1_800_000),
    },
  ],
};
