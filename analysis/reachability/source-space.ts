import { interfaceKey } from "../firewall/types";
import { protocolMatches, type RuleEvaluator, type RuleMatcher } from "./evaluate";
import type { Intent } from "./intents";
import { IpSet, type NumRange } from "./ip-set";
import type { Packet, PacketProtocol } from "./packet";
import type { SourceProbe } from "./probes";
import { floorIndex } from "./sorted-search";
import { trafficText, type TrafficSet } from "./traffic-set";

/** What the rules and the intents do with one destination class of one source: all the report needs. */
export interface ClassResult {
  /** trafficText of what the rules let through ("" = nothing). */
  allowedText: string;
  allowedAll: boolean;
  /** Ids of the pass rules, in the order the traffic first meets them (tcp ports up, udp, icmp). */
  rules: string[];
  /** Allowed but named by no intent. */
  unintendedText: string;
  unintendedRules: string[];
  /** Named by an intent but not allowed. */
  deniedText: string;
}

interface ClassEntry {
  /** A destination address of the class: every address of it gets the same verdicts. */
  representative: number;
  result?: ClassResult;
  /** Pass rule id (or null) per port atom, per protocol; icmp has one atom. */
  passRules?: Record<PacketProtocol, (string | null)[]>;
}

const PROTOCOLS: PacketProtocol[] = ["tcp", "udp", "icmp"];

/** Appends an ascending port range to a merged range list. */
const extend = (list: NumRange[], from: number, to: number): void => {
  const last = list[list.length - 1];
  if (last && from <= last.to + 1) last.to = Math.max(last.to, to);
  else list.push({ from, to });
};

const full = (rs: NumRange[]) => rs.length === 1 && rs[0]!.from === 1 && rs[0]!.to === 65535;

/**
 * Everything one source probe can send, partitioned into equivalence classes.
 *
 * Only the rules of the source's interface whose source condition holds for it, and only the intents
 * whose source side holds for it, can decide its packets. Their destination sets cut the address space
 * into intervals on which every one of them is constant; intervals that lie in the same sets form one
 * destination class. Their port ranges (per protocol) cut 1-65535 into atoms the same way. Within a
 * (class, protocol, atom) no rule condition and no intent changes its answer, so one packet decides
 * them all. Classes are evaluated lazily, when a destination outside the source's own segment (the
 * switched traffic the report skips) or a service lookup first needs them.
 */
export class SourceSpace {
  private readonly rules: RuleMatcher[];
  private readonly intents: Intent[];
  private readonly sets: IpSet[];
  /** Addresses where some set begins or ends, ascending: interval i is [cuts[i-1], cuts[i]). */
  private readonly cuts: number[];
  private readonly atoms: Record<"tcp" | "udp", number[]>;
  private readonly classes: ClassEntry[] = [];
  private readonly bySignature = new Map<string, number>();
  private readonly byInterval = new Map<number, number>();

  constructor(
    private readonly src: SourceProbe,
    private readonly evaluator: RuleEvaluator,
    intentsOn: (ifaceKey: string) => Intent[],
    private readonly counter: { evaluations: number },
  ) {
    // A rule that is not inbound, not quick or whose source excludes this probe never decides for it.
    this.rules = evaluator
      .matchersOn(src.iface)
      .filter(
        (m) => m.rule.direction === "in" && m.rule.quick && m.source.has(src.address) !== m.rule.sourceNot,
      );
    this.intents = intentsOn(interfaceKey(src.iface)).filter((i) => i.from(src.iface, src.address));
    this.sets = [...new Set([...this.rules.map((m) => m.destination), ...this.intents.map((i) => i.to)])];
    this.cuts = [...new Set(this.sets.flatMap((s) => s.boundaries()))].sort((a, b) => a - b);
    this.atoms = { tcp: this.portAtoms("tcp"), udp: this.portAtoms("udp") };
  }

  /**
   * The class index of each address: one merge pass over the addresses (visited in `order`, which sorts
   * them ascending) and the cuts.
   */
  classify(addresses: readonly number[], order: readonly number[]): Int32Array {
    const out = new Int32Array(addresses.length);
    let interval = 0;
    let last = -1;
    let cls = -1;
    for (const i of order) {
      const ip = addresses[i]!;
      while (interval < this.cuts.length && this.cuts[interval]! <= ip) interval++;
      if (interval !== last) {
        cls = this.classOfInterval(interval, ip);
        last = interval;
      }
      out[i] = cls;
    }
    return out;
  }

  /** The verdicts for `class`, evaluating its packets on first use. */
  result(classIndex: number): ClassResult {
    const entry = this.classes[classIndex]!;
    if (!entry.result) this.evaluate(entry);
    return entry.result!;
  }

  /**
   * The id of the rule that passes (protocol, port) to the destination class `classIndex` (from
   * `classify`), or null if that traffic is blocked.
   */
  passRuleOf(classIndex: number, protocol: PacketProtocol, port: number): string | null {
    const entry = this.classes[classIndex]!;
    if (!entry.result) this.evaluate(entry);
    if (entry.result!.allowedText === "") return null;
    const atom = protocol === "icmp" ? 0 : floorIndex(this.atoms[protocol], port);
    return entry.passRules![protocol][atom]!;
  }

  private classOfInterval(interval: number, ip: number): number {
    const known = this.byInterval.get(interval);
    if (known !== undefined) return known;
    // Membership in every set is constant on the interval: ip stands for all of it.
    let signature = "";
    this.sets.forEach((s, k) => {
      if (s.has(ip)) signature += `${k},`;
    });
    let index = this.bySignature.get(signature);
    if (index === undefined) {
      index = this.classes.length;
      this.classes.push({ representative: ip });
      this.bySignature.set(signature, index);
    }
    this.byInterval.set(interval, index);
    return index;
  }

  /** Starts of the port atoms of one protocol: 1, and where a named range of a rule or intent begins or ends. */
  private portAtoms(protocol: "tcp" | "udp"): number[] {
    const starts = new Set<number>([1]);
    const add = (ranges: readonly NumRange[]) => {
      for (const r of ranges) {
        starts.add(r.from);
        if (r.to < 65535) starts.add(r.to + 1);
      }
    };
    for (const m of this.rules) if (m.ports && protocolMatches(m.rule.protocol, protocol)) add(m.ports);
    for (const i of this.intents)
      for (const t of i.traffic) if (protocolMatches(t.protocol, protocol)) add(t.ports);
    return [...starts].sort((a, b) => a - b);
  }

  private evaluate(entry: ClassEntry): void {
    // The destination is fixed now: only rules and intents whose destination side holds for it remain.
    const dst = entry.representative;
    const rules = this.rules.filter((m) => m.destination.has(dst) !== m.rule.destinationNot);
    const intents = this.intents.filter((i) => i.to.has(dst));
    const allowed: TrafficSet = { tcp: [], udp: [], icmp: false };
    const unintended: TrafficSet = { tcp: [], udp: [], icmp: false };
    const denied: TrafficSet = { tcp: [], udp: [], icmp: false };
    const passing = new Set<string>();
    const unintendedRules = new Set<string>();
    const passRules = { tcp: [], udp: [], icmp: [] } as Record<PacketProtocol, (string | null)[]>;
    for (const protocol of PROTOCOLS) {
      const starts = protocol === "icmp" ? [null] : this.atoms[protocol];
      starts.forEach((from, i) => {
        const to = from === null ? null : (this.atoms[protocol as "tcp" | "udp"][i + 1] ?? 65536) - 1;
        const packet: Packet = {
          iface: this.src.iface,
          src: this.src.address,
          dst,
          protocol,
          port: from,
        };
        this.counter.evaluations++;
        const verdict = this.evaluator.evaluateOn(rules, packet);
        const intended = intents.some((x) => x.matches(packet));
        const add = (t: TrafficSet) => {
          if (protocol === "icmp") t.icmp = true;
          else extend(t[protocol], from!, to!);
        };
        if (verdict.action === "pass") {
          passRules[protocol].push(verdict.rule!.id);
          add(allowed);
          passing.add(verdict.rule!.id);
          if (!intended) {
            add(unintended);
            unintendedRules.add(verdict.rule!.id);
          }
        } else {
          passRules[protocol].push(null);
          if (intended) add(denied);
        }
      });
    }
    entry.passRules = passRules;
    entry.result = {
      allowedText: trafficText(allowed),
      allowedAll: allowed.icmp && full(allowed.tcp) && full(allowed.udp),
      rules: [...passing],
      unintendedText: trafficText(unintended),
      unintendedRules: [...unintendedRules],
      deniedText: trafficText(denied),
    };
  }
}
