import * as pulumi from "@pulumi/pulumi";
import { assertPreflight } from "./analysis/preflight";
import { NetworkNode } from "./components/NetworkNode";
import { StorageNode } from "./components/StorageNode";
import { configSecrets } from "./components/context";
import {
  assertStackName,
  NAMESPACE,
  parseContract,
  resolveNetwork,
  resolveStorage,
  SECRET_PLACEHOLDER,
  type NetworkContract,
  type SecretSource,
} from "./model";

// Not in the public typings, but it is how the SDK itself answers getSecret's "is this key secret?".
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as {
  isConfigSecret(key: string): boolean;
};

/**
 * Reads every `homelab:*` key of the stack as a structured value; a secret is only a placeholder (its
 * value is never read here). Keys the schema does not know are passed on too, so the model reports them
 * instead of this function dropping them.
 */
function readRaw(config: pulumi.Config): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const full of Object.keys(pulumi.runtime.allConfig())) {
    if (!full.startsWith(`${NAMESPACE}:`)) continue;
    const key = full.slice(NAMESPACE.length + 1);
    if (isConfigSecret(full)) {
      raw[key] = SECRET_PLACEHOLDER;
      continue;
    }
    const text = config.get(key);
    if (text === undefined) continue;
    try {
      raw[key] = JSON.parse(text);
    } catch {
      raw[key] = text;
    }
  }
  return raw;
}

const secretSource = (): SecretSource => {
  const all = pulumi.runtime.allConfig();
  return {
    has: (key) => `${NAMESPACE}:${key}` in all,
    isSecret: (key) => isConfigSecret(`${NAMESPACE}:${key}`),
  };
};

export interface NetworkOutputs {
  contract: NetworkContract;
  wireguardPeerConfigs: pulumi.Output<Record<string, string>>;
}

export interface StorageOutputs {
  networkDomain: string;
  stacks: string[];
  vaultBucket: pulumi.Output<string>;
  backupWriterAccessKeyId: pulumi.Output<string>;
  backupWriterSecretAccessKey: pulumi.Output<string>;
}

/**
 * The whole program. Config is parsed and cross-checked before the first resource is constructed, so a
 * bad stack file fails with every problem listed and nothing half-applied.
 */
export async function main(): Promise<NetworkOutputs | StorageOutputs> {
  const stack = assertStackName(pulumi.getStack());
  const config = new pulumi.Config(NAMESPACE);
  const secrets = configSecrets(config);

  if (stack === "network") {
    const model = resolveNetwork(readRaw(config), secretSource());
    assertPreflight(model);
    const node = new NetworkNode("network", { model, secrets });
    return { contract: node.contract, wireguardPeerConfigs: node.wireguard.peerConfigs };
  }

  const raw = readRaw(config);
  const refName = typeof raw["networkStack"] === "string" ? raw["networkStack"] : undefined;
  if (refName === undefined)
    throw new Error(
      `${NAMESPACE}:networkStack: missing; set it with \`pulumi config set networkStack <org>/homelab/network\``,
    );
  const ref = new pulumi.StackReference("network", { name: refName });
  const details = await ref.getOutputDetails("contract");
  const contract = parseContract(details.value ?? details.secretValue);
  const model = resolveStorage(raw, secretSource(), contract);
  assertPreflight(model);
  const node = new StorageNode("storage", { model, secrets });
  return {
    networkDomain: contract.domain,
    stacks: model.config.stacks.map((s) => s.name),
    vaultBucket: node.vault.bucketName,
    backupWriterAccessKeyId: node.vault.writerAccessKeyId,
    backupWriterSecretAccessKey: node.vault.writerSecretAccessKey,
  };
}
