import type { Ipv4Range } from "./net";
import type {
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

/**
 * The same resolved network as plain lists, as the Firewall component publishes it for the policies:
 * component inputs go through Pulumi's serialization, which keeps arrays and objects but not maps. The
 * policies read it back with `reachabilityModel`, which only indexes it by name: the config is parsed,
 * checked and cross-referenced once, by the model.
 */
export interface NetworkFacts {
  segments: ResolvedSegment[];
  hosts: ResolvedHost[];
  services: ResolvedService[];
  flows: ResolvedFlow[];
  wireguardRange: Ipv4Range;
  wireguard: ReachabilityModel["config"]["wireguard"];
  ingress: ReachabilityModel["config"]["ingress"];
}

const published = new WeakMap<object, NetworkFacts>();

/** The facts of a model; the same object for the same model, so hashing it once serves every caller. */
export function networkFacts(model: NetworkModel): NetworkFacts {
  let facts = published.get(model);
  if (!facts) {
    const { wireguard: wg, ingress } = model.config;
    facts = {
      segments: model.segments,
      hosts: [...model.hosts.values()],
      services: [...model.services.values()],
      flows: model.flows,
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

/** Published facts back as the analysis reads them: lists indexed by name, nothing resolved again. */
export function reachabilityModel(facts: NetworkFacts): ReachabilityModel {
  const byName = <T extends { name: string }>(list: T[]) => new Map(list.map((x) => [x.name, x]));
  return {
    segments: facts.segments,
    segmentsByName: byName(facts.segments),
    hosts: byName(facts.hosts),
    services: byName(facts.services),
    flows: facts.flows,
    wireguardRange: facts.wireguardRange,
    config: { wireguard: facts.wireguard, ingress: facts.ingress },
  };
}
