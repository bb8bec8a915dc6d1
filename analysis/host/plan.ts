import { markdownCell as esc } from "../text/markdown";
import { updateAlertRules } from "./alerts";
import { analyzeBaseline, hostFindings, type NodeBaseline } from "./baseline";
import { HOST_TABLE } from "./firewall";
import { HOST_RULESET_PATH } from "./nft";
import type { HostReachability } from "./reachability";
import { SECURITY_ORIGINS } from "./updates";

export interface HostBaselinePlan {
  node: string;
  addresses: string[];
  firewall: {
    table: string;
    file: string;
    rules: { id: string; description: string; sources: string; destinations: string[]; traffic: string }[];
    confirmSeconds: number;
    ports: HostReachability["ports"];
    containerPorts: string[];
    paths: { what: string; connection: string; admitted: boolean; rule: string | null }[];
    findings: { level: string; message: string }[];
  };
  updates: { time: string; reboot: string; origins: string[]; alerts: string[] };
}

export function hostBaselinePlan(b: NodeBaseline): HostBaselinePlan {
  const r = analyzeBaseline(b.facts, b.gateway);
  const fw = b.facts.firewall;
  return {
    node: fw.host,
    addresses: fw.addresses,
    firewall: {
      table: `inet ${HOST_TABLE}`,
      file: HOST_RULESET_PATH,
      rules: fw.rules.map((x) => ({
        id: x.id,
        description: x.description,
        sources: x.sources.kind === "internet" ? "internet" : x.sources.cidrs.join(", "),
        destinations: x.destinations,
        traffic:
          x.protocol === "icmp" || x.protocol === "any" || x.ports.length === 0
            ? x.protocol
            : `${x.protocol} ${x.ports.map((p) => (p.from === p.to ? p.from : `${p.from}-${p.to}`)).join(",")}`,
      })),
      confirmSeconds: b.confirmSeconds,
      ports: r.ports,
      containerPorts: r.containerPorts,
      paths: r.paths.map((p) => ({
        what: p.what,
        connection: `${p.fromHost} → ${p.toHost} ${p.to}:${p.port}/${p.protocol}`,
        admitted: p.admitted,
        rule: p.rule,
      })),
      findings: hostFindings(r),
    },
    updates: {
      time: b.facts.updates.time,
      reboot: b.facts.updates.reboot,
      origins: [...SECURITY_ORIGINS],
      alerts: updateAlertRules({ nodes: [fw.host] }).map((a) => a.alert),
    },
  };
}

const who = (list: string[]): string => (list.length === 0 ? "nobody" : list.join(", "));

export function renderHostBaselineText(p: HostBaselinePlan): string {
  const f = p.firewall;
  const reboot =
    p.updates.reboot === "never"
      ? "never reboots by itself"
      : `reboots at ${p.updates.reboot} when an update needs it`;
  return [
    `  ${p.node} (${p.addresses.join(", ")}): nft table ${f.table} in ${f.file}, ${f.rules.length} rules, rolled back unless a new SSH session confirms it within ${f.confirmSeconds} s`,
    ...f.ports.map(
      (x) =>
        `    ${`${x.address} ${x.protocol} ${x.port}`.padEnd(20)} ${x.what.padEnd(16)} host admits: ${who(x.host)}; through gateway and host: ${who(x.effective)}`,
    ),
    `    from its own containers: ${f.containerPorts.join(", ") || "nothing"}`,
    ...f.paths.map(
      (x) => `    ${x.admitted ? "ok  " : "DROP"} ${x.what}: ${x.connection}${x.rule ? ` (${x.rule})` : ""}`,
    ),
    ...f.findings.map((x) => `    ${x.level}: ${x.message}`),
    `  updates: daily at ${p.updates.time} from the security archive only, ${reboot}; alerts ${p.updates.alerts.join(", ")}`,
  ].join("\n");
}

export function renderHostBaselineMarkdown(p: HostBaselinePlan): string {
  const f = p.firewall;
  const reboot =
    p.updates.reboot === "never"
      ? "never reboots by itself"
      : `reboots at ${p.updates.reboot} when an update needs it`;
  return [
    `**${p.node}** (${p.addresses.join(", ")}): nft table \`${f.table}\` (\`${f.file}\`), ${f.rules.length} rules; a new rule set is rolled back unless a new SSH session confirms it within ${f.confirmSeconds} s.`,
    "",
    "| port | what | host firewall admits | through gateway and host |",
    "|---|---|---|---|",
    ...f.ports.map(
      (x) =>
        `| ${x.address} ${x.protocol} ${x.port} | ${esc(x.what)} | ${esc(who(x.host))} | ${esc(who(x.effective))} |`,
    ),
    "",
    `From its own containers: ${f.containerPorts.join(", ") || "nothing"}.`,
    ...(f.paths.length > 0
      ? [
          "",
          "Connections this program opens across host firewalls:",
          "",
          ...f.paths.map(
            (x) =>
              `- ${x.admitted ? "✅" : "❌"} ${esc(x.what)}: ${x.connection}${x.rule ? ` (${x.rule})` : ""}`,
          ),
        ]
      : []),
    ...(f.findings.length > 0 ? ["", ...f.findings.map((x) => `- **${x.level}**: ${esc(x.message)}`)] : []),
    "",
    `Updates: daily at ${p.updates.time}, security archive only (\`${p.updates.origins.join("`, `")}\`), ${reboot}. Alerts: ${p.updates.alerts.join(", ")}.`,
  ].join("\n");
}
