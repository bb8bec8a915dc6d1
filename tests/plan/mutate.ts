/**
 * Generated stack files for the fuzz tests: the reference stacks with random edits, as a careless admin
 * (or an attacker) would make them. Two kinds: anything at all (to prove the parser never crashes), and
 * plausible edits (types kept, values moved around) so that a good share still passes the model and
 * reaches the program.
 */
import fc from "fast-check";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Every path to a value in `v` (objects and arrays included), root excluded. */
export function paths(v: Json, at: Path = []): Path[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => [[...at, i], ...paths(x, [...at, i])]);
  if (v !== null && typeof v === "object")
    return Object.entries(v).flatMap(([k, x]) => [[...at, k], ...paths(x, [...at, k])]);
  return [];
}

const get = (v: Json, p: Path): Json =>
  p.reduce<Json>((x, k) => (x as Record<string, Json>)[k as string]!, v);

function set(v: Json, p: Path, value: Json | undefined): void {
  const parent = get(v, p.slice(0, -1)) as Record<string | number, Json> | Json[];
  const key = p[p.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete (parent as Record<string, Json>)[key as string];
  } else (parent as Record<string | number, Json>)[key] = value;
}

const hostileText = fc.string({
  unit: fc.constantFrom(..."ab-_./: '\"$`;&|\\\n\t*#%=@{}[]!~,0129".split("")),
  maxLength: 10,
});
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  hostileText,
  fc.integer({ min: -70000, max: 70000 }),
  fc.constantFrom(0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.constant([] as Json),
  fc.constant({} as Json),
  fc.constantFrom("", "*", "../..", "/", "-x", "127.0.0.1", "tank", "deploy", "daily", "ALL"),
);

export type Edit = (config: Json, rand: fc.Random) => void;

/** Any edit at all: delete, replace with anything, add an unknown key, duplicate a list item. */
export const wildEdit: fc.Arbitrary<(config: Json) => void> = fc
  .tuple(fc.nat(), fc.nat(3), anyValue, hostileText)
  .map(([pick, kind, value, key]) => (config: Json) => {
    const all = paths(config);
    if (all.length === 0) return;
    const p = all[pick % all.length]!;
    const target = get(config, p);
    if (kind === 0) set(config, p, undefined);
    else if (kind === 1) set(config, p, value);
    else if (kind === 2 && target !== null && typeof target === "object" && !Array.isArray(target))
      (target as Record<string, Json>)[key || "x"] = value;
    else if (Array.isArray(target) && target.length > 0) target.push(structuredClone(target[0]!));
    else set(config, p, value);
  });

/** Edits that keep types: a boolean flipped, a number nudged, a string replaced by another of the file's. */
export const plausibleEdit: fc.Arbitrary<(config: Json) => void> = fc
  .tuple(fc.nat(), fc.nat(), fc.integer({ min: -3, max: 3 }), fc.boolean())
  .map(([pick, other, nudge, drop]) => (config: Json) => {
    const leaves = paths(config).filter((p) => {
      const v = get(config, p);
      return v === null || typeof v !== "object";
    });
    if (leaves.length === 0) return;
    const p = leaves[pick % leaves.length]!;
    const v = get(config, p);
    if (drop && typeof p[p.length - 1] === "string") set(config, p, undefined);
    else if (typeof v === "boolean") set(config, p, !v);
    else if (typeof v === "number") set(config, p, v + nudge);
    else if (typeof v === "string") {
      const strings = leaves.map((q) => get(config, q)).filter((x): x is string => typeof x === "string");
      set(config, p, strings[other % strings.length]!);
    }
  });

/** Text-level damage to a YAML file: a tab, a duplicated line, a cut, a stray character. */
export const textEdit: fc.Arbitrary<(text: string) => string> = fc
  .tuple(fc.nat(), fc.nat(4), fc.constantFrom("\t", "{", "]", ":", "&a", "*a", "!!binary ", "\u0000", "'"))
  .map(([pick, kind, junk]) => (text: string) => {
    const lines = text.split("\n");
    const at = pick % lines.length;
    if (kind === 0) lines[at] = `\t${lines[at]}`;
    else if (kind === 1) lines.splice(at, 0, lines[at]!);
    else if (kind === 2) return text.slice(0, pick % text.length);
    else lines[at] = `${lines[at]!.slice(0, 7)}${junk}${lines[at]!.slice(7)}`;
    return lines.join("\n");
  });
