import { createRequire } from "node:module";
import type { EnvironmentContext, JestEnvironmentConfig } from "@jest/environment";
import { TestEnvironment } from "jest-environment-node";

/**
 * Jest's node environment, plus modules loaded once per worker process instead of once per test file.
 *
 * Jest gives every test file its own module registry: each file that loads @pulumi/pulumi compiles the
 * TypeScript compiler (9 MB; the SDK parses closures with it) and npm's arborist (its code-path
 * analysis) again, most of a second per file. These two are stateless libraries; Node loads them here,
 * outside the registry, and tests/support/shared/*.ts (mapped in jest.config.js) hand the same module
 * to every file. Anything with state that a test could see (the SDK, its runtime, gRPC, protobuf's
 * registry) stays per file.
 */
export const SHARED = "__homelabSharedModules";

const load = createRequire(__filename);

export default class Environment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const shared = {};
    for (const name of ["typescript", "@npmcli/arborist"])
      Object.defineProperty(shared, name, { get: () => load(name), enumerable: true });
    this.global[SHARED] = shared;
  }
}
