import { checkDirectoryAgainstStacks, checkStacks } from "./compose-checks";
import { networkContract, type NetworkContract } from "./contract";
import { ConfigError, IssueList, References, suggest } from "./errors";
import { contains, parseCidr, parseIpv4 } from "./net";
import { parseStackConfig } from "./parse";
import { safeParseConfig } from "./strict";
import { checkPbs } from "./pbs";
import { checkHostBaseline } from "./host-baseline";
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
  const parsed = safeParseConfig(networkContract, value);
  if (!parsed.success)
    throw new ConfigError(
      "storage",
      parsed.issues.map((i) => ({
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
  const issues = new IssueList();
  const config = parseStackConfig("storage", storageConfig, raw, issues);
  const refs = new References(issues);

  const hosts = new Map(network.hosts.map((h) => [h.name, h]));
  const node = hosts.get(config.storageNode.host);
  const mgmt = hosts.get(config.storageNode.managementHost);
  if (!node)
    issues.add(
      ["storageNode", "host"],
      `host "${config.storageNode.host}" is not declared by the network stack${suggest(config.storageNode.host, hosts.keys())}`,
    );
  const mgmtOnManagement =
    mgmt !== undefined && network.segments.find((s) => s.name === mgmt.segment)?.trust === "management";
  if (!mgmt)
    issues.add(
      ["storageNode", "managementHost"],
      `host "${config.storageNode.managementHost}" is not declared by the network stack${suggest(config.storageNode.managementHost, hosts.keys())}`,
    );
  else if (!mgmtOnManagement)
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

  checkStacks(
    config.stacks,
    {
      datasets,
      // Unknown when the node's host did not resolve: that one issue covers every port binding.
      nodeAddresses: node ? new Set([node.address]) : undefined,
      nodeName: "the storage node",
      // The management address carries the Proxmox API and SSH only: a container published there is
      // reachable from the management segment (and WireGuard admins), which is what must stay private.
      privateAddresses:
        mgmtOnManagement && node && mgmt.address !== node.address
          ? new Map([
              [
                mgmt.address,
                `is the storage node's management address (host "${mgmt.name}"): publish on ${node?.address ?? "the service address"} or 127.0.0.1; only the Proxmox API and SSH live on the management segment`,
              ],
            ])
          : undefined,
    },
    issues,
    refs,
  );
  // The network stack routes to services it believes live here: each must exist and publish that port.
  checkDirectoryAgainstStacks(
    network.services,
    new Set(node ? [node.name] : []),
    config.stacks,
    (i, _field, msg) => issues.add(["stacks"], `the network stack's services[${i}] expects this: ${msg}`),
  );

  checkProxmoxPlacement(config, network, mgmtOnManagement ? mgmt : undefined, issues);

  const vmIds = new Set<number>();
  [config.proxmox.backupServer, ...config.proxmox.vms].forEach((vm, i) => {
    const path = i === 0 ? ["proxmox", "backupServer", "vmId"] : ["proxmox", "vms", i - 1, "vmId"];
    if (vmIds.has(vm.vmId)) issues.add(path, `VM id ${vm.vmId} is used twice`);
    vmIds.add(vm.vmId);
  });

  checkMonitoring(config, network, issues);
  checkPbs(config.pbs, config.proxmox, issues);
  checkHostBaseline(config.hostBaseline, issues);

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

/**
 * An Alertmanager without routing delivers nothing, and a scrape token for a service that needs none
 * (or does not exist) is a typo that leaves the real one unset.
 */
function checkMonitoring(config: StorageConfig, network: NetworkContract, issues: IssueList): void {
  const services = config.stacks.flatMap((s) => s.services);
  const am = services.find((s) => s.preset === "alertmanager");
  if (am && config.monitoring === undefined)
    issues.add(
      ["monitoring"],
      `service ${am.name} runs Alertmanager but homelab:monitoring.alerting is not set: declare its receivers and routes`,
    );
  const bearer = new Set([
    ...services.filter((s) => s.metrics?.bearer).map((s) => s.name),
    ...network.networkServices.filter((s) => s.metrics?.bearer).map((s) => s.name),
  ]);
  for (const key of Object.keys(config.monitoring?.scrapeTokens ?? {}))
    if (!bearer.has(key))
      issues.add(
        ["monitoring", "scrapeTokens", key],
        `no service named "${key}" has a metrics endpoint that needs a token${suggest(key, bearer)}`,
      );
}

/**
 * The Proxmox API token travels to `proxmox.endpoint`: an IPv4 there must be the storage node's
 * management address (the API is never exposed on the service VLAN). The backup server VM gets its
 * address by cloud-init: it must lie in a segment of the network stack, not be the segment's network,
 * broadcast or gateway address, and not be another host's address.
 */
function checkProxmoxPlacement(
  config: StorageConfig,
  network: NetworkContract,
  mgmt: NetworkContract["hosts"][number] | undefined,
  issues: IssueList,
): void {
  const host = new URL(config.proxmox.endpoint).hostname;
  if (mgmt && parseIpv4(host) !== undefined && host !== mgmt.address)
    issues.add(
      ["proxmox", "endpoint"],
      `${host} is not the storage node's management address ${mgmt.address} (host "${mgmt.name}"): the API and its token stay on the management segment`,
    );
  const pbs = config.proxmox.backupServer;
  const ip = parseIpv4(pbs.address)!;
  const at = ["proxmox", "backupServer", "address"];
  const segment = network.segments.find((s) => {
    const r = parseCidr(s.cidr);
    return "first" in r && contains(r, ip);
  });
  if (!segment) {
    issues.add(
      at,
      `${pbs.address} is in no segment of the network stack (${network.segments.map((s) => s.cidr).join(", ")})`,
    );
    return;
  }
  const range = parseCidr(segment.cidr) as Exclude<ReturnType<typeof parseCidr>, { error: string }>;
  if (ip === range.first || ip === range.last || pbs.address === segment.gateway)
    issues.add(
      at,
      `${pbs.address} is the network, broadcast or gateway address of segment "${segment.name}"`,
    );
  const owner = network.hosts.find((h) => h.address === pbs.address);
  if (owner && owner.name !== pbs.name)
    issues.add(
      at,
      `${pbs.address} is host "${owner.name}"'s address in the network stack; the backup server needs its own (or name it "${owner.name}")`,
    );
}
