/**
 * The unit tier's jest environment (tests/support/environment.ts) keeps V8 code caches per worker for the
 * modules jest compiles in every test file. A cache must never serve stale code: V8 rejects one made
 * for other source, and the environment then compiles the new source.
 */
import vm from "node:vm";

type Compiled = ReturnType<typeof vm.compileFunction> & { cachedDataRejected?: boolean };
const compile = (code: string, filename: string) => vm.compileFunction(code, [], { filename }) as Compiled;

describe("code cache of the jest environment", () => {
  const filename = `/nonexistent/code-cache-probe-${process.pid}-${Date.now()}.js`;

  it("compiles a module the second time from the cache the first compilation produced", () => {
    const first = compile("return 40 + 2;", filename);
    const second = compile("return 40 + 2;", filename);
    expect([first(), second()]).toEqual([42, 42]);
    expect(second.cachedDataRejected).toBe(false);
  });

  it("compiles changed source under the same file name anew, never the cached code", () => {
    const changed = compile("return 'changed';", filename);
    expect(changed()).toBe("changed");
    expect(changed.cachedDataRejected).toBe(true);
    // The rejected cache is dropped; the next compilation makes one for the new source, which serves.
    expect(compile("return 'changed';", filename).cachedDataRejected).toBeUndefined();
    const cached = compile("return 'changed';", filename);
    expect([cached(), cached.cachedDataRejected]).toEqual(["changed", false]);
  });
});
