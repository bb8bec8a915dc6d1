import type { IpSet } from "../reachability/ip-set";
import { lowerBound } from "../reachability/sorted-search";

/** Addresses grouped by the sets they lie in. */
export interface SourceClasses {
  /** Class index of each address (in the order given). */
  classOf: number[];
  /** Indices of the addresses of each class, ascending; classes numbered by their first address. */
  members: number[][];
}

/**
 * Partitions addresses into equivalence classes: two addresses are in one class when every set holds
 * both or neither. Any condition that only asks "is the source in this set" then answers alike for the
 * whole class, so one member decides for all. Each range of each set is found in the sorted addresses
 * by binary search, so the cost is the number of ranges times log(addresses) plus the memberships, not
 * addresses times sets.
 */
export function partitionBySets(addresses: readonly number[], sets: readonly IpSet[]): SourceClasses {
  const order = addresses.map((_, i) => i).sort((a, b) => addresses[a]! - addresses[b]!);
  const sorted = order.map((i) => addresses[i]!);
  const inSets: number[][] = addresses.map(() => []);
  sets.forEach((set, j) => {
    set.starts.forEach((start, r) => {
      const end = set.ends[r]!;
      for (let k = lowerBound(sorted, start); k < sorted.length && sorted[k]! <= end; k++)
        inSets[order[k]!]!.push(j);
    });
  });
  const byKey = new Map<string, number>();
  const members: number[][] = [];
  const classOf = inSets.map((list, i) => {
    const key = list.join(",");
    let c = byKey.get(key);
    if (c === undefined) {
      c = members.length;
      byKey.set(key, c);
      members.push([]);
    }
    members[c]!.push(i);
    return c;
  });
  return { classOf, members };
}
