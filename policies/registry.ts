import { accessNetwork } from "./rules/access-network";
import { backupVaultPolicies } from "./rules/backup-vault";
import { containerPolicies } from "./rules/containers";
import { defaultDeny, intentsHonoured } from "./rules/default-deny";
import { graphPolicies } from "./rules/graph";
import { hostFirewall } from "./rules/host-firewall";
import type { HomelabPolicy } from "./types";

/**
 * Every rule of the pack. Importing this is safe anywhere (tests, the plan); only policies/index.ts
 * constructs the PolicyPack, which starts a gRPC server.
 */
export const policies: HomelabPolicy[] = [
  defaultDeny,
  intentsHonoured,
  ...backupVaultPolicies,
  ...containerPolicies,
  ...graphPolicies,
  accessNetwork,
  hostFirewall,
];
