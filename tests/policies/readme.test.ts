import { readFileSync } from "node:fs";
import { join } from "node:path";
import { policyTable } from "../../tools/policy-table";
import { ROOT } from "../fixtures/reference";

describe("docs/policies.md policy table", () => {
  it("documents exactly the rules of the pack (regenerate with npm run -s policy-table)", () => {
    const readme = readFileSync(join(ROOT, "docs", "policies.md"), "utf8");
    const m = /<!-- policy-table:start -->\n([\s\S]*?)\n<!-- policy-table:end -->/.exec(readme);
    // Compare cell by cell: prettier re-pads the markdown table in docs/policies.md.
    const cells = (table: string) =>
      table
        .trim()
        .split("\n")
        .filter((l) => !/^\|[\s|:-]+\|$/.test(l))
        .map((l) => l.split(/(?<!\\)\|/).map((c) => c.trim()));
    expect(cells(m![1]!)).toEqual(cells(policyTable()));
  });
});
