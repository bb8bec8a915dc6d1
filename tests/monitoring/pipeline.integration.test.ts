/**
 * The alert pipeline with the real Debian binaries on loopback (tests/support/alert-pipeline.ts): a Borg
 * job's metrics, written to node-exporter's textfile directory in the shape the node scripts write,
 * appear in Prometheus; a stale backup fires the program's own BorgBackupStale rule; Alertmanager,
 * configured by the program's renderer, delivers it to a local webhook with the bearer token it read
 * from a file.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { renderSuccessMetric, renderRunMetrics, metricFileBase } from "../../analysis/backup/borg-metrics";
import { ruleFiles } from "../../analysis/monitoring/files";
import { resolveStorage } from "../../model";
import { startAlertPipeline, type AlertPipeline } from "../support/alert-pipeline";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

jest.setTimeout(120_000);

const model = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());

/**
 * The program's rule files with every `for:` cut to 0s: the only change, and only here, so a stale
 * backup notifies within seconds instead of after the production 10 minutes. The `for:` durations
 * themselves are covered by the promtool unit tests.
 */
function quickRules(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(ruleFiles(model)).map(([name, text]) => {
      const doc = parse(text) as { groups: { rules: { for?: string }[] }[] };
      for (const g of doc.groups) for (const r of g.rules) if (r.for !== undefined) r.for = "0s";
      return [name, stringify(doc)];
    }),
  );
}

let p: AlertPipeline;
beforeAll(async () => {
  p = await startAlertPipeline({ model, rules: quickRules() });
});
afterAll(async () => p?.stop());

const now = () => Math.floor(Date.now() / 1000);
const DATASET = "tank/apps/immich-library";

test("a backup job's textfile metrics reach Prometheus through the real node-exporter", async () => {
  const at = now() - 600;
  const outcome = { dataset: DATASET, class: "critical", task: "backup" as const, ok: true, at };
  writeFileSync(
    join(p.textfileDir, `${metricFileBase("backup", DATASET)}.prom`),
    renderRunMetrics(outcome) + renderSuccessMetric(outcome),
  );
  const series = await waitForSeries(
    `homelab_backup_last_success_timestamp_seconds{dataset="${DATASET}",task="backup"}`,
  );
  expect(series).toEqual(
    expect.objectContaining({
      metric: expect.objectContaining({ class: "critical", node: "storage-node", job: "node" }),
      value: [expect.any(Number), String(at)],
    }),
  );
  // Fresh: several evaluations (1 s each) and group flushes later, still no stale-backup notification.
  await new Promise((r) => setTimeout(r, 4000));
  const stale = p.notifications
    .flatMap((n) => n.body.alerts)
    .filter((a) => a.labels["alertname"] === "BorgBackupStale");
  expect(stale).toEqual([]);
});

test("a stale backup is delivered to the webhook receiver, with the token Alertmanager read from its file", async () => {
  const stale = now() - 3 * 86_400;
  const outcome = { dataset: DATASET, class: "critical", task: "backup" as const, ok: true, at: stale };
  writeFileSync(
    join(p.textfileDir, `${metricFileBase("backup", DATASET)}.prom`),
    renderRunMetrics(outcome) + renderSuccessMetric(outcome),
  );
  const n = await p.waitForAlert("BorgBackupStale", 90_000);
  expect(n.authorization).toBe(`Bearer ${p.webhookToken}`);
  expect(n.body.receiver).toBe("local");
  const alert = n.body.alerts.find((a) => a.labels["alertname"] === "BorgBackupStale")!;
  expect(alert).toMatchObject({
    status: "firing",
    labels: { severity: "critical", dataset: DATASET, task: "backup", node: "storage-node" },
  });
  expect(alert.annotations["summary"]).toMatch(
    /^tank\/apps\/immich-library: last successful backup was 3d 0h 0m \d+s ago$/,
  );
});

async function waitForSeries(expr: string): Promise<unknown> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await p.query(expr);
    const hit = r.data?.result?.[0];
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no series for ${expr}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}
