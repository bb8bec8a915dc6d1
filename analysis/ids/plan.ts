import type { NetworkModel } from "../../model/resolve-network";
import { idsAlertRules } from "./alerts";
import { staleRulesDays } from "../../model/ids";
import { configKeys, IDS_UNIT, POLL_SCHEDULE } from "./spec";
import { markdownCell } from "../text/markdown";

/**
 * What Suricata on the gateway inspects and how, for the plan report (tools/plan/sections). The capture
 * mode of `ips` is only decided at apply (the provider reads the trunk's netmap support), so both
 * outcomes are described.
 */
export interface IdsPlan {
  enabled: boolean;
  mode: "ids" | "ips";
  /** IDS (pcap): the interfaces captured, `segment (key)`; a description-bound key is looked up. */
  detection: string[];
  /** IPS (netmap): the devices put into netmap mode and the segments that then pass through Suricata. */
  prevention: { devices: string[]; segments: string[]; otherwise: "stop" | "detection only" } | null;
  rulesets: string[];
  updates: string;
  homeNetworks: string[];
  alerts: { job: string; node: string; rules: string[] } | null;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

export function idsPlan(model: NetworkModel): IdsPlan | null {
  const ids = model.ids;
  if (!ids) return null;
  const keys = configKeys(model);
  const o = model.config.opnsense;
  const time = `${ids.schedule.hours.padStart(2, "0")}:${ids.schedule.minutes.padStart(2, "0")}`;
  const days =
    ids.schedule.weekdays === "*"
      ? "daily"
      : ids.schedule.weekdays
          .split(",")
          .map((d) => DAYS[Number(d) % 7])
          .join(", ");
  return {
    enabled: ids.enabled,
    mode: ids.mode,
    detection: [
      ...ids.segments.map((s) => `${s.name} (${keys[s.name] ?? "looked up on the gateway"})`),
      ...(ids.wan ? [`wan (${o.wanInterface})`] : []),
    ],
    prevention:
      ids.mode === "ips"
        ? {
            devices: [o.trunkInterface, ...(ids.wan ? [`the WAN device (${o.wanInterface})`] : [])],
            // netmap takes the whole trunk: every VLAN on it passes through Suricata.
            segments: model.segments.map((s) => s.name),
            otherwise: ids.ipsUnsupported === "fail" ? "stop" : "detection only",
          }
        : null,
    rulesets: ids.rulesets,
    updates: `${days} at ${time} (gateway time), cron job "ids rule updates"`,
    homeNetworks: ids.homeNetworks,
    alerts:
      ids.alerts && ids.enabled
        ? {
            job: `${IDS_UNIT}.timer (OnCalendar ${POLL_SCHEDULE})`,
            node: model.config.networkNode.host,
            rules: idsAlertRules({ staleRulesDays: staleRulesDays(ids.schedule.weekdays) }).map(
              (r) => r.alert,
            ),
          }
        : null,
  };
}

function lines(p: IdsPlan): [string, string][] {
  const rows: [string, string][] = [["enabled", p.enabled ? "yes" : "no (Suricata switched off)"]];
  if (p.prevention) {
    rows.push([
      "mode",
      `ips: netmap on ${p.prevention.devices.join(" and ")} when its driver supports netmap natively ` +
        `(checked at apply); otherwise ${p.prevention.otherwise === "stop" ? "the run stops" : "detection only"}`,
    ]);
    rows.push(["ips covers", `every segment on the trunk: ${p.prevention.segments.join(", ")}`]);
    rows.push(["detection on", p.detection.join(", ")]);
  } else rows.push(["mode", "ids (pcap capture, alerts only)"], ["inspects", p.detection.join(", ")]);
  rows.push(
    ["rulesets", `${p.rulesets.length}: ${p.rulesets.join(", ")}`],
    ["updates", p.updates],
    ["home networks", p.homeNetworks.join(", ")],
    [
      "alerts",
      p.alerts
        ? `${p.alerts.job} on ${p.alerts.node} → homelab_ids_* metrics → ${p.alerts.rules.join(", ")}`
        : "not exported (homelab:ids.alerts not set)",
    ],
  );
  return rows;
}

export function renderIdsText(p: IdsPlan | null): string {
  if (!p) return "  not configured (homelab:ids)";
  return lines(p)
    .map(([k, v]) => `  ${k.padEnd(14)} ${v}`)
    .join("\n");
}

export function renderIdsMarkdown(p: IdsPlan | null): string {
  if (!p) return "_Not configured (`homelab:ids`)._";
  return ["| | |", "| --- | --- |", ...lines(p).map(([k, v]) => `| ${k} | ${markdownCell(v)} |`)].join("\n");
}
