import {
  networkNodeBaseline,
  storageNodeBaseline,
  type HostBaselineFactsOf,
} from "../../analysis/host/baseline";
import { resolveNetwork, resolveStorage, toContract } from "../../model";
import { FACT_TYPES } from "../../model/facts";
import { hostFirewall } from "../../policies/rules/host-firewall";
import { runPolicies } from "../../policies/run";
import { allSecretsSet, networkFile, rawOf, referenceContract, storageFile } from "../fixtures/reference";
import { res } from "./graph";

type Raw = Record<string, unknown>;

/** The facts as the engine hands them to a policy: plain JSON. */
const graphOf = (facts: HostBaselineFactsOf) => [
  res(FACT_TYPES.hostBaseline, "baseline", JSON.parse(JSON.stringify(facts)) as Record<string, unknown>),
];
const violations = async (facts: HostBaselineFactsOf) =>
  (await runPolicies([hostFirewall], graphOf(facts), { stack: "network" })).violations.map((v) => v.message);

const networkFacts = (edit: (raw: Raw) => void = () => {}) => {
  const raw = rawOf(networkFile());
  edit(raw);
  return networkNodeBaseline(resolveNetwork(raw, allSecretsSet)).facts;
};
const storageFacts = (editNetwork: (raw: Raw) => void = () => {}) => {
  const net = rawOf(networkFile());
  editNetwork(net);
  const contract = toContract(resolveNetwork(net, allSecretsSet));
  return storageNodeBaseline(resolveStorage(rawOf(storageFile()), allSecretsSet, contract)).facts;
};
type Flow = { from: string; to: string; ports?: number[] };
const flows = (raw: Raw) => raw["flows"] as Flow[];
const stacks = (raw: Raw) =>
  raw["stacks"] as {
    name: string;
    services: { name: string; ports?: { address: string; published: number; target: number }[] }[];
  }[];

describe("host-firewall policy", () => {
  test("passes the reference network node and storage node (good plans)", async () => {
    expect(await violations(networkFacts())).toEqual([]);
    expect(await violations(storageFacts())).toEqual([]);
    expect(referenceContract().intents.flows.length).toBeGreaterThan(0);
  });

  test("fails a published port no flow names and nothing on the node uses", async () => {
    const facts = networkFacts((raw) => {
      const home = stacks(raw).find((s) => s.name === "home")!;
      home.services
        .find((s) => s.name === "frigate")!
        .ports!.push({ address: "10.0.20.2", published: 5000, target: 5000 });
    });
    expect(await violations(facts)).toEqual([
      "frigate publishes 10.0.20.2 tcp 5000, but no flow names it and nothing on network-node uses it: add a flow to the network stack's homelab:flows naming who may reach it, or publish it on 127.0.0.1",
    ]);
  });

  test("fails a host ruleset that lets more through than the intents (a rule widened after compiling)", async () => {
    const facts = networkFacts();
    const flow0 = facts.firewall.rules.find((r) => r.id === "flow-0")!;
    // trusted → haproxy 443 widened to every private network: iot, guest and cameras now reach the ingress.
    flow0.sources = { kind: "nets", cidrs: ["10.0.0.0/8"] };
    const found = await violations(facts);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join("\n")).toMatch(
      /host firewall of network-node lets iot\/.* → network-node 10\.0\.20\.2: .*tcp 443.*\(rule flow-0\), which no flow names/,
    );
  });

  test("fails a ruleset that would lock the deploy out (the management path dropped)", async () => {
    const facts = networkFacts();
    facts.firewall.rules = facts.firewall.rules.filter((r) => r.id !== "management");
    expect(await violations(facts)).toContain(
      "host firewall of network-node drops the management path: sshd (tcp 22) on 10.0.20.2 from 10.0.10.0/24; the next deploy could not log in",
    );
  });

  test("fails the storage stack when a connection the program opens has no flow (Prometheus's scrape of the network node)", async () => {
    const facts = storageFacts((raw) => {
      raw["flows"] = flows(raw).filter(
        (f) => !(f.from === "host:storage-node" && f.to === "host:network-node" && f.ports?.includes(9100)),
      );
    });
    const found = await violations(facts);
    expect(found).toContain(
      "Prometheus scrapes node (/metrics): 10.0.20.10 → 10.0.20.2 tcp 9100 is dropped by the network node's host firewall; add a flow { from: host:storage-node, to: host:network-node, protocol: tcp, ports: [9100], reason: ... } to the network stack's homelab:flows",
    );
  });

  test("is not applicable to a graph without a host baseline", async () => {
    const r = await runPolicies([hostFirewall], [], { stack: "network" });
    expect(r.violations).toEqual([]);
    expect(r.evaluated).toEqual([
      { policy: "host-firewall", level: "mandatory", applicable: false, violations: 0 },
    ]);
  });
});
