/**
 * TEST ORACLE ONLY: the reachability analysis as it was before it worked on equivalence classes. It
 * evaluates every (source probe, destination probe) pair with one packet per protocol and per port
 * interval of one global port list, so its cost grows with the cube of the homelab (2.74 G packets at
 * 100x). It is kept, unchanged apart from imports, the count's name and the matrix's trust-level groups
 * (labels for summaries, computed by the same helper), so property tests can compare
 * the class-based analyzer in analysis/reachability/analyze.ts with it report for report. Its own copies
 * of the per-packet rule evaluator and the closure-based intents (evaluate.ts, intents.ts beside it)
 * keep it independent of the code under test.
 */
import type { NetworkModel } from "../../../model/resolve-network";
import { flowTraffic, type PortRange } from "../../../analysis/firewall/traffic";
import { interfaceKey, type CompiledFirewall, type InterfaceRef } from "../../../analysis/firewall/types";
import { ipToInt, type Packet, type PacketProtocol } from "../../../analysis/reachability/packet";
import { intToIp } from "../../../model/net";
import {
  destProbes,
  serviceProbes,
  sourceProbes,
  WAN_ADDRESS,
  type DestProbe,
  type SourceProbe,
} from "../../../analysis/reachability/probes";
import {
  isAnyToAny,
  matrixGroups,
  type Cell,
  type CellStatus,
  type Matrix,
  type Difference,
  type Exposure,
  type ReachabilityReport,
} from "../../../analysis/reachability/report";
import {
  addTraffic,
  emptyTraffic,
  isAll,
  isEmpty,
  trafficText,
  unionTraffic,
  type TrafficSet,
} from "../../../analysis/reachability/traffic-set";
import { findUnsafeIntents } from "../../../analysis/reachability/unsafe";
import { RuleEvaluator } from "./evaluate";
import { intentIndex, intentsOf } from "./intents";

const PROTOCOLS: PacketProtocol[] = ["tcp", "udp", "icmp"];

interface PairResult {
  allowed: TrafficSet;
  rules: Set<string>;
  unintended: TrafficSet;
  unintendedRules: Set<string>;
  denied: TrafficSet;
}

const gatewayAddresses =
  (model: NetworkModel) =>
  (iface: InterfaceRef): number | undefined => {
    if (iface.kind === "wan") return WAN_ADDRESS;
    if (iface.kind === "wireguard") return ipToInt(model.config.wireguard.serverAddress);
    const s = model.segmentsByName.get(iface.segment);
    return s ? ipToInt(s.gateway) : undefined;
  };

/** Same-segment traffic is switched, never routed through the gateway: only its own address is filtered. */
const isLocal = (src: SourceProbe, dst: DestProbe): boolean =>
  src.segment !== null &&
  dst.segment !== null &&
  src.segment.name === dst.segment.name &&
  dst.label !== "gateway";

const mayReachManagement = (src: SourceProbe): boolean =>
  src.iface.kind === "wireguard" ||
  src.segment?.trust === "management" ||
  (src.declaredHost && src.segment?.trust === "servers");

/**
 * Which source reaches which destination, computed by evaluating the compiled rules first-match on
 * representative packets (see probes.ts), and where that differs from what the intents say.
 */
export function analyzePerPacket(model: NetworkModel, firewall: CompiledFirewall): ReachabilityReport {
  const evaluator = new RuleEvaluator(firewall, gatewayAddresses(model));
  const intents = intentsOf(model, WAN_ADDRESS);
  const intervals = portIntervals(model, firewall);
  const sources = sourceProbes(model);
  const dests = destProbes(model);
  let packets = 0;

  const intentsOn = intentIndex(intents);
  const evaluatePair = (src: SourceProbe, dst: DestProbe): PairResult => {
    const candidates = intentsOn(interfaceKey(src.iface));
    const r: PairResult = {
      allowed: emptyTraffic(),
      rules: new Set(),
      unintended: emptyTraffic(),
      unintendedRules: new Set(),
      denied: emptyTraffic(),
    };
    for (const protocol of PROTOCOLS)
      for (const range of protocol === "icmp" ? [null] : intervals) {
        const packet: Packet = {
          iface: src.iface,
          src: src.address,
          dst: dst.address,
          protocol,
          port: range?.from ?? null,
        };
        packets++;
        const verdict = evaluator.evaluate(packet);
        const intended = candidates.some((i) => i.matches(packet));
        if (verdict.action === "pass") {
          addTraffic(r.allowed, protocol, range);
          r.rules.add(verdict.rule!.id);
          if (!intended) {
            addTraffic(r.unintended, protocol, range);
            r.unintendedRules.add(verdict.rule!.id);
          }
        } else if (intended) addTraffic(r.denied, protocol, range);
      }
    return r;
  };

  const pairs = new Map<string, PairResult>();
  const pairKey = (s: SourceProbe, d: DestProbe) => `${s.row}|${s.label}|${d.column}|${d.label}|${d.address}`;
  const differences: Difference[] = [];
  const managementExposure: Exposure[] = [];
  for (const src of sources)
    for (const dst of dests) {
      if (isLocal(src, dst)) continue;
      const r = evaluatePair(src, dst);
      pairs.set(pairKey(src, dst), r);
      const where = {
        source: `${src.row}/${src.label}`,
        destination: `${dst.label} (${intToIp(dst.address)})`,
      };
      if (!isEmpty(r.unintended))
        differences.push({
          ...where,
          traffic: trafficText(r.unintended),
          kind: "allowed",
          rules: [...r.unintendedRules],
        });
      if (!isEmpty(r.denied))
        differences.push({ ...where, traffic: trafficText(r.denied), kind: "denied", rules: [] });
      if (dst.segment?.trust === "management" && !mayReachManagement(src) && !isEmpty(r.allowed))
        managementExposure.push({ ...where, traffic: trafficText(r.allowed), rules: [...r.rules] });
    }

  const rows = [...model.segments.map((s) => s.name), "wireguard", "wan"];
  const services = serviceProbes(model);
  const columns = [
    ...model.segments.map((s) => `segment:${s.name}`),
    ...services.map((s) => s.column),
    "internet",
  ];
  const cells: Matrix["cells"] = {};
  for (const row of rows) {
    cells[row] = {};
    const rowSources = sources.filter((s) => s.row === row);
    for (const column of columns.filter((c) => !c.startsWith("service:"))) {
      const columnDests = dests.filter((d) => d.column === column);
      cells[row]![column] = addressCell(rowSources, columnDests, (s, d) => pairs.get(pairKey(s, d)));
    }
    for (const svc of services) {
      const protocol = svc.service.protocol;
      const port = svc.service.port;
      const local =
        rowSources.length > 0 && rowSources.every((s) => s.segment?.name === svc.service.hostRef.segment);
      if (local) {
        cells[row]![svc.column] = { status: "local", summary: "", rules: [] };
        continue;
      }
      const passing = rowSources
        .map((s) => ({
          s,
          v: evaluator.evaluate({ iface: s.iface, src: s.address, dst: svc.address, protocol, port }),
        }))
        .filter((x) => x.v.action === "pass");
      const status: CellStatus =
        passing.length === 0 ? "deny" : passing.length === rowSources.length ? "allow" : "partial";
      cells[row]![svc.column] = {
        status,
        summary:
          status === "deny"
            ? ""
            : `${protocol} ${port}${status === "partial" ? ` from ${passing.map((x) => x.s.label).join(", ")}` : ""}`,
        rules: [...new Set(passing.map((x) => x.v.rule!.id))],
      };
    }
  }

  const anyToAny = firewall.rules.filter(isAnyToAny).map((r) => ({ rule: r.id, description: r.description }));
  return {
    matrix: { rows, columns, ...matrixGroups(model, rows, columns), cells },
    differences,
    managementExposure,
    anyToAny,
    unsafeIntents: findUnsafeIntents(model),
    evaluations: packets,
  };
}

/** Summarises one matrix cell over every (source address, destination address) pair in it. */
function addressCell(
  srcs: SourceProbe[],
  dsts: DestProbe[],
  pairOf: (s: SourceProbe, d: DestProbe) => PairResult | undefined,
): Cell {
  const entries: { s: SourceProbe; d: DestProbe; r: PairResult }[] = [];
  for (const s of srcs)
    for (const d of dsts) {
      const r = pairOf(s, d);
      if (r) entries.push({ s, d, r });
    }
  if (entries.length === 0) return { status: "local", summary: "", rules: [] };
  const rules = [...new Set(entries.flatMap((e) => [...e.r.rules]))];
  const texts = entries.map((e) => trafficText(e.r.allowed));
  if (texts.every((t) => t === "")) return { status: "deny", summary: "", rules };
  // Uniform over every address pair of the cell: no need to say which addresses.
  const complete = entries.length === srcs.length * dsts.length;
  if (complete && texts.every((t) => t === texts[0])) {
    const everything = entries.every((e) => isAll(e.r.allowed));
    return { status: everything ? "allow" : "partial", summary: texts[0]!, rules };
  }
  const groups = new Map<string, { srcs: Set<string>; dsts: Set<string>; traffic: TrafficSet }>();
  for (const e of entries) {
    const t = trafficText(e.r.allowed);
    if (t === "") continue;
    const g = groups.get(t) ?? { srcs: new Set(), dsts: new Set(), traffic: e.r.allowed };
    g.srcs.add(e.s.label);
    g.dsts.add(e.d.label);
    g.traffic = unionTraffic(g.traffic, e.r.allowed);
    groups.set(t, g);
  }
  const allSrcs = new Set(srcs.map((s) => s.label));
  const allDsts = new Set(dsts.map((d) => d.label));
  const side = (set: Set<string>, all: Set<string>) => (set.size === all.size ? "*" : [...set].join(","));
  const summary = [...groups.entries()]
    .map(([t, g]) => `${side(g.srcs, allSrcs)} → ${side(g.dsts, allDsts)}: ${t}`)
    .join(" | ");
  return { status: "partial", summary, rules };
}

/**
 * Starts of the port intervals on which every rule and intent is constant: 1, each named range's first
 * port and the port after its last. Evaluating one port per interval covers all 65535.
 */
export function portIntervals(model: NetworkModel, firewall: CompiledFirewall): PortRange[] {
  const ranges: PortRange[] = [];
  const add = (r: PortRange) => ranges.push(r);
  for (const f of model.flows) flowTraffic(f).ports.forEach(add);
  for (const s of model.services.values()) add({ from: s.port, to: s.port });
  const c = model.config;
  for (const p of [22, 53, 67, 123, 443, c.ingress.httpPort, c.ingress.httpsPort, c.wireguard.listenPort])
    add({ from: p, to: p });
  for (const r of firewall.rules) {
    const m = r.destinationPort;
    if (m.kind === "port") add({ from: m.port, to: m.port });
    if (m.kind === "range") add({ from: m.from, to: m.to });
  }
  for (const a of firewall.aliases.filter((x) => x.type === "port"))
    for (const text of a.content) {
      const [from, to] = text.split("-").map(Number) as [number, number?];
      add({ from, to: to ?? from });
    }
  const starts = new Set<number>([1]);
  for (const r of ranges) {
    starts.add(r.from);
    if (r.to < 65535) starts.add(r.to + 1);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  return sorted.map((from, i) => ({ from, to: (sorted[i + 1] ?? 65536) - 1 }));
}
