import { isSecretRef, type SecretRef } from "./common";
import { formatPath, type IssueList } from "./errors";

export interface SecretUse {
  /** Config key holding the value, without namespace: immichDbPassword. */
  key: string;
  /** Where the reference sits: homelab:stacks[0].services[2].env.DB_PASSWORD */
  usedAt: string;
}

/** What the config source can tell about a key without revealing its value. */
export interface SecretSource {
  has(key: string): boolean;
  isSecret(key: string): boolean;
}

/** Walks a parsed config for `{ secret: key }` references. */
export function collectSecretRefs(value: unknown, path: PropertyKey[] = []): SecretUse[] {
  if (isSecretRef(value)) return [{ key: value.secret, usedAt: formatPath(path) }];
  if (Array.isArray(value)) return value.flatMap((v, i) => collectSecretRefs(v, [...path, i]));
  if (typeof value === "object" && value !== null)
    return Object.entries(value).flatMap(([k, v]) => collectSecretRefs(v, [...path, k]));
  return [];
}

/** Every referenced secret must be set, and set with --secret, before anything is deployed. */
export function checkSecrets(
  uses: SecretUse[],
  source: SecretSource,
  issues: IssueList,
  stack: string,
): void {
  for (const use of uses) {
    const fix = `run: pulumi config set --secret ${use.key} <value> --stack ${stack}`;
    if (!source.has(use.key))
      issues.add([use.key], `missing required secret (used at ${use.usedAt}); ${fix}`);
    else if (!source.isSecret(use.key))
      issues.add([use.key], `is stored in plain text but must be a secret (used at ${use.usedAt}); ${fix}`);
  }
}

export type { SecretRef };
