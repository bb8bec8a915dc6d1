/**
 * Type checking is `npm run typecheck`; jest only transpiles so the suite stays fast. Two projects:
 * "unit" (`npm test`) and "rehearsal" (`npm run test:rehearsal`: the deploy rehearsal on local hosts,
 * minutes long, see tests/rehearsal/).
 */
const transform = { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }] };
module.exports = {
  // Pulumi's runtime keeps module-level state (config, mocks): one program per worker file.
  maxWorkers: 2,
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      roots: ["<rootDir>/tests"],
      testMatch: ["**/*.test.ts"],
      testPathIgnorePatterns: ["/tests/rehearsal/"],
      transform,
      testTimeout: 30000,
    },
    {
      displayName: "rehearsal",
      testEnvironment: "node",
      roots: ["<rootDir>/tests/rehearsal"],
      testMatch: ["**/*.test.ts"],
      transform,
      testTimeout: 1800000,
    },
  ],
};
