/**
 * The gateway as the intents describe it (the storage stack's view, analysis/host/reachability.ts
 * intentGateway): from the WAN only what the port forward names passes, on the segments and the tunnel
 * only what the flows name, whatever the source address.
 */
import type { HostIntents } from "../../analysis/host/intents";
import { intentGateway, type HostProbe } from "../../analysis/host/reachability";
import { parseIpv4 } from "../../model/net";

const intents: HostIntents = {
  privateNets: ["10.0.0.0/8"],
  managementSources: [],
  intents: [
    {
      id: "flow-0",
      description: "any internal source to sshd",
      from: { kind: "nets", cidrs: ["10.0.0.0/8"] },
      to: ["10.0.20.5/32"],
      traffic: { protocol: "tcp", ports: [{ from: 22, to: 22 }] },
    },
    {
      id: "wan-ingress",
      description: "the port forward",
      from: { kind: "internet" },
      to: ["10.0.20.6/32"],
      traffic: { protocol: "tcp", ports: [{ from: 443, to: 443 }] },
    },
  ],
};

const probe = (address: string, wan: boolean): HostProbe => ({
  row: "r",
  label: "l",
  address: parseIpv4(address)!,
  segment: wan ? null : "trusted",
  iface: wan ? { kind: "wan" } : { kind: "segment", segment: "trusted" },
});
const segment = probe("10.0.10.5", false);
// A private source address arriving on the WAN: the flows' "any internal source" does not cover it.
const wanPrivate = probe("10.9.9.9", true);
const internet = probe("198.51.100.7", true);

describe("the intents' gateway", () => {
  const passes = intentGateway(intents);
  const sshd = (p: HostProbe) => passes(p, parseIpv4("10.0.20.5")!, "tcp", 22);
  const ingress = (p: HostProbe) => passes(p, parseIpv4("10.0.20.6")!, "tcp", 443);

  it("passes a flow only from the segments and the tunnel, never from the WAN", () => {
    expect([sshd(segment), sshd(wanPrivate), sshd(internet)]).toEqual([true, false, false]);
  });

  it("passes the port forward only from the WAN and only from outside the private nets", () => {
    expect([ingress(internet), ingress(segment), ingress(wanPrivate)]).toEqual([true, false, false]);
  });

  it("passes nothing no intent names", () => {
    expect(passes(segment, parseIpv4("10.0.20.5")!, "tcp", 23)).toBe(false);
    expect(passes(segment, parseIpv4("10.0.20.5")!, "udp", 22)).toBe(false);
  });
});
