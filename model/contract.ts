import { z } from "zod";
import { cidr, fqdn, ipv4, name, port, protocol, unixUser } from "./common";
import { normalizeHostKey, sshHostKey } from "./ssh";
import { dataset } from "./storage";
import { INGRESS_CERTIFICATE_NAME } from "./acme";
import { staleRulesDays } from "./ids";
import { flow } from "./network";
import type { NetworkModel } from "./resolve-network";
import type { ComposeService } from "./services";

/**
 * What the network stack publishes for the storage stack (exported as `contract`, read through a
 * StackReference). Both sides use this one schema, so a change to either is a type error, and a stale
 * or foreign network stack is rejected with a path instead of failing deep inside a component.
 */
export const networkContract = z.strictObject({
  version: z.literal(1),
  domain: fqdn,
  segments: z.array(z.strictObject({ name, vlan: z.number().int(), cidr, trust: z.string(), gateway: ipv4 })),
  hosts: z.array(z.strictObject({ name, segment: name, address: ipv4 })),
  services: z.array(z.strictObject({ name, host: name, port, protocol, metricsPath: z.string().optional() })),
  routes: z.array(z.strictObject({ host: fqdn, service: name, public: z.boolean() })),
  /** sshHostKey: the pinned host key, so the storage node's Borg pulls verify the network node too. */
  networkNode: z.strictObject({ host: name, address: ipv4, sshPort: port, sshUser: unixUser, sshHostKey }),
  datasets: z.array(dataset),
  /**
   * The ingress certificate when the network node renews it through ACME: Prometheus on the storage node
   * loads the renewal job's alert rules for it (the job's metrics come through the network node's
   * node-exporter).
   */
  acme: z.strictObject({ certificate: name, renewDays: z.number().int().positive() }).optional(),
  /**
   * Suricata on the gateway when its alerts are exported: Prometheus on the storage node loads the IDS
   * alert rules (the job's metrics come through the network node's node-exporter).
   */
  ids: z.strictObject({ staleRulesDays: z.number().int().positive() }).optional(),
  /**
   * The intents besides the tables above: the flows as configured, the WireGuard tunnel and the ingress
   * host's published ports. The storage node's host firewall is rendered from them
   * (analysis/host/intents.ts), the same intents the gateway's rules are compiled from.
   */
  intents: z.strictObject({
    flows: z.array(flow),
    tunnelCidr: cidr,
    ingress: z.strictObject({ host: name, ports: z.array(port) }),
  }),
  /** Services that run on the network node, for failure-domain and scrape analysis. */
  networkServices: z.array(
    z.strictObject({
      name,
      stack: name,
      alwaysOn: z.boolean(),
      datasets: z.array(z.string()),
      /**
       * Where Prometheus on the storage node can scrape it: the host port the metrics port is published
       * on; `published: false` when only the container has it (then it cannot be scraped).
       */
      metrics: z
        .strictObject({ port, path: z.string(), published: z.boolean(), bearer: z.boolean().default(false) })
        .optional(),
    }),
  ),
});
export type NetworkContract = z.output<typeof networkContract>;

export function toContract(model: NetworkModel): NetworkContract {
  const c = model.config;
  const node = model.hosts.get(c.networkNode.host)!;
  return {
    version: 1,
    domain: c.domain,
    segments: model.segments.map((s) => ({
      name: s.name,
      vlan: s.vlan,
      cidr: s.cidr,
      trust: s.trust,
      gateway: s.gateway,
    })),
    hosts: [...model.hosts.values()].map((h) => ({ name: h.name, segment: h.segment, address: h.address })),
    services: [...model.services.values()].map((s) => ({
      name: s.name,
      host: s.host,
      port: s.port,
      protocol: s.protocol,
      ...(s.metricsPath !== undefined ? { metricsPath: s.metricsPath } : {}),
    })),
    routes: model.routes.map((r) => ({ host: r.host, service: r.service, public: r.public })),
    networkNode: {
      host: node.name,
      address: node.address,
      sshPort: c.networkNode.ssh.port,
      sshUser: c.networkNode.ssh.user,
      sshHostKey: normalizeHostKey(c.networkNode.ssh.hostKey),
    },
    datasets: c.datasets,
    ...(c.ingress.tls.acme
      ? { acme: { certificate: INGRESS_CERTIFICATE_NAME, renewDays: c.ingress.tls.acme.renewDays } }
      : {}),
    ...(model.ids?.alerts && model.ids.enabled
      ? { ids: { staleRulesDays: staleRulesDays(model.ids.schedule.weekdays) } }
      : {}),
    intents: {
      flows: c.flows,
      tunnelCidr: c.wireguard.tunnelCidr,
      ingress: { host: c.ingress.host, ports: [...new Set([c.ingress.httpsPort, c.ingress.httpPort])] },
    },
    networkServices: c.stacks.flatMap((st) =>
      st.services.map((s) => ({
        name: s.name,
        stack: st.name,
        alwaysOn: s.alwaysOn,
        datasets: s.volumes.flatMap((v) => (v.dataset ? [v.dataset] : [])),
        ...(s.metrics ? { metrics: publishedMetrics(s) } : {}),
      })),
    ),
  };
}

function publishedMetrics(s: ComposeService): {
  port: number;
  path: string;
  published: boolean;
  bearer: boolean;
} {
  const m = s.metrics!;
  const hit = s.ports.find((p) => p.target === m.port && p.protocol === "tcp" && p.address !== "127.0.0.1");
  return hit
    ? { port: hit.published, path: m.path, published: true, bearer: m.bearer }
    : { port: m.port, path: m.path, published: false, bearer: m.bearer };
}
