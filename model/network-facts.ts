import type { Ipv4Range } from "./net";
import type {
  Endpoint,
  NetworkModel,
  ResolvedFlow,
  ResolvedHost,
  ResolvedSegment,
  ResolvedService,
} from "./resolve-network";

/** What the reachability analysis reads of the resolved network (a NetworkModel is one). */
export interface ReachabilityModel {
  segments: ResolvedSegment[];
  segmentsByName: ReadonlyMap<string, ResolvedSegment>;
  hosts: ReadonlyMap<string, ResolvedHost>;
  services: ReadonlyMap<string, ResolvedService>;
  flows: ResolvedFlow[];
  wireguardRange: Ipv4Range;
  config: {
    wireguard: { serverAddress: string; listenPort: number; peers: { name: string; address: string }[] };
    ingress: { host: string; httpPort: number; httpsPort: number };
  };
}

/** A flow endpoint as published: the name of what it points at, not a copy of it. */
export type EndpointFact =
  | { kind: "segment"; segment: string }
  | { kind: "host"; host: string }
  | { kind: "service"; service: string }
  | { kind: "internet" }
  | { kind: "wireguard" }
  | { kind: "any" };

export interface FlowFact extends Omit<ResolvedFlow, "from" | "to"> {
  from: EndpointFact;
  to: EndpointFact;
}

/**
 * The same resolved network as plain lists, as the Firewall component publishes it for the policies:
 * component inputs go through Pulumi's serialization, which keeps arrays and objects but not maps, and
 * would copy a referenced object at every place that references it (the segment inside every host,
 * service and flow endpoint). So references are names here, each object is published once, and the
 * policies read it back with `reachabilityModel`, which only looks the names up again: the config is
 * parsed, checked and cross-referenced once, by the model.
 */
export interface NetworkFacts {
  segments: ResolvedSegment[];
  /** Each host with its segment by name (`segment`). */
  hosts: Omit<ResolvedHost, "segmentRef">[];
  /** Each service with its host by name (`host`). */
  services: Omit<ResolvedService, "hostRef">[];
  flows: FlowFact[];
  wireguardRange: Ipv4Range;
  wireguard: ReachabilityModel["config"]["wireguard"];
  ingress: ReachabilityModel["config"]["ingress"];
}

const published = new WeakMap<object, NetworkFacts>();

const endpointFact = (e: Endpoint): EndpointFact => {
  switch (e.kind) {
    case "segment":
      return { kind: "segment", segment: e.segment.name };
    case "host":
      return { kind: "host", host: e.host.name };
    case "service":
      return { kind: "service", service: e.service.name };
    default:
      return { kind: e.kind };
  }
};

/** The facts of a model; the same object for the same model, so hashing it once serves every caller. */
export function networkFacts(model: NetworkModel): NetworkFacts {
  let facts = published.get(model);
  if (!facts) {
    const { wireguard: wg, ingress } = model.config;
    facts = {
      segments: model.segments,
      hosts: [...model.hosts.values()].map(({ segmentRef: _segment, ...host }) => host),
      services: [...model.services.values()].map(({ hostRef: _host, ...service }) => service),
      flows: model.flows.map((f) => ({ ...f, from: endpointFact(f.from), to: endpointFact(f.to) })),
      wireguardRange: model.wireguardRange,
      wireguard: {
        serverAddress: wg.serverAddress,
        listenPort: wg.listenPort,
        peers: wg.peers.map((p) => ({ name: p.name, address: p.address })),
      },
      ingress: { host: ingress.host, httpPort: ingress.httpPort, httpsPort: ingress.httpsPort },
    };
    published.set(model, facts);
  }
  return facts;
}

/** Published facts back as the analysis reads them: lists indexed by name, each name linked again. */
export function reachabilityModel(facts: NetworkFacts): ReachabilityModel {
  const byName = <T extends { name: string }>(list: T[]) => new Map(list.map((x) => [x.name, x]));
  const find = <T>(map: ReadonlyMap<string, T>, name: string, what: string): T => {
    const found = map.get(name);
    if (found === undefined) throw new Error(`network facts: ${what} "${name}" is not published`);
    return found;
  };
  const segmentsByName = byName(facts.segments);
  const hosts = byName(
    facts.hosts.map((h) => ({ ...h, segmentRef: find(segmentsByName, h.segment, "segment") })),
  );
  const services = byName(facts.services.map((s) => ({ ...s, hostRef: find(hosts, s.host, "host") })));
  const endpoint = (e: EndpointFact): Endpoint => {
    switch (e.kind) {
      case "segment":
        return { kind: "segment", segment: find(segmentsByName, e.segment, "segment") };
      case "host":
        return { kind: "host", host: find(hosts, e.host, "host") };
      case "service":
        return { kind: "service", service: find(services, e.service, "service") };
      default:
        return { kind: e.kind };
    }
  };
  return {
    segments: facts.segments,
    segmentsByName,
    hosts,
    services,
    flows: facts.flows.map((f) => ({ ...f, from: endpoint(f.from), to: endpoint(f.to) })),
    wireguardRange: facts.wireguardRange,
    config: { wireguard: facts.wireguard, ingress: facts.ingress },
  };
}
