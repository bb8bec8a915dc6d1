import type { ComposeStackConfig } from "./services";
import type { IssueList, References } from "./errors";
import { suggest } from "./errors";

/** The built-in network every stack may join to be reachable by the ingress proxy. */
export const INGRESS_NETWORK = "ingress";

/**
 * Cross-references inside the compose stacks of one node: unique names, datasets that exist,
 * ports bound to one of the node's own addresses, dependencies and networks that exist.
 */
export function checkStacks(
  stacks: ComposeStackConfig[],
  ctx: {
    datasets: Set<string>;
    /** undefined when the node's own host did not resolve (already reported): bindings go unchecked. */
    nodeAddresses: Set<string> | undefined;
    nodeName: string;
    /** Addresses of the node that must never carry a published port, with the reason. */
    privateAddresses?: Map<string, string>;
  },
  issues: IssueList,
  refs: References,
): void {
  const stackNames = new Set<string>();
  const serviceNames = new Map<string, string>();
  const bound = new Map<string, string>();
  stacks.forEach((stack, si) => {
    const at = (...p: PropertyKey[]) => ["stacks", si, ...p];
    if (stackNames.has(stack.name)) issues.add(at("name"), `duplicate stack name "${stack.name}"`);
    stackNames.add(stack.name);
    const local = new Set(stack.services.map((s) => s.name));
    const networks = new Set([...stack.networks.map((n) => n.name), INGRESS_NETWORK]);
    stack.services.forEach((svc, vi) => {
      const sat = (...p: PropertyKey[]) => at("services", vi, ...p);
      const other = serviceNames.get(svc.name);
      if (other !== undefined)
        issues.add(
          sat("name"),
          `service "${svc.name}" is already defined in stack "${other}" on ${ctx.nodeName}`,
        );
      serviceNames.set(svc.name, stack.name);
      svc.dependsOn.forEach((d, i) => {
        if (!local.has(d))
          refs.missing(
            `service of stack ${si}`,
            d,
            sat("dependsOn", i),
            `"${d}" is not a service of stack ${stack.name}${suggest(d, local)}`,
          );
      });
      svc.networks.forEach((n, i) => {
        if (!networks.has(n))
          refs.missing(
            `network of stack ${si}`,
            n,
            sat("networks", i),
            `network "${n}" is not declared in stacks[${si}].networks${suggest(n, networks)}`,
          );
      });
      svc.volumes.forEach((v, i) => {
        if ((v.dataset === undefined) === (v.hostPath === undefined))
          issues.add(sat("volumes", i), "set exactly one of dataset or hostPath");
        else if (v.dataset !== undefined && !ctx.datasets.has(v.dataset))
          refs.missing(
            "dataset",
            v.dataset,
            sat("volumes", i, "dataset"),
            `unknown dataset "${v.dataset}"; declare it in homelab:datasets${suggest(v.dataset, ctx.datasets)}`,
          );
      });
      svc.ports.forEach((p, i) => {
        const privateReason = ctx.privateAddresses?.get(p.address);
        if (privateReason !== undefined)
          issues.add(sat("ports", i, "address"), `${p.address} ${privateReason}`);
        else if (ctx.nodeAddresses && p.address !== "127.0.0.1" && !ctx.nodeAddresses.has(p.address))
          issues.add(
            sat("ports", i, "address"),
            `${p.address} is not an address of ${ctx.nodeName} (${[...ctx.nodeAddresses].join(", ")} or 127.0.0.1)`,
          );
        const key = `${p.address}:${p.published}/${p.protocol}`;
        const prev = bound.get(key);
        if (prev !== undefined)
          issues.add(sat("ports", i, "published"), `${key} is already published by ${prev}`);
        bound.set(key, `${stack.name}/${svc.name}`);
      });
      // Docker sets up no port mapping for a container whose every network is `internal: true`: its
      // published ports would never answer. A config error, so the fix is a decision in the config.
      const internal = new Set(stack.networks.filter((n) => n.internal).map((n) => n.name));
      if (svc.ports.length > 0 && svc.networks.length > 0 && svc.networks.every((n) => internal.has(n)))
        issues.add(
          sat("ports"),
          `service "${svc.name}" is attached only to internal networks (${svc.networks.join(", ")}), so Docker cannot publish its ports; attach a network with internal: false (or "ingress"), or remove the ports`,
        );
      if (svc.user === undefined && (svc.rootReason ?? "").trim() === "")
        issues.add(
          sat("user"),
          'set a non-root user (e.g. "1000:1000") or give rootReason for why this image must run as root',
        );
    });
  });
}

/** A service directory entry on this node must be backed by a compose service publishing that port. */
export function checkDirectoryAgainstStacks(
  directory: { name: string; host: string; port: number }[],
  hostNames: Set<string>,
  stacks: ComposeStackConfig[],
  report: (index: number, field: "name" | "port", message: string) => void,
): void {
  const published = new Map<string, number[]>();
  for (const st of stacks)
    for (const s of st.services)
      published.set(
        s.name,
        s.ports.map((p) => p.published),
      );
  directory.forEach((svc, i) => {
    if (!hostNames.has(svc.host)) return;
    const ports = published.get(svc.name);
    if (ports === undefined)
      report(
        i,
        "name",
        `service "${svc.name}" is routed to ${svc.host} but no compose stack there defines it${suggest(svc.name, published.keys())}`,
      );
    else if (!ports.includes(svc.port))
      report(
        i,
        "port",
        `service "${svc.name}" does not publish port ${svc.port} (it publishes ${ports.join(", ") || "nothing"})`,
      );
  });
}
