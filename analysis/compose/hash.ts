import { createHash } from "node:crypto";
import { stableJson } from "../text/json";

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

export const contentHash = (c: DeploymentContent): string =>
  `sha256:${createHash("sha256").update(stableJson(c)).digest("hex")}`;
