import { runs } from "../support/property";
import { assertNoInjection, TARGETS, type Verdicts } from "./shell-injection";

/**
 * The property of shell-injection.test.ts with bash (a system tool, hence this tier) parsing every
 * script that holds an accepted value: quoting that the literal-mask scanner accepts but bash would not
 * parse fails here.
 */
describe("random strings never reach a command unquoted or unvalidated, and every script still parses (property, bash -n)", () => {
  const verdicts: Verdicts = { accepted: 0, rejected: 0 };

  it.each(TARGETS.map((t) => [t.field, t] as const))("%s", (_field, t) => {
    assertNoInjection(t, verdicts, { random: runs(30), parse: true });
  });

  it("exercised both verdicts", () => {
    expect(verdicts.accepted).toBeGreaterThan(20);
    expect(verdicts.rejected).toBeGreaterThan(80);
  });
});
