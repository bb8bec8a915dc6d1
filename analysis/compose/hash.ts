import { createHash } from "node:crypto";

/** Everything public that shapes a deployment; secret values are compared separately (never hashed in
 * the clear: a plain sha256 of a short password in state would be a brute-force oracle). */
export interface DeploymentContent {
  project: string;
  composeYaml: string;
  /** Config keys of the secrets the file references (names only). */
  secretKeys: string[];
  /** Extra files by host path (rendered configs the services mount). */
  files: Record<string, string>;
}

/** JSON with object keys sorted, so equal content always hashes equal. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

export const contentHash = (c: DeploymentContent): string =>
  `sha256:${createHash("sha256").update(canonicalJson(c)).digest("hex")}`;
