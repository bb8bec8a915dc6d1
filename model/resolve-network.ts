import { checkAccess } from "./access";
import { checkAcme, checkAcmeRuntimeMount } from "./acme";
import { checkDirectoryAgainstStacks, checkStacks } from "./compose-checks";
import { IssueList, References, suggest } from "./errors";
import { contains, intToIp, overlaps, parseCidr, parseIpv4, type Ipv4Range } from "./net";
import {
  networkConfig,
  type Flow,
  type Host,
  type InterfaceBinding,
  type NetworkConfig,
  type Route,
  type Segment,
  type ServiceEndpoint,
} from "./network";
import { parseStackConfig } from "./parse";
import { bindingOf, checkBindings, checkOpnsenseNames } from "./resolve-opnsense";
import { checkAlertsFlow, resolveIds, type ResolvedIds } from "./ids";
import { checkHostBaseline } from "./host-baseline";
import { checkSecrets, collectSecretRefs, type SecretSource, type SecretUse } from "./secrets";

export interface ResolvedSegment extends Segment {
  range: Ipv4Range;
  /** The gateway's address on this VLAN (first usable address by convention). */
  gateway: string;
  /** How the provider finds this segment's OPNsense interface (key, or description to look up). */
  binding: InterfaceBinding;
}
export interface ResolvedHost extends Host {
  segmentRef: ResolvedSegment;
}
export interface ResolvedService extends ServiceEndpoint {
  hostRef: ResolvedHost;
}

export type Endpoint =
  | { kind: "segment"; segment: ResolvedSegment }
  | { kind: "host"; host: ResolvedHost }
  | { kind: "service"; service: ResolvedService }
  | { kind: "internet" }
  | { kind: "wireguard" }
  | { kind: "any" };

export interface ResolvedFlow extends Omit<Flow, "from" | "to"> {
  index: number;
  from: Endpoint;
  to: Endpoint;
}

export interface ResolvedRoute extends Route {
  serviceRef: ResolvedService;
}

export interface NetworkModel {
  stack: "network";
  config: NetworkConfig;
  segments: ResolvedSegment[];
  segmentsByName: Map<string, ResolvedSegment>;
  hosts: Map<string, ResolvedHost>;
  services: Map<string, ResolvedService>;
  flows: ResolvedFlow[];
  routes: ResolvedRoute[];
  wireguardRange: Ipv4Range;
  /** Intrusion detection on the gateway, when `homelab:ids` is set. */
  ids?: ResolvedIds;
  secrets: SecretUse[];
}

/** Interface names the firewall compiler uses for the uplink and the admin tunnel. */
const RESERVED_SEGMENTS = ["wan", "wireguard"];

/** Parses and cross-checks the network stack's config; throws ConfigError listing every problem. */
export function resolveNetwork(raw: Record<string, unknown>, secrets: SecretSource): NetworkModel {
  const issues = new IssueList();
  const config = parseStackConfig("network", networkConfig, raw, issues);
  const refs = new References(issues);

  const segments: ResolvedSegment[] = [];
  const segmentsByName = new Map<string, ResolvedSegment>();
  const vlans = new Map<number, string>();
  config.segments.forEach((s, i) => {
    const range = parseCidr(s.cidr) as Ipv4Range;
    if (segmentsByName.has(s.name)) issues.add(["segments", i, "name"], `duplicate segment name "${s.name}"`);
    if (RESERVED_SEGMENTS.includes(s.name))
      issues.add(
        ["segments", i, "name"],
        `"${s.name}" is reserved for the gateway's own interface; pick another name`,
      );
    const vlanOwner = vlans.get(s.vlan);
    if (vlanOwner !== undefined)
      issues.add(["segments", i, "vlan"], `VLAN ${s.vlan} is already used by segment "${vlanOwner}"`);
    vlans.set(s.vlan, s.name);
    for (const other of segments)
      if (overlaps(range, other.range))
        issues.add(["segments", i, "cidr"], `${s.cidr} overlaps ${other.cidr} of segment "${other.name}"`);
    const seg = { ...s, range, gateway: intToIp(range.first + 1), binding: bindingOf(s) };
    segments.push(seg);
    segmentsByName.set(s.name, seg);
  });

  const wireguardRange = parseCidr(config.wireguard.tunnelCidr) as Ipv4Range;
  for (const seg of segments)
    if (overlaps(wireguardRange, seg.range))
      issues.add(
        ["wireguard", "tunnelCidr"],
        `${config.wireguard.tunnelCidr} overlaps segment "${seg.name}" (${seg.cidr})`,
      );

  const hosts = new Map<string, ResolvedHost>();
  const addresses = new Map<string, string>();
  config.hosts.forEach((h, i) => {
    const seg = segmentsByName.get(h.segment);
    if (hosts.has(h.name)) issues.add(["hosts", i, "name"], `duplicate host name "${h.name}"`);
    if (!seg) {
      refs.markBroken("host", h.name);
      return refs.missing(
        "segment",
        h.segment,
        ["hosts", i, "segment"],
        `unknown segment "${h.segment}"${suggest(h.segment, segmentsByName.keys())}`,
      );
    }
    const ip = parseIpv4(h.address)!;
    if (!contains(seg.range, ip))
      issues.add(["hosts", i, "address"], `${h.address} is outside segment "${seg.name}" (${seg.cidr})`);
    else if (seg.range.prefix <= 30 && (ip === seg.range.first || ip === seg.range.last))
      issues.add(
        ["hosts", i, "address"],
        `${h.address} is the ${ip === seg.range.first ? "network" : "broadcast"} address of segment "${seg.name}" (${seg.cidr}); no host can have it`,
      );
    const owner = addresses.get(h.address);
    if (owner !== undefined)
      issues.add(["hosts", i, "address"], `${h.address} is already used by host "${owner}"`);
    addresses.set(h.address, h.name);
    hosts.set(h.name, { ...h, segmentRef: seg });
  });

  const services = new Map<string, ResolvedService>();
  config.services.forEach((s, i) => {
    const host = hosts.get(s.host);
    if (services.has(s.name)) issues.add(["services", i, "name"], `duplicate service name "${s.name}"`);
    if (!host) {
      refs.markBroken("service", s.name);
      return refs.missing(
        "host",
        s.host,
        ["services", i, "host"],
        `unknown host "${s.host}"${suggest(s.host, hosts.keys())}`,
      );
    }
    services.set(s.name, { ...s, hostRef: host });
  });

  const resolveEndpoint = (ref: string, path: PropertyKey[]): Endpoint | undefined => {
    if (ref === "internet" || ref === "wireguard" || ref === "any") return { kind: ref };
    const [kind, name] = ref.split(":") as ["segment" | "host" | "service", string];
    const table = { segment: segmentsByName, host: hosts, service: services }[kind] as Map<string, unknown>;
    const found = table.get(name);
    if (!found) {
      refs.missing(kind, name, path, `"${ref}" names an unknown ${kind}${suggest(name, table.keys())}`);
      return undefined;
    }
    if (kind === "segment") return { kind, segment: found as ResolvedSegment };
    if (kind === "host") return { kind, host: found as ResolvedHost };
    return { kind, service: found as ResolvedService };
  };

  const flows: ResolvedFlow[] = [];
  config.flows.forEach((f, i) => {
    const from = resolveEndpoint(f.from, ["flows", i, "from"]);
    const to = resolveEndpoint(f.to, ["flows", i, "to"]);
    if (f.ports.length > 0 && (f.protocol === "icmp" || f.protocol === "any"))
      issues.add(["flows", i, "ports"], `ports only apply to tcp or udp, not ${f.protocol}`);
    if (from?.kind === "internet" || from?.kind === "service")
      issues.add(
        ["flows", i, "from"],
        `a flow cannot start at ${f.from}; inbound internet traffic only enters through ingress routes`,
      );
    if (!from || !to) return;
    flows.push({ ...f, index: i, from, to });
  });

  checkIngress(config, services, segmentsByName, issues);
  checkOpnsenseUrl(config, segments, issues);

  const routes: ResolvedRoute[] = [];
  const routeHosts = new Set<string>();
  config.ingress.routes.forEach((r, i) => {
    if (routeHosts.has(r.host)) issues.add(["ingress", "routes", i, "host"], `duplicate route for ${r.host}`);
    routeHosts.add(r.host);
    const svc = services.get(r.service);
    if (!svc)
      return refs.missing(
        "service",
        r.service,
        ["ingress", "routes", i, "service"],
        `unknown service "${r.service}"${suggest(r.service, services.keys())}`,
      );
    if (!r.host.endsWith(`.${config.domain}`))
      issues.add(
        ["ingress", "routes", i, "host"],
        `${r.host} is outside the homelab domain ${config.domain}`,
      );
    routes.push({ ...r, serviceRef: svc });
  });
  if (!hosts.has(config.ingress.host))
    refs.missing(
      "host",
      config.ingress.host,
      ["ingress", "host"],
      `unknown host "${config.ingress.host}"${suggest(config.ingress.host, hosts.keys())}`,
    );
  if (!services.has(config.ingress.sso.service))
    refs.missing(
      "service",
      config.ingress.sso.service,
      ["ingress", "sso", "service"],
      `unknown service "${config.ingress.sso.service}"${suggest(config.ingress.sso.service, services.keys())}`,
    );

  const peerAddrs = new Set<string>();
  if (!contains(wireguardRange, parseIpv4(config.wireguard.serverAddress)!))
    issues.add(
      ["wireguard", "serverAddress"],
      `${config.wireguard.serverAddress} is outside ${config.wireguard.tunnelCidr}`,
    );
  const tunnelEdge = (a: string) =>
    wireguardRange.prefix <= 30 && [wireguardRange.first, wireguardRange.last].includes(parseIpv4(a)!);
  if (tunnelEdge(config.wireguard.serverAddress))
    issues.add(
      ["wireguard", "serverAddress"],
      `${config.wireguard.serverAddress} is the tunnel's network or broadcast address`,
    );
  config.wireguard.peers.forEach((p, i) => {
    if (tunnelEdge(p.address))
      issues.add(
        ["wireguard", "peers", i, "address"],
        `${p.address} is the tunnel's network or broadcast address`,
      );
    if (!contains(wireguardRange, parseIpv4(p.address)!))
      issues.add(
        ["wireguard", "peers", i, "address"],
        `${p.address} is outside the tunnel ${config.wireguard.tunnelCidr}`,
      );
    if (peerAddrs.has(p.address) || p.address === config.wireguard.serverAddress)
      issues.add(["wireguard", "peers", i, "address"], `${p.address} is already in use in the tunnel`);
    peerAddrs.add(p.address);
  });

  const nodeHost = hosts.get(config.networkNode.host);
  if (!nodeHost)
    refs.missing(
      "host",
      config.networkNode.host,
      ["networkNode", "host"],
      `unknown host "${config.networkNode.host}"${suggest(config.networkNode.host, hosts.keys())}`,
    );
  const datasets = new Set<string>();
  config.datasets.forEach((d, i) => {
    if (datasets.has(d.name)) issues.add(["datasets", i, "name"], `duplicate dataset "${d.name}"`);
    datasets.add(d.name);
  });
  const nodeHostNames = new Set(nodeHost ? [nodeHost.name] : []);
  checkStacks(
    config.stacks,
    {
      datasets,
      // Unknown when the node's host did not resolve: that one issue covers every port binding.
      nodeAddresses: nodeHost ? new Set([nodeHost.address]) : undefined,
      nodeName: "the network node",
    },
    issues,
    refs,
  );
  checkDirectoryAgainstStacks(config.services, nodeHostNames, config.stacks, (i, field, msg) =>
    issues.add(["services", i, field], msg),
  );

  checkBindings(config, issues);
  checkOpnsenseNames(config, issues);
  if (config.ingress.tls.acme) {
    checkAcme(
      config.ingress.tls.acme,
      config.domain,
      config.ingress.routes.map((r) => r.host),
      issues,
    );
    checkAcmeRuntimeMount(config.stacks, issues);
  }
  checkAccess(config.access, config.segments, issues, refs);
  const ids = config.ids
    ? resolveIds(config.ids, config.segments, config.wireguard.tunnelCidr, issues, refs)
    : undefined;
  // Whether the flows let the alert job reach the API is only worth saying once the rest is sound: a
  // misspelt flows list or a misplaced API address is the problem to report then, not this.
  if (ids?.alerts && issues.issues.length === 0)
    checkAlertsFlow(config.opnsense.url, nodeHost, segments, flows, issues);

  checkHostBaseline(config.hostBaseline, issues);

  const secretUses = collectSecretRefs(config);
  checkSecrets(secretUses, secrets, issues, "network");
  issues.throwIfAny("network");
  return {
    stack: "network",
    config,
    segments,
    segmentsByName,
    hosts,
    services,
    flows,
    routes,
    wireguardRange,
    ...(ids ? { ids } : {}),
    secrets: secretUses,
  };
}

/**
 * The ingress routes as HAProxy and Authelia can serve them. The SSO portal must be routed, public and
 * served by the SSO service (gating the login page behind itself would loop). A public route skips SSO
 * for the whole internet: it may only lead to a service on a `servers` segment, never into management,
 * trusted or isolated networks, and "bypass paths" only mean something on a gated route. HAProxy
 * routes HTTP, so the service must be TCP, and the proxy container must publish the ingress ports.
 */
function checkIngress(
  config: NetworkConfig,
  services: Map<string, ResolvedService>,
  segments: Map<string, ResolvedSegment>,
  issues: IssueList,
): void {
  const ing = config.ingress;
  const portal = ing.routes.findIndex((r) => r.host === ing.sso.portalHost);
  if (portal < 0)
    issues.add(
      ["ingress", "sso", "portalHost"],
      `${ing.sso.portalHost} has no route, so nobody could log in; add { host: ${ing.sso.portalHost}, service: ${ing.sso.service}, public: true } to homelab:ingress.routes`,
    );
  ing.routes.forEach((r, i) => {
    const at = (field: string) => ["ingress", "routes", i, field];
    const svc = services.get(r.service);
    if (i === portal) {
      if (!r.public)
        issues.add(
          at("public"),
          "the SSO portal's route must be public: gating the login page behind SSO would loop",
        );
      if (r.service !== ing.sso.service)
        issues.add(at("service"), `the SSO portal's route must lead to the SSO service "${ing.sso.service}"`);
    } else if (r.public && svc) {
      const trust = segments.get(svc.hostRef.segment)?.trust;
      if (trust !== "servers")
        issues.add(
          at("public"),
          `a public route is open to the internet without SSO; "${r.service}" runs on ${svc.host}, in the ${trust} segment "${svc.hostRef.segment}": only services on a servers segment may be public (remove public: true)`,
        );
    }
    if (r.public && r.bypassPaths.length > 0)
      issues.add(at("bypassPaths"), "bypass paths only apply to SSO-gated routes; this route is public");
    if (svc && svc.protocol !== "tcp")
      issues.add(
        at("service"),
        `"${r.service}" is a ${svc.protocol} service; the ingress proxies HTTP over TCP only`,
      );
  });
  // The proxy container must publish the ingress ports (analysis/ingress/spec.ts binds them).
  const proxy = config.stacks
    .flatMap((st, si) => st.services.map((s, vi) => ({ s, si, vi })))
    .find(({ s }) => s.preset === "haproxy" || s.name === "haproxy");
  // Without one the ingress cannot be rendered at all: preflight (analysis/ingress/spec.ts) says so.
  if (!proxy) return;
  for (const key of ["httpsPort", "httpPort"] as const)
    if (!proxy.s.ports.some((p) => p.published === ing[key] && p.protocol === "tcp"))
      issues.add(
        ["ingress", key],
        `port ${ing[key]} is not published by the haproxy service (homelab:stacks[${proxy.si}].services[${proxy.vi}].ports)`,
      );
}

/** The firewall's API key travels to this URL: it must be an address on a management segment. */
function checkOpnsenseUrl(config: NetworkConfig, segments: ResolvedSegment[], issues: IssueList): void {
  const host = new URL(config.opnsense.url).hostname;
  const ip = parseIpv4(host);
  if (ip === undefined) return; // a DNS name: where it points is not known here
  // Outside every segment it is an out-of-band network this config does not describe; inside one, it
  // must be a management segment.
  const seg = segments.find((s) => contains(s.range, ip));
  if (seg && seg.trust !== "management")
    issues.add(
      ["opnsense", "url"],
      `${host} is in the ${seg.trust} segment "${seg.name}"; the OPNsense API (and its key) must stay on a management segment`,
    );
}
