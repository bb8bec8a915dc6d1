/** Inclusive bounds, for IPv4 addresses (as integers) and for ports alike. */
export interface NumRange {
  from: number;
  to: number;
}

export const MAX_IPV4 = 2 ** 32 - 1;

/**
 * A set of IPv4 addresses as sorted, disjoint, non-adjacent ranges. Membership is a binary search, so
 * a set naming a thousand segments costs the same to test as one naming a single host.
 */
export class IpSet {
  private constructor(
    /** Range starts, ascending. */
    readonly starts: readonly number[],
    /** Range ends (inclusive), aligned with starts. */
    readonly ends: readonly number[],
  ) {}

  static readonly EMPTY = new IpSet([], []);
  static readonly ALL = new IpSet([0], [MAX_IPV4]);

  static of(ranges: readonly NumRange[]): IpSet {
    if (ranges.length === 0) return IpSet.EMPTY;
    const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
    const starts: number[] = [];
    const ends: number[] = [];
    for (const r of sorted) {
      const last = ends.length - 1;
      if (last >= 0 && r.from <= ends[last]! + 1) ends[last] = Math.max(ends[last]!, r.to);
      else {
        starts.push(r.from);
        ends.push(r.to);
      }
    }
    return new IpSet(starts, ends);
  }

  static address(ip: number): IpSet {
    return new IpSet([ip], [ip]);
  }

  has(ip: number): boolean {
    // The last range starting at or before ip is the only one that can hold it.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= ip) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && ip <= this.ends[hi]!;
  }

  complement(): IpSet {
    const starts: number[] = [];
    const ends: number[] = [];
    let next = 0;
    this.starts.forEach((s, i) => {
      if (s > next) {
        starts.push(next);
        ends.push(s - 1);
      }
      next = this.ends[i]! + 1;
    });
    if (next <= MAX_IPV4) {
      starts.push(next);
      ends.push(MAX_IPV4);
    }
    return new IpSet(starts, ends);
  }

  /** Every address where membership can change: each range's first address and the one after its last. */
  boundaries(): number[] {
    const out: number[] = [];
    this.starts.forEach((s, i) => {
      out.push(s);
      if (this.ends[i]! < MAX_IPV4) out.push(this.ends[i]! + 1);
    });
    return out;
  }
}
