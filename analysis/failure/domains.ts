import type { StorageModel } from "../../model";

/** The two failure domains of the homelab: each node can be down (maintenance, failure) on its own. */
export type NodeRole = "storage" | "network";

export interface FdService {
  name: string;
  stack: string;
  node: NodeRole;
  alwaysOn: boolean;
  /** ZFS datasets the service mounts. */
  datasets: string[];
}

export interface FdInput {
  /** Host names of the nodes, for messages. */
  hosts: Record<NodeRole, string>;
  services: FdService[];
  /** Which node holds each dataset's pool. */
  datasetNode: Map<string, NodeRole>;
  /** VMs (by name) and the node they run on. */
  vms: { name: string; node: NodeRole }[];
  /** Ingress routes: hostname -> service name. */
  routes: { host: string; service: string }[];
}

export interface StoppedService {
  service: string;
  stack: string;
  node: NodeRole;
  /** Why it stops: it runs on the node, or it mounts data held there. */
  cause: "runs-on-node" | "mounts-dataset";
  datasets: string[];
}

export interface Outage {
  node: NodeRole;
  host: string;
  stops: StoppedService[];
  vms: string[];
  /** Hostnames that stop answering; on a network-node outage, all of them (ingress and gateway). */
  routesDown: string[];
  alwaysOnAffected: string[];
}

export interface AlwaysOnFinding {
  service: string;
  stack: string;
  node: NodeRole;
  message: string;
}

export interface FailureDomains {
  outages: Outage[];
  /** alwaysOn services that would stop during storage-node maintenance. */
  findings: AlwaysOnFinding[];
}

/**
 * What stops when one node goes down. A service stops when it runs on that node or mounts a dataset
 * held there. The network node also carries the gateway and the ingress proxy (the network stack owns
 * both), so while it is down no route answers, wherever its backend runs.
 */
export function failureDomains(input: FdInput): FailureDomains {
  const outages = (["storage", "network"] as const).map((node): Outage => {
    const stops: StoppedService[] = [];
    for (const s of input.services) {
      const remote = s.datasets.filter((d) => input.datasetNode.get(d) === node);
      if (s.node === node)
        stops.push({ service: s.name, stack: s.stack, node: s.node, cause: "runs-on-node", datasets: [] });
      else if (remote.length > 0)
        stops.push({
          service: s.name,
          stack: s.stack,
          node: s.node,
          cause: "mounts-dataset",
          datasets: remote,
        });
    }
    const stopped = new Set(stops.map((s) => s.service));
    const routesDown = input.routes
      .filter((r) => node === "network" || stopped.has(r.service))
      .map((r) => r.host);
    const alwaysOn = new Set(input.services.filter((s) => s.alwaysOn).map((s) => s.name));
    return {
      node,
      host: input.hosts[node],
      stops,
      vms: input.vms.filter((v) => v.node === node).map((v) => v.name),
      routesDown,
      alwaysOnAffected: stops.filter((s) => alwaysOn.has(s.service)).map((s) => s.service),
    };
  });

  // The rule is about the storage node: it is the one taken down for maintenance (kernel, ZFS, PVE
  // upgrades). An alwaysOn service that needs it would stop exactly when it must keep running.
  const findings: AlwaysOnFinding[] = [];
  for (const s of input.services) {
    if (!s.alwaysOn) continue;
    const where = `(stack ${s.stack} on the ${s.node} node)`;
    if (s.node === "storage")
      findings.push({
        ...pick(s),
        message: `alwaysOn service ${s.name} ${where} runs on the storage node (${input.hosts.storage}) and stops during its maintenance; move it to the network node`,
      });
    const remote = s.datasets.filter((d) => input.datasetNode.get(d) === "storage");
    if (s.node !== "storage" && remote.length > 0)
      findings.push({
        ...pick(s),
        message: `alwaysOn service ${s.name} ${where} mounts ${remote.join(", ")} from the storage node and stops during its maintenance; keep its data on the network node's pool`,
      });
  }
  return { outages, findings };
}

const pick = (s: FdService) => ({ service: s.name, stack: s.stack, node: s.node });

/**
 * The failure-domain view of the storage stack's model: its own compose services and VMs, plus the
 * network node's services, datasets and routes from the network stack's contract.
 */
export function failureInput(model: StorageModel): FdInput {
  const c = model.config;
  const datasetNode = new Map<string, NodeRole>();
  for (const d of model.network.datasets) datasetNode.set(d.name, "network");
  for (const d of c.datasets) datasetNode.set(d.name, "storage");
  const services: FdService[] = [
    ...c.stacks.flatMap((st) =>
      st.services.map((s) => ({
        name: s.name,
        stack: st.name,
        node: "storage" as const,
        alwaysOn: s.alwaysOn,
        datasets: s.volumes.flatMap((v) => (v.dataset ? [v.dataset] : [])),
      })),
    ),
    ...model.network.networkServices.map((s) => ({
      name: s.name,
      stack: s.stack,
      node: "network" as const,
      alwaysOn: s.alwaysOn,
      datasets: s.datasets,
    })),
  ];
  // A dataset neither stack declares is placed by its pool name: the storage pool is on the storage node.
  for (const s of services)
    for (const d of s.datasets)
      if (!datasetNode.has(d))
        datasetNode.set(d, d.startsWith(`${c.storageNode.pool}/`) ? "storage" : s.node);
  return {
    hosts: { storage: c.storageNode.host, network: model.network.networkNode.host },
    services,
    datasetNode,
    vms: [c.proxmox.backupServer, ...c.proxmox.vms].map((v) => ({ name: v.name, node: "storage" as const })),
    routes: model.network.routes.map((r) => ({ host: r.host, service: r.service })),
  };
}

const list = (xs: string[]): string => (xs.length === 0 ? "none" : xs.join(", "));

export function renderFailureText(fd: FailureDomains): string {
  const out: string[] = [];
  for (const o of fd.outages) {
    out.push(`  ${o.node} node (${o.host}) down:`);
    const direct = o.stops.filter((s) => s.cause === "runs-on-node").map((s) => `${s.stack}/${s.service}`);
    const viaData = o.stops
      .filter((s) => s.cause === "mounts-dataset")
      .map((s) => `${s.stack}/${s.service} (mounts ${s.datasets.join(", ")})`);
    out.push(`    stops (${direct.length}): ${list(direct)}`);
    if (viaData.length > 0) out.push(`    stops on the other node (its data is here): ${list(viaData)}`);
    if (o.vms.length > 0) out.push(`    VMs: ${list(o.vms)}`);
    out.push(
      `    routes down: ${o.node === "network" ? `all (${o.routesDown.length}): ingress and gateway run here` : list(o.routesDown)}`,
    );
    out.push(`    alwaysOn affected: ${list(o.alwaysOnAffected)}`);
  }
  out.push(
    fd.findings.length === 0
      ? "  ✓ every alwaysOn service keeps running during storage-node maintenance"
      : fd.findings.map((f) => `  ✗ ${f.message}`).join("\n"),
  );
  return out.join("\n");
}

export function renderFailureMarkdown(fd: FailureDomains): string {
  const out = ["| node down | stops | VMs | routes down | alwaysOn affected |", "|---|---|---|---|---|"];
  for (const o of fd.outages)
    out.push(
      `| ${o.node} (\`${o.host}\`) | ${o.stops.map((s) => `\`${s.service}\`${s.cause === "mounts-dataset" ? " (data)" : ""}`).join(", ") || "none"} | ${list(o.vms)} | ${o.node === "network" ? `all ${o.routesDown.length}` : o.routesDown.length} | ${o.alwaysOnAffected.length === 0 ? "none ✅" : `❌ ${o.alwaysOnAffected.join(", ")}`} |`,
    );
  if (fd.findings.length > 0) out.push("", ...fd.findings.map((f) => `- ❌ ${f.message}`));
  return out.join("\n");
}
