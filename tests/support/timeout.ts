// Each project's time limit for a test or hook, from its `globals` in jest.config.js. Jest reads
// `testTimeout` only from the top-level config: inside a project it is ignored (jest-circus takes
// globalConfig.testTimeout), and a Pulumi program evaluated in a beforeAll on a busy machine then ran
// into the 5 s default. `jest.setTimeout` in a test file still overrides this.
const limit = (globalThis as { HOMELAB_TEST_TIMEOUT?: unknown }).HOMELAB_TEST_TIMEOUT;
if (typeof limit !== "number")
  throw new Error("jest.config.js: the project sets no globals.HOMELAB_TEST_TIMEOUT");
jest.setTimeout(limit);
