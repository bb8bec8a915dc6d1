/**
 * Type checking is `npm run typecheck`; jest only transpiles so the suite stays fast. Two tiers:
 * `npm test` runs the unit tier (everything under tests/ but tests/rehearsal/); `npm run test:rehearsal`
 * (HOMELAB_TEST_TIER=rehearsal) runs the deploy rehearsal, minutes long, on local hosts.
 */
const rehearsal = process.env.HOMELAB_TEST_TIER === "rehearsal";
module.exports = {
  testEnvironment: "node",
  roots: [rehearsal ? "<rootDir>/tests/rehearsal" : "<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: rehearsal ? [] : ["/tests/rehearsal/"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }],
  },
  // Pulumi's runtime keeps module-level state (config, mocks): one program per worker file.
  maxWorkers: 2,
  testTimeout: rehearsal ? 1800000 : 30000,
};
