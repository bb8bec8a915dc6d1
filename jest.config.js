/** Type checking is `npm run typecheck`; jest only transpiles so the suite stays fast. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }],
  },
  // Pulumi's runtime keeps module-level state (config, mocks): one program per worker file.
  maxWorkers: 2,
  testTimeout: 30000,
};
