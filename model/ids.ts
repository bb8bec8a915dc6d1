import { z } from "zod";
import { secretRef } from "./common";
import { suggest, type IssueList, type References } from "./errors";
import { contains, parseIpv4, type Ipv4Range } from "./net";

/**
 * Intrusion detection on the gateway: OPNsense's Suricata (Services > Intrusion Detection), configured
 * through its API by the OPNsense provider. What to inspect is said in segments (and `wan`); the
 * provider turns them into the gateway's interface keys, and in IPS mode into the device that can carry
 * netmap (see docs/ids.md).
 */

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

/**
 * A ruleset file as the gateway's download list names it (scripts/suricata/metadata/rules/*.xml, e.g.
 * `emerging-malware.rules`, `abuse.ch.threatfox.rules`). Which ones exist is the gateway's to say: the
 * provider checks the list before any write. The name goes into a URL path, so only this safe subset.
 */
export const rulesetFile = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.rules$/,
    "must be a ruleset file name as Services > Intrusion Detection > Download lists it, e.g. emerging-malware.rules",
  );

export const idsConfig = z.strictObject({
  /** Run Suricata on the gateway. */
  enabled: z.boolean().default(true),
  /**
   * `ids` inspects and alerts (pcap capture on each segment's interface). `ips` can also drop: netmap
   * on the trunk that carries the segments' VLANs (and on the WAN device when `wan` is listed), which
   * needs a driver with native netmap support.
   */
  mode: z.enum(["ids", "ips"]).default("ids"),
  /**
   * With `ips`: what the provider does when a device it would put into netmap mode has no native
   * netmap support (emulated netmap is slow and can stall the interface): `fail` stops before any
   * write, `ids` runs detection only (pcap on the segments) and reports why.
   */
  ipsUnsupported: z.enum(["fail", "ids"]).default("fail"),
  /** Segment names, and `wan` for the uplink. */
  interfaces: z
    .array(z.string().min(1, "must not be empty"))
    .min(1, "name at least one segment (or wan) to inspect"),
  /** Ruleset files to download and enable; every other file of the download list is disabled. */
  rulesets: z.array(rulesetFile).default([]),
  /** When the rules are downloaded again (the IDS update cron job): daily at `time`, or on `weekdays`. */
  updates: z
    .strictObject({
      /** Time of day of the download (gateway time). */
      time: z
        .string()
        .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "must be a time of day like 03:30 (24 h, gateway time)"),
      /** Days of the week; daily when left out. */
      weekdays: z
        .array(z.enum(WEEKDAYS))
        .min(1, "name at least one day, or leave weekdays out for daily")
        .optional(),
    })
    .default({ time: "03:30" }),
  /**
   * Alerts to Prometheus: a job on the network node reads them from the gateway's API with this key
   * (a user with only Services: Intrusion Detection) and writes node-exporter metrics.
   */
  alerts: z
    .strictObject({
      /** API key of that user, as a secret reference. */
      apiKey: secretRef,
      /** API secret of that key, as a secret reference. */
      apiSecret: secretRef,
    })
    .optional(),
});

export type IdsConfig = z.output<typeof idsConfig>;

/** The IDS update job's schedule as Cron.xml fields take it. */
export interface CronSchedule {
  minutes: string;
  hours: string;
  weekdays: string;
}

/** A segment to inspect, with its interface key (`lan`, `optN`) on the gateway. */
export interface IdsSegment {
  name: string;
  key: string;
}

/**
 * What the OPNsense provider's intrusion detection resource takes: what to inspect and how, with the
 * segments bound to their interface keys (components/opnsense/ids.ts turns it into settings).
 */
export interface IdsBody {
  enabled: boolean;
  mode: "ids" | "ips";
  ipsUnsupported: "fail" | "ids";
  segments: IdsSegment[];
  /** The WAN interface key when the uplink is inspected too. */
  wan?: string;
  /** Device carrying the segments' VLANs (homelab:opnsense.trunkInterface): where IPS goes. */
  trunk: string;
  homenet: string[];
  rulesets: string[];
  schedule: CronSchedule;
}

export interface ResolvedIds {
  enabled: boolean;
  mode: "ids" | "ips";
  ipsUnsupported: "fail" | "ids";
  /** Segments to inspect, in config order, with their config paths. */
  segments: { name: string; path: string }[];
  /** Whether the WAN interface is inspected too. */
  wan: boolean;
  rulesets: string[];
  schedule: CronSchedule;
  /** Suricata's HOME_NET: every segment and the WireGuard tunnel. */
  homeNetworks: string[];
  alerts?: { apiKey: { secret: string }; apiSecret: { secret: string } };
}

export function cronSchedule(updates: IdsConfig["updates"]): CronSchedule {
  const [h, m] = updates.time.split(":").map(Number) as [number, number];
  const days = updates.weekdays
    ? [...new Set(updates.weekdays.map((d) => WEEKDAYS.indexOf(d)))].sort((a, b) => a - b).join(",")
    : "*";
  return { minutes: String(m), hours: String(h), weekdays: days };
}

/**
 * Days without a rule download after which the rules count as stale: the longest gap between two
 * scheduled update days plus two days of slack (a failed download is retried at the next run).
 */
export function staleRulesDays(weekdays: string): number {
  if (weekdays === "*") return 3;
  const days = [...new Set(weekdays.split(",").map((d) => Number(d) % 7))].sort((a, b) => a - b);
  let gap = 0;
  days.forEach((d, i) => {
    const next = i + 1 < days.length ? days[i + 1]! : days[0]! + 7;
    gap = Math.max(gap, next - d);
  });
  return gap + 2;
}

/** Resolves `homelab:ids` against the segments; problems go to `issues` with their config paths. */
export function resolveIds(
  ids: IdsConfig,
  segments: ReadonlyArray<{ name: string; cidr: string }>,
  tunnelCidr: string,
  issues: IssueList,
  /** Shared with the other references, so a renamed segment is one issue listing every use. */
  refs: References,
): ResolvedIds {
  const names = segments.map((s) => s.name);
  const chosen: ResolvedIds["segments"] = [];
  let wan = false;
  const seen = new Set<string>();
  ids.interfaces.forEach((n, i) => {
    const path = ["ids", "interfaces", i];
    if (seen.has(n)) issues.add(path, `"${n}" is listed twice`);
    seen.add(n);
    if (n === "wan") wan = true;
    else if (!names.includes(n))
      refs.missing(
        "segment",
        n,
        path,
        `unknown segment "${n}"${suggest(n, [...names, "wan"])}; name a segment or wan`,
      );
    else chosen.push({ name: n, path: `homelab:ids.interfaces[${i}]` });
  });
  const files = new Set<string>();
  ids.rulesets.forEach((r, i) => {
    if (files.has(r)) issues.add(["ids", "rulesets", i], `${r} is listed twice`);
    files.add(r);
  });
  if (ids.enabled && ids.rulesets.length === 0)
    issues.add(
      ["ids", "rulesets"],
      "Suricata without rulesets inspects nothing; list the ruleset files to enable (e.g. emerging-malware.rules)",
    );
  if (ids.mode === "ids" && ids.ipsUnsupported !== "fail")
    issues.add(["ids", "ipsUnsupported"], "only applies to mode ips; remove it or set mode: ips");
  return {
    enabled: ids.enabled,
    mode: ids.mode,
    ipsUnsupported: ids.ipsUnsupported,
    segments: chosen,
    wan,
    rulesets: [...files],
    schedule: cronSchedule(ids.updates),
    homeNetworks: [...segments.map((s) => s.cidr), tunnelCidr],
    ...(ids.alerts ? { alerts: ids.alerts } : {}),
  };
}

/** A flow as the check below needs it (model/resolve-network.ts ResolvedFlow, narrowed). */
interface FlowLike {
  index: number;
  protocol: string;
  ports: ReadonlyArray<number | string>;
  from: { kind: string; host?: { name: string; address: string }; segment?: { range: Ipv4Range } };
  to: { kind: string; host?: { address: string }; segment?: { range: Ipv4Range } };
}

const coversPort = (ports: ReadonlyArray<number | string>, port: number) =>
  ports.length === 0 ||
  ports.some((p) =>
    typeof p === "number" ? p === port : Number(p.split("-")[0]) <= port && port <= Number(p.split("-")[1]),
  );

/**
 * The alert job runs on the network node and calls the gateway's API: default-deny drops that unless a
 * flow allows it. Checked when the API URL names an address in a segment (a DNS name cannot be placed).
 */
export function checkAlertsFlow(
  apiUrl: string,
  node: { name: string; address: string } | undefined,
  segments: ReadonlyArray<{ range: Ipv4Range }>,
  flows: ReadonlyArray<FlowLike>,
  issues: IssueList,
): void {
  if (!node || !URL.canParse(apiUrl)) return;
  const u = new URL(apiUrl);
  const gateway = parseIpv4(u.hostname);
  // Flows govern traffic into the segments; an address outside all of them (loopback in a test) is not theirs.
  if (gateway === undefined || !segments.some((s) => contains(s.range, gateway))) return;
  const port = Number(u.port || (u.protocol === "http:" ? 80 : 443));
  const nodeIp = parseIpv4(node.address)!;
  const fromNode = (f: FlowLike) =>
    f.from.kind === "any" ||
    (f.from.kind === "host" && f.from.host?.name === node.name) ||
    (f.from.kind === "segment" && f.from.segment !== undefined && contains(f.from.segment.range, nodeIp));
  const toGateway = (f: FlowLike) =>
    f.to.kind === "any" ||
    (f.to.kind === "host" && f.to.host?.address === u.hostname) ||
    (f.to.kind === "segment" && f.to.segment !== undefined && contains(f.to.segment.range, gateway));
  const ok = flows.some(
    (f) =>
      fromNode(f) &&
      toGateway(f) &&
      ["tcp", "tcp/udp", "any"].includes(f.protocol) &&
      coversPort(f.ports, port),
  );
  if (!ok)
    issues.add(
      ["ids", "alerts"],
      `the alert job runs on the network node (${node.address}) and reads the gateway's API at ` +
        `${u.hostname}:${port}, but no flow allows that; add to homelab:flows ` +
        `{ from: host:${node.name}, to: host:<the gateway's host entry>, protocol: tcp, ports: [${port}], ` +
        `reason: "the IDS alert job reads Suricata alerts from the gateway's API" }`,
    );
}
