import type { StorageModel } from "../../../model";
import type { PlanAnalysis } from "../analyses";
import { ruleFiles } from "../../../analysis/monitoring/files";
import { scrapePlan } from "../../../analysis/monitoring/prometheus";

/** Plan report section: what Prometheus scrapes, what it cannot, where alerts go and which rules load. */
export const monitoringAnalysis: PlanAnalysis = {
  id: "monitoring",
  title: "Monitoring and alerting",
  stacks: ["storage"],
  run(ctx) {
    const model = ctx.model as StorageModel;
    const plan = scrapePlan(model);
    const alerting = model.config.monitoring?.alerting;
    const rules = Object.keys(ruleFiles(model));
    const targets = plan.targets.map((t) => ({
      job: t.job,
      target: t.exporter ? `${t.address} via ${t.exporter.address}` : t.address,
      path: t.metricsPath,
      node: t.labels.node,
      auth: t.bearerFile !== undefined ? "bearer token file" : "none",
    }));
    const receivers = (alerting?.receivers ?? []).map((r) => ({
      name: r.name,
      kind: r.webhook ? `webhook ${r.webhook.url}` : `e-mail to ${r.email!.to}`,
    }));
    const routes = [
      ...(alerting?.routes ?? []).map(
        (r) => `${r.matchers.join(", ")} → ${r.receiver}${r.continue ? " (continue)" : ""}`,
      ),
      ...(alerting ? [`everything else → ${alerting.receiver}`] : []),
    ];
    const md = [
      `${targets.length} scrape targets · alerts to ${plan.alertmanagers.join(", ") || "**no Alertmanager**"} · rule files: ${rules.map((r) => `\`${r}\``).join(", ")}`,
      "",
      "| job | target | path | node | auth |",
      "|---|---|---|---|---|",
      ...targets.map((t) => `| ${t.job} | \`${t.target}\` | \`${t.path}\` | ${t.node} | ${t.auth} |`),
      "",
      ...(plan.gaps.length > 0
        ? ["Not scraped:", "", ...plan.gaps.map((g) => `- ❌ ${g.node}/${g.service}: ${g.reason}`), ""]
        : []),
      "Alert routing:",
      "",
      ...routes.map((r) => `- ${r}`),
      ...receivers.map((r) => `- receiver \`${r.name}\`: ${r.kind}`),
    ].join("\n");
    const text = [
      `${targets.length} scrape targets, alerts to ${plan.alertmanagers.join(", ") || "no Alertmanager"}`,
      ...targets.map((t) => `  ${t.job.padEnd(18)} ${t.target}${t.path}  (${t.node}, auth: ${t.auth})`),
      ...plan.gaps.map((g) => `  not scraped: ${g.node}/${g.service}: ${g.reason}`),
      ...routes.map((r) => `  route: ${r}`),
    ].join("\n");
    return {
      json: { targets, gaps: plan.gaps, alertmanagers: plan.alertmanagers, rules, receivers, routes },
      text,
      markdown: md,
    };
  },
};
