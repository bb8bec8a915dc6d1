import { backupVaultPolicies } from "./rules/backup-vault";
import type { HomelabPolicy } from "./types";

/**
 * Every rule of the pack. Importing this is safe anywhere (tests, the plan); only policies/index.ts
 * constructs the PolicyPack, which starts a gRPC server.
 */
export const policies: HomelabPolicy[] = [...backupVaultPolicies];
