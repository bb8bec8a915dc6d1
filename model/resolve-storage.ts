import { checkDirectoryAgainstStacks, checkStacks } from "./compose-checks";
import { networkContract, type NetworkContract } from "./contract";
import { ConfigError, fromZod, IssueList, suggest } from "./errors";
import { parseStackConfig } from "./parse";
import { checkPbs } from "./pbs";
import { checkSecrets, collectSecretRefs, type SecretSource, type SecretUse } from "./secrets";
import { storageConfig, type StorageConfig } from "./storage";

export interface StorageModel {
  stack: "storage";
  config: StorageConfig;
  network: NetworkContract;
  /** Addresses of the storage node (service VLAN and management VLAN). */
  nodeAddress: string;
  managementAddress: string;
  secrets: SecretUse[];
}

/** Parses the network stack's published contract; a mismatch means the two stacks are out of step. */
export function parseContract(value: unknown): NetworkContract {
  const parsed = networkContract.safeParse(value);
  if (!parsed.success)
    throw new ConfigError(
      "storage",
      fromZod(parsed.error).map((i) => ({
        path: i.path.replace("homelab:", "network stack output contract."),
        message: `${i.message}; run \`pulumi up --stack network\` so its outputs match this program`,
      })),
    );
  return parsed.data;
}

export function resolveStorage(
  raw: Record<string, unknown>,
  secrets: SecretSource,
  network: NetworkContract,
): StorageModel {
  const config = parseStackConfig("storage", storageConfig, raw);
  const issues = new IssueList();

  const hosts = new Map(network.hosts.map((h) => [h.name, h]));
  const node = hosts.get(config.storageNode.host);
  const mgmt = hosts.get(config.storageNode.managementHost);
  if (!node)
    issues.add(
      ["storageNode", "host"],
      `host "${config.storageNode.host}" is not declared by the network stack${suggest(config.storageNode.host, hosts.keys())}`,
    );
  if (!mgmt)
    issues.add(
      ["storageNode", "managementHost"],
      `host "${config.storageNode.managementHost}" is not declared by the network stack${suggest(config.storageNode.managementHost, hosts.keys())}`,
    );
  else if (network.segments.find((s) => s.name === mgmt.segment)?.trust !== "management")
    issues.add(
      ["storageNode", "managementHost"],
      `"${mgmt.name}" must be on a management segment: the Proxmox API and SSH are never exposed elsewhere`,
    );

  const datasets = new Set<string>();
  config.datasets.forEach((d, i) => {
    if (datasets.has(d.name)) issues.add(["datasets", i, "name"], `duplicate dataset "${d.name}"`);
    if (!d.name.startsWith(`${config.storageNode.pool}/`))
      issues.add(
        ["datasets", i, "name"],
        `dataset must live in the storage pool "${config.storageNode.pool}"`,
      );
    datasets.add(d.name);
  });

  // A dataset whose backup class has no Borg class is not a config error: the backup-coverage policy
  // reports it (naming the dataset), so the plan shows it with every other finding.

  const nodeAddresses = new Set([node?.address, mgmt?.address].filter((a): a is string => a !== undefined));
  checkStacks(config.stacks, { datasets, nodeAddresses, nodeName: "the storage node" }, issues);
  // The network stack routes to services it believes live here: each must exist and publish that port.
  checkDirectoryAgainstStacks(
    network.services,
    new Set(node ? [node.name] : []),
    config.stacks,
    (i, _field, msg) => issues.add(["stacks"], `the network stack's services[${i}] expects this: ${msg}`),
  );

  const vmIds = new Set<number>();
  [config.proxmox.backupServer, ...config.proxmox.vms].forEach((vm, i) => {
    const path = i === 0 ? ["proxmox", "backupServer", "vmId"] : ["proxmox", "vms", i - 1, "vmId"];
    if (vmIds.has(vm.vmId)) issues.add(path, `VM id ${vm.vmId} is used twice`);
    vmIds.add(vm.vmId);
  });

  checkPbs(config.pbs, config.proxmox, issues);

  const secretUses = collectSecretRefs(config);
  checkSecrets(secretUses, secrets, issues, "storage");
  issues.throwIfAny("storage");
  return {
    stack: "storage",
    config,
    network,
    nodeAddress: node!.address,
    managementAddress: mgmt!.address,
    secrets: secretUses,
  };
}
