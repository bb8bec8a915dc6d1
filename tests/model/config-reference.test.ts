import { readFileSync } from "node:fs";
import { z } from "zod";
import { networkConfig, storageConfig } from "../../model";
import { DOC_PATH, END, renderConfigReference, START } from "../../tools/config-reference";

/** Every key of every object schema reachable from `schema`, as "<object path>.<key>". */
function schemaKeys(
  schema: z.core.$ZodType,
  at = "homelab:",
  out = new Set<string>(),
  seen = new Set<unknown>(),
): Set<string> {
  if (seen.has(schema)) return out;
  seen.add(schema);
  const def = (schema as z.ZodType)._zod.def as unknown as Record<string, unknown>;
  if (schema instanceof z.ZodObject) {
    // A secret reference is documented as a type ({ secret: <key> }), not as a section.
    if (Object.keys(schema.shape).join() === "secret") return out;
    for (const [k, v] of Object.entries(schema.shape)) {
      out.add(`${at}|${k}`);
      schemaKeys(v as z.ZodType, at.endsWith(":") ? `${at}${k}` : `${at}.${k}`, out, seen);
    }
    return out;
  }
  const next: [string, unknown][] = [];
  if (schema instanceof z.ZodArray) next.push([`${at}[]`, def["element"]]);
  else if (schema instanceof z.ZodRecord) next.push([`${at}.<name>`, def["valueType"]]);
  else if (schema instanceof z.ZodPipe) next.push([at, def["in"]]);
  else if ("innerType" in def) next.push([at, def["innerType"]]);
  for (const [p, c] of next)
    if (c && typeof c === "object" && "_zod" in c) schemaKeys(c as z.ZodType, p, out, seen);
  return out;
}

describe("docs/configuration.md's reference is the schema", () => {
  const page = readFileSync(DOC_PATH, "utf8");

  it("the generated block in the page is exactly what the schema generates (run `npm run config-reference`)", () => {
    expect(page).toContain(START);
    expect(page).toContain(END);
    expect(page.slice(page.indexOf(START), page.indexOf(END) + END.length)).toBe(renderConfigReference());
  });

  it.each([
    ["network", networkConfig],
    ["storage", storageConfig],
  ])("every key of the %s schema has a row, with a type, presence and description", (stack, schema) => {
    const block = page.slice(page.indexOf(`### Stack \`${stack}\``));
    for (const entry of schemaKeys(schema)) {
      const [object, key] = entry.split("|") as [string, string];
      const heading = `#### \`${object === "homelab:" ? "homelab:*" : object}\``;
      const section = block.slice(
        block.indexOf(heading),
        block.indexOf("\n####", block.indexOf(heading) + 1),
      );
      expect({ entry, found: block.includes(heading) }).toEqual({ entry, found: true });
      const row = section.split("\n").find((l) => l.startsWith(`| \`${key}\` |`));
      expect({ entry, row: row !== undefined }).toEqual({ entry, row: true });
      const cells = row!.split(" | ");
      expect({ entry, described: cells[cells.length - 1]!.replace(/\|$/, "").trim() !== "" }).toEqual({
        entry,
        described: true,
      });
    }
  });
});
