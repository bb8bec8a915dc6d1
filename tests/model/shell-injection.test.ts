import { runs } from "../support/property";
import { assertNoInjection, onlyLiteral, TARGETS, type Verdicts } from "./shell-injection";

/**
 * Config values that reach shell scripts, commands and systemd units (tests/model/shell-injection.ts):
 * hostile strings are refused with a config path, or appear only where the shell reads them literally.
 * shell-injection.integration.test.ts runs the same property with bash parsing every script.
 */
describe("random strings never reach a command unquoted or unvalidated (property)", () => {
  const verdicts: Verdicts = { accepted: 0, rejected: 0 };

  it.each(TARGETS.map((t) => [t.field, t] as const))("%s", (_field, t) => {
    assertNoInjection(t, verdicts, { random: runs(30), parse: false });
  });

  it("exercised both verdicts", () => {
    expect(verdicts.accepted).toBeGreaterThan(20);
    expect(verdicts.rejected).toBeGreaterThan(80);
  });
});

describe("the literal-mask scanner (used above) recognises what sh would execute", () => {
  it.each([
    ["echo 'a;b'", "a;b", true],
    ["echo a;b", "a;b", false],
    ['echo "$x"', "$x", false],
    ['echo "a b"', "a b", true],
    ["# x; y\necho", "x; y", true],
    ["cat <<'EOF'\n$(id)\nEOF\n", "$(id)", true],
    ["cat <<EOF\n$(id)\nEOF\n", "$(id)", false],
    ["echo '-x'\n-x", "-x", false],
    ["echo 'a'\\''b'", "b", true],
  ])("%j: %j literal=%j", (script, value, expected) => {
    expect(onlyLiteral(script, value)).toBe(expected);
  });
});
