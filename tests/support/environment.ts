import { createRequire } from "node:module";
import vm from "node:vm";
import type { EnvironmentContext, JestEnvironmentConfig } from "@jest/environment";
import { TestEnvironment } from "jest-environment-node";

/**
 * Jest's node environment, plus modules loaded once per worker process instead of once per test file,
 * and V8 code caches kept per worker (below).
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

/**
 * V8 code cache per worker, for the modules jest compiles for each test file. Jest compiles every module
 * again in every test file's context (vm.compileFunction, no cache): a fifth of the unit tier's CPU.
 * Code caches do not depend on the context, so the first file a worker runs produces one per module and
 * the next files start from it. V8 checks each cache against the source it is given and rejects a
 * mismatch: the module is then compiled as before, the stale cache dropped, and the next compilation
 * makes a new one (tests/support/environment.test.ts).
 */
const codeCache = new Map<string, Buffer>();
const compile = vm.compileFunction;
vm.compileFunction = function compileWithCache(
  code: string,
  params?: string[],
  options?: vm.CompileFunctionOptions,
) {
  const key = options?.filename;
  if (key === undefined || options?.cachedData !== undefined) return compile(code, params, options);
  const cachedData = codeCache.get(key);
  const fn = compile(code, params, {
    ...options,
    ...(cachedData ? { cachedData } : { produceCachedData: true }),
  });
  const result = fn as typeof fn & { cachedDataRejected?: boolean; cachedData?: Buffer };
  if (cachedData && result.cachedDataRejected) codeCache.delete(key);
  else if (!cachedData && result.cachedData) codeCache.set(key, result.cachedData);
  return fn;
} as typeof vm.compileFunction;

export default class Environment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const shared = {};
    for (const name of ["typescript", "@npmcli/arborist"])
      Object.defineProperty(shared, name, { get: () => load(name), enumerable: true });
    this.global[SHARED] = shared;
  }
}
