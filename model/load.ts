import { readFileSync } from "node:fs";
import { parse } from "yaml";
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

export function readStackFile(path: string): StackFile {
  const doc = parse(readFileSync(path, "utf8")) as { config?: Record<string, unknown> } | null;
  const config = doc?.config ?? {};
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
