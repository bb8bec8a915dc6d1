import type { ReachabilityModel } from "../../model/network-facts";
import type { FilterRule } from "../firewall/types";
import type { UnsafeIntent } from "./unsafe";

export type CellStatus = "local" | "deny" | "allow" | "partial";

export interface Cell {
  status: CellStatus;
  /** What is allowed ("all", "tcp 443", "network-node → gateway: tcp 22"), empty for deny/local. */
  summary: string;
  /** Ids of the compiled rules that let this traffic through. */
  rules: string[];
}

export interface Matrix {
  rows: string[];
  columns: string[];
  /**
   * Per row, what a summary of a large matrix groups it under: its segment's trust level, or
   * "wireguard" / "wan" (see matrixGroups).
   */
  rowGroups: string[];
  /** Per column: "segment:<trust>", "service:<trust of its host's segment>" or "internet". */
  columnGroups: string[];
  cells: Record<string, Record<string, Cell>>;
}

/** A packet class where the compiled rules and the intents disagree. */
export interface Difference {
  source: string;
  destination: string;
  traffic: string;
  /** "allowed" = the rules allow what no intent names; "denied" = an intent the rules do not honour. */
  kind: "allowed" | "denied";
  rules: string[];
}

export interface Exposure {
  source: string;
  destination: string;
  traffic: string;
  rules: string[];
}

export interface ReachabilityReport {
  matrix: Matrix;
  differences: Difference[];
  /** Non-management, non-tunnel sources that the compiled rules let into a management segment. */
  managementExposure: Exposure[];
  /** Compiled pass rules that match any source, destination, protocol and port. */
  anyToAny: { rule: string; description: string }[];
  unsafeIntents: UnsafeIntent[];
  /**
   * Packets evaluated against the rules and the intents: one per equivalence class (source probe ×
   * destination class × protocol × port atom, see analyze.ts). Depends only on the config, not on the
   * machine, so tests may pin it.
   */
  evaluations: number;
}

/** The trust-level groups of a matrix's rows and columns, for summaries of large homelabs. */
export function matrixGroups(
  model: ReachabilityModel,
  rows: string[],
  columns: string[],
): Pick<Matrix, "rowGroups" | "columnGroups"> {
  const trustOf = (segment: string) => model.segmentsByName.get(segment)?.trust ?? segment;
  return {
    rowGroups: rows.map(trustOf),
    columnGroups: columns.map((c) => {
      if (c.startsWith("segment:")) return `segment:${trustOf(c.slice("segment:".length))}`;
      const service = c.startsWith("service:") ? model.services.get(c.slice("service:".length)) : undefined;
      return service ? `service:${service.hostRef.segmentRef.trust}` : c;
    }),
  };
}

export const isAnyToAny = (r: FilterRule): boolean =>
  r.action === "pass" &&
  r.protocol === "any" &&
  r.source.kind === "any" &&
  !r.sourceNot &&
  r.destination.kind === "any" &&
  !r.destinationNot &&
  r.destinationPort.kind === "any";
