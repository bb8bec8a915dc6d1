import type { ReachabilityModel } from "../../model/network-facts";
import type { CompiledFirewall, InterfaceRef } from "../firewall/types";
import { RuleEvaluator } from "./evaluate";
import { intentIndex, intentsOf } from "./intents";
import { intToIp } from "../../model/net";
import { ipToInt } from "./packet";
import {
  destProbes,
  serviceProbes,
  sourceProbes,
  WAN_ADDRESS,
  type DestProbe,
  type SourceProbe,
} from "./probes";
import {
  isAnyToAny,
  matrixGroups,
  type Cell,
  type CellStatus,
  type Difference,
  type Exposure,
  type Matrix,
  type ReachabilityReport,
} from "./report";
import { SourceSpace, type ClassResult } from "./source-space";
import { findUnsafeIntents } from "./unsafe";

const gatewayAddresses =
  (model: ReachabilityModel) =>
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

// Cells are immutable and most of a large matrix is one of these two: share them.
const DENY: Cell = Object.freeze({
  status: "deny",
  summary: "",
  rules: Object.freeze([]) as unknown as string[],
});
const LOCAL: Cell = Object.freeze({
  status: "local",
  summary: "",
  rules: Object.freeze([]) as unknown as string[],
});

const groupBy = <T>(items: T[], key: (t: T) => string | null): Map<string, number[]> => {
  const out = new Map<string, number[]>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === null) return;
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(i);
  });
  return out;
};

/**
 * Which source reaches which destination, and where that differs from what the intents say.
 *
 * The compiled rules and the intents only tell packets apart by the address sets and port ranges they
 * name. So for each source probe (see probes.ts) the destinations are grouped into classes by which of
 * the sets named by that source's rules and intents hold them, and the ports into atoms bounded by
 * that source's named ranges; one packet per (destination class, protocol, port atom) is evaluated
 * first-match against the rules and against the intents, and decides every packet of its class. This
 * is the equivalence-class idea of network verifiers (Batfish, atomic predicates): the work grows with
 * what each interface names, not with segments × hosts × every port the homelab names anywhere.
 */
export function analyzeReachability(
  model: ReachabilityModel,
  firewall: CompiledFirewall,
): ReachabilityReport {
  const evaluator = new RuleEvaluator(firewall, gatewayAddresses(model));
  const intentsOn = intentIndex(intentsOf(model, WAN_ADDRESS));
  const sources = sourceProbes(model);
  const dests = destProbes(model);
  const services = serviceProbes(model);
  const counter = { evaluations: 0 };
  const spaces = sources.map((src) => new SourceSpace(src, evaluator, intentsOn, counter));
  // Each source classifies every destination in one merge pass over them in address order.
  const destAddresses = dests.map((d) => d.address);
  const order = dests.map((_, i) => i).sort((a, b) => destAddresses[a]! - destAddresses[b]!);
  const classOf = spaces.map((space) => space.classify(destAddresses, order));

  const rows = [...model.segments.map((s) => s.name), "wireguard", "wan"];
  const columns = [
    ...model.segments.map((s) => `segment:${s.name}`),
    ...services.map((s) => s.column),
    "internet",
  ];
  const addressColumns = columns.filter((c) => !c.startsWith("service:"));
  const rowIndex = new Map(rows.map((r, i) => [r, i]));
  const columnIndex = new Map(addressColumns.map((c, i) => [c, i]));
  const destColumn = Int32Array.from(dests, (d) =>
    d.column === null ? -1 : (columnIndex.get(d.column) ?? -1),
  );
  const sourceRow = Int32Array.from(sources, (s) => rowIndex.get(s.row) ?? -1);
  const local = (si: number, di: number) => isLocal(sources[si]!, dests[di]!);
  const pair = (si: number, di: number): ClassResult | undefined =>
    local(si, di) ? undefined : spaces[si]!.result(classOf[si]![di]!);

  // One pass over every (source, destination) pair: findings, and which matrix cells have a routed
  // pair at all and which let anything through (most cells of a large homelab are plain denies).
  const width = addressColumns.length;
  const routed = new Uint8Array(rows.length * width);
  const allowing = new Uint8Array(rows.length * width);
  const differences: Difference[] = [];
  const managementExposure: Exposure[] = [];
  const management = Uint8Array.from(dests, (d) => (d.segment?.trust === "management" ? 1 : 0));
  sources.forEach((src, si) => {
    const reachesManagement = mayReachManagement(src);
    const classes = classOf[si]!;
    const space = spaces[si]!;
    const cellBase = sourceRow[si]! * width;
    for (let di = 0; di < dests.length; di++) {
      if (local(si, di)) continue;
      const r = space.result(classes[di]!);
      const column = destColumn[di]!;
      if (column >= 0 && cellBase >= 0) {
        routed[cellBase + column] = 1;
        if (r.allowedText !== "") allowing[cellBase + column] = 1;
      }
      const exposes = management[di] === 1 && !reachesManagement && r.allowedText !== "";
      if (r.unintendedText === "" && r.deniedText === "" && !exposes) continue;
      const dst = dests[di]!;
      const where = {
        source: `${src.row}/${src.label}`,
        destination: `${dst.label} (${intToIp(dst.address)})`,
      };
      if (r.unintendedText !== "")
        differences.push({
          ...where,
          traffic: r.unintendedText,
          kind: "allowed",
          rules: [...r.unintendedRules],
        });
      if (r.deniedText !== "")
        differences.push({ ...where, traffic: r.deniedText, kind: "denied", rules: [] });
      if (exposes) managementExposure.push({ ...where, traffic: r.allowedText, rules: [...r.rules] });
    }
  });

  const sourcesOf = groupBy(sources, (s) => s.row);
  const destsOf = groupBy(dests, (d) => d.column);
  // Service addresses are few (services share hosts): classify them once per source.
  const serviceAddresses = [...new Set(services.map((s) => s.address))];
  const serviceAddressIndex = new Map(serviceAddresses.map((a, i) => [a, i]));
  const serviceOrder = serviceAddresses
    .map((_, i) => i)
    .sort((a, b) => serviceAddresses[a]! - serviceAddresses[b]!);
  const serviceClasses = spaces.map((space) => space.classify(serviceAddresses, serviceOrder));
  const cells: Matrix["cells"] = {};
  rows.forEach((row, ri) => {
    const rowCells: Record<string, Cell> = {};
    cells[row] = rowCells;
    const rowSources = sourcesOf.get(row) ?? [];
    addressColumns.forEach((column, ci) => {
      rowCells[column] = !routed[ri * width + ci]
        ? LOCAL
        : !allowing[ri * width + ci]
          ? DENY
          : addressCell(sources, dests, rowSources, destsOf.get(column) ?? [], pair);
    });
    const segmentOfRow = rowSources.length > 0 ? sources[rowSources[0]!]!.segment?.name : undefined;
    const rowInOneSegment =
      segmentOfRow !== undefined && rowSources.every((si) => sources[si]!.segment?.name === segmentOfRow);
    for (const svc of services) {
      const { protocol, port } = svc.service;
      if (rowInOneSegment && segmentOfRow === svc.service.hostRef.segment) {
        rowCells[svc.column] = LOCAL;
        continue;
      }
      const addressIndex = serviceAddressIndex.get(svc.address)!;
      let passing: { label: string; rule: string }[] | undefined;
      for (const si of rowSources) {
        const rule = spaces[si]!.passRuleOf(serviceClasses[si]![addressIndex]!, protocol, port);
        if (rule !== null) (passing ??= []).push({ label: sources[si]!.label, rule });
      }
      if (!passing) {
        rowCells[svc.column] = DENY;
        continue;
      }
      const status: CellStatus = passing.length === rowSources.length ? "allow" : "partial";
      rowCells[svc.column] = {
        status,
        summary: `${protocol} ${port}${status === "partial" ? ` from ${passing.map((x) => x.label).join(", ")}` : ""}`,
        rules: [...new Set(passing.map((x) => x.rule))],
      };
    }
  });

  const anyToAny = firewall.rules.filter(isAnyToAny).map((r) => ({ rule: r.id, description: r.description }));
  return {
    matrix: { rows, columns, ...matrixGroups(model, rows, columns), cells },
    differences,
    managementExposure,
    anyToAny,
    unsafeIntents: findUnsafeIntents(model),
    evaluations: counter.evaluations,
  };
}

/** Summarises one matrix cell over every (source address, destination address) pair in it. */
function addressCell(
  sources: SourceProbe[],
  dests: DestProbe[],
  srcs: number[],
  dsts: number[],
  pairOf: (si: number, di: number) => ClassResult | undefined,
): Cell {
  const entries: { si: number; di: number; r: ClassResult }[] = [];
  let anyAllowed = false;
  for (const si of srcs)
    for (const di of dsts) {
      const r = pairOf(si, di);
      if (!r) continue;
      entries.push({ si, di, r });
      if (r.allowedText !== "") anyAllowed = true;
    }
  if (entries.length === 0) return LOCAL;
  if (!anyAllowed) return DENY;
  const rules = [...new Set(entries.flatMap((e) => e.r.rules))];
  const first = entries[0]!.r.allowedText;
  // Uniform over every address pair of the cell: no need to say which addresses.
  const complete = entries.length === srcs.length * dsts.length;
  if (complete && entries.every((e) => e.r.allowedText === first)) {
    const everything = entries.every((e) => e.r.allowedAll);
    return { status: everything ? "allow" : "partial", summary: first, rules };
  }
  const groups = new Map<string, { srcs: Set<string>; dsts: Set<string> }>();
  for (const e of entries) {
    const t = e.r.allowedText;
    if (t === "") continue;
    let g = groups.get(t);
    if (!g) groups.set(t, (g = { srcs: new Set(), dsts: new Set() }));
    g.srcs.add(sources[e.si]!.label);
    g.dsts.add(dests[e.di]!.label);
  }
  const allSrcs = new Set(srcs.map((si) => sources[si]!.label));
  const allDsts = new Set(dsts.map((di) => dests[di]!.label));
  const side = (set: Set<string>, all: Set<string>) => (set.size === all.size ? "*" : [...set].join(","));
  const summary = [...groups.entries()]
    .map(([t, g]) => `${side(g.srcs, allSrcs)} → ${side(g.dsts, allDsts)}: ${t}`)
    .join(" | ");
  return { status: "partial", summary, rules };
}
