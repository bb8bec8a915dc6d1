import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument, type Node } from "yaml";
import { NAMESPACE } from "./errors";
import type { SecretSource } from "./secrets";

export const STACKS = ["network", "storage"] as const;
export type StackName = (typeof STACKS)[number];

export function assertStackName(stack: string): StackName {
  if ((STACKS as readonly string[]).includes(stack)) return stack as StackName;
  throw new Error(
    `unknown stack "${stack}": this program deploys the stacks ${STACKS.join(" and ")}; ` +
      `create one with \`pulumi stack init ${STACKS[0]}\` or \`pulumi stack init ${STACKS[1]}\``,
  );
}

/** A stack file as Pulumi stores it: values, with `secure:` ciphertext for secrets. */
export interface StackFile {
  path: string;
  /** homelab:* keys without the namespace; secure values replaced by a placeholder. */
  raw: Record<string, unknown>;
  /** Every fully-qualified key (homelab:x, aws:region) with its value, for the mock config. */
  all: Record<string, unknown>;
  secureKeys: Set<string>;
  /** Keys (fully qualified) whose value is plain text, for the secret lint. */
  plainKeys: Set<string>;
}

/** Stands in for a secret that only the Pulumi CLI can decrypt; never a real value. */
export const SECRET_PLACEHOLDER = "[secret]";

const isSecure = (v: unknown): boolean =>
  typeof v === "object" &&
  v !== null &&
  Object.keys(v).length === 1 &&
  typeof (v as { secure?: unknown }).secure === "string";

/** A stack file that cannot be read as one: the message starts with `file:line:column:`. */
export class StackFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = "StackFileError";
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT"
        ? "no such file"
        : err.code === "EISDIR"
          ? "is a directory, not a stack file"
          : err.code === "EACCES"
            ? "permission denied"
            : err.message;
    throw new StackFileError(path, 1, 1, `cannot read the stack file: ${why}`);
  }
}

/**
 * Reads `Pulumi.<stack>.yaml` the way Pulumi would accept it: YAML errors (a tab as indentation, a
 * duplicate key, unbalanced brackets, an unknown tag) and a file that is not a mapping with a `config:`
 * mapping are StackFileErrors naming file, line and column.
 */
export function readStackFile(path: string): StackFile {
  const text = readText(path);
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const at = (offset: number, reason: string) => {
    const { line, col } = lines.linePos(offset);
    return new StackFileError(path, line, col, reason);
  };
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw at(problem.pos[0], problem.message);
  const root = doc.contents as Node | null;
  if (root !== null && !(isScalar(root) && root.value === null) && !isMap(root))
    throw at(root.range?.[0] ?? 0, "not a Pulumi stack file: expected a mapping with a `config:` key");
  const configNode = isMap(root) ? root.get("config", true) : undefined;
  if (
    configNode !== undefined &&
    configNode !== null &&
    !isMap(configNode) &&
    !(isScalar(configNode) && configNode.value === null)
  )
    throw at((configNode as Node).range?.[0] ?? 0, "`config:` must be a mapping of keys to values");
  let js: { config?: Record<string, unknown> | null } | null;
  try {
    js = doc.toJS({ maxAliasCount: 100 }) as typeof js;
  } catch (e) {
    // An alias without its anchor, or an alias bomb: name the first alias in the file.
    const alias = /\*[^\s,\]}]+/.exec(text);
    throw at(alias?.index ?? 0, (e as Error).message);
  }
  const config = js?.config ?? {};
  const raw: Record<string, unknown> = {};
  const all: Record<string, unknown> = {};
  const secureKeys = new Set<string>();
  const plainKeys = new Set<string>();
  for (const [key, value] of Object.entries(config)) {
    const full = key.includes(":") ? key : `${NAMESPACE}:${key}`;
    const secure = isSecure(value);
    (secure ? secureKeys : plainKeys).add(full);
    const v = secure ? SECRET_PLACEHOLDER : value;
    all[full] = v;
    if (full.startsWith(`${NAMESPACE}:`)) raw[full.slice(NAMESPACE.length + 1)] = v;
  }
  return { path, raw, all, secureKeys, plainKeys };
}

export const stackFileSecrets = (file: StackFile): SecretSource => ({
  has: (key) => `${NAMESPACE}:${key}` in file.all,
  isSecret: (key) => file.secureKeys.has(`${NAMESPACE}:${key}`),
});

/**
 * What a stack file tells without judging how a value is stored: a missing secret is still an error, a
 * secret stored in plain text is not (the encrypted-secrets rule reports that one, naming rule and key,
 * so the offline plan and the drills can run and show every finding of that kind at once).
 */
export const presenceOnlySecrets = (file: StackFile): SecretSource => ({
  has: stackFileSecrets(file).has,
  isSecret: () => true,
});
