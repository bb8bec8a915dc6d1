/**
 * The real alert pipeline on loopback, for tests and the deploy rehearsal: Debian's
 * prometheus-node-exporter (textfile collector on a directory the caller writes to), prometheus and
 * prometheus-alertmanager, all configured by the program's own renderers, and a local webhook receiver
 * (a tiny node http server) that records every notification with its Authorization header.
 *
 * Short intervals (1 s scrape/evaluation, 1 s Alertmanager grouping) are this helper's only departure
 * from production, so a notification arrives within seconds. Everything listens on 127.0.0.1; every
 * process is started here and stopped by its pid in stop().
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderAlertmanagerConfig } from "../../analysis/monitoring/alertmanager";
import { renderPrometheusConfig, type ScrapePlan } from "../../analysis/monitoring/prometheus";
import type { StorageModel } from "../../model";
import { alerting as alertingSchema } from "../../model/monitoring";
import { waitFor } from "./proc";
import { freePort } from "./net";

export const PIPELINE_TOOLS = {
  prometheus: "prometheus",
  alertmanager: "prometheus-alertmanager",
  nodeExporter: "prometheus-node-exporter",
} as const;

/** Throws naming the Debian package when a binary is missing (the suite must fail, not skip). */
export function requirePipelineTools(): void {
  for (const [bin, pkg] of [
    ["prometheus", "prometheus"],
    ["prometheus-alertmanager", "prometheus-alertmanager"],
    ["prometheus-node-exporter", "prometheus-node-exporter"],
  ] as const) {
    const r = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${bin} not found: apt-get install -y ${pkg}`);
  }
}

export interface Notification {
  authorization: string | undefined;
  body: {
    status: string;
    receiver: string;
    alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  };
}

export interface AlertPipeline {
  dir: string;
  /** Write *.prom files here: node-exporter's --collector.textfile.directory. */
  textfileDir: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  nodeExporterUrl: string;
  webhookUrl: string;
  /** Bearer token the receiver expects (delivered to Alertmanager as a credentials file). */
  webhookToken: string;
  notifications: Notification[];
  /** GET /api/v1/query; resolves with the JSON answer (status "error" for a bad expression). */
  query(expr: string): Promise<{ status: string; data?: { result: unknown[] }; error?: string }>;
  /** Waits for a notification whose alerts include `alertname`. */
  waitForAlert(alertname: string, timeoutMs?: number): Promise<Notification>;
  stop(): Promise<void>;
}

async function ready(url: string, what: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `${what} at ${url}`,
    async () => {
      try {
        const r = await fetch(url);
        return r.ok ? true : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
  );
}

export interface PipelineOptions {
  /** The model whose renderers configure Prometheus (domain, external labels). */
  model: StorageModel;
  /** Rule files by name (content as the program renders them, possibly adjusted by the test). */
  rules: Record<string, string>;
  /** node label of the node-exporter target (the host the textfile metrics describe). */
  node?: string;
}

export async function startAlertPipeline(o: PipelineOptions): Promise<AlertPipeline> {
  requirePipelineTools();
  const dir = mkdtempSync(join(tmpdir(), "alert-pipeline-"));
  const textfileDir = join(dir, "textfile");
  const rulesDir = join(dir, "rules");
  const amSecrets = join(dir, "alertmanager-secrets");
  for (const d of [textfileDir, rulesDir, amSecrets, join(dir, "tsdb"), join(dir, "am-data")])
    mkdirSync(d, { recursive: true });
  const [pPort, aPort, nPort] = [await freePort(), await freePort(), await freePort()];
  const procs: ChildProcess[] = [];
  const notifications: Notification[] = [];
  const webhookToken = `token-${process.pid}-${Date.now()}`;

  const server: Server = createHttpServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString("utf8")));
    req.on("end", () => {
      try {
        notifications.push({
          authorization: req.headers.authorization,
          body: JSON.parse(data) as Notification["body"],
        });
      } catch {
        /* not a notification */
      }
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  const webhookUrl = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/hook`;

  const start = (cmd: string, args: string[], name: string) => {
    const p = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr?.on("data", (c: Buffer) => (err = (err + c.toString("utf8")).slice(-4000)));
    p.on("exit", (code) => {
      if (code !== null && code !== 0 && code !== 143)
        process.stderr.write(`${name} exited ${code}: ${err}\n`);
    });
    procs.push(p);
  };

  // Alertmanager: the program's renderer, one webhook receiver whose token is a file.
  const alerting = alertingSchema.parse({
    receiver: "local",
    groupWait: "1s",
    groupInterval: "1s",
    repeatInterval: "1h",
    receivers: [
      { name: "local", webhook: { url: webhookUrl, bearerToken: { secret: "pipelineWebhookToken" } } },
    ],
  });
  const am = renderAlertmanagerConfig(alerting, { secretsDir: amSecrets });
  for (const f of am.secretFiles) writeFileSync(f.containerPath, webhookToken, { mode: 0o400 });
  writeFileSync(join(dir, "alertmanager.yml"), am.yaml);
  start(
    PIPELINE_TOOLS.alertmanager,
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "am-data")}`,
      `--web.listen-address=127.0.0.1:${aPort}`,
      "--cluster.listen-address=",
    ],
    "alertmanager",
  );

  start(
    PIPELINE_TOOLS.nodeExporter,
    [`--web.listen-address=127.0.0.1:${nPort}`, `--collector.textfile.directory=${textfileDir}`],
    "node-exporter",
  );

  // Prometheus: the program's renderer with a plan of loopback targets.
  for (const [name, content] of Object.entries(o.rules)) writeFileSync(join(rulesDir, name), content);
  const plan: ScrapePlan = {
    targets: [
      {
        job: "node",
        address: `127.0.0.1:${nPort}`,
        metricsPath: "/metrics",
        labels: { node: o.node ?? o.model.config.storageNode.host, service: "node-exporter" },
      },
    ],
    gaps: [],
    alertmanagers: [`127.0.0.1:${aPort}`],
  };
  writeFileSync(
    join(dir, "prometheus.yml"),
    renderPrometheusConfig(o.model, plan, { interval: "1s", ruleFiles: [join(rulesDir, "*.yml")] }),
  );
  start(
    PIPELINE_TOOLS.prometheus,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${pPort}`,
    ],
    "prometheus",
  );

  const prometheusUrl = `http://127.0.0.1:${pPort}`;
  const alertmanagerUrl = `http://127.0.0.1:${aPort}`;
  const nodeExporterUrl = `http://127.0.0.1:${nPort}`;
  const stop = async () => {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
    await Promise.all(
      procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once("exit", r)) : Promise.resolve())),
    );
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ready(`${alertmanagerUrl}/-/ready`, "alertmanager");
    await ready(`${nodeExporterUrl}/metrics`, "node-exporter");
    await ready(`${prometheusUrl}/-/ready`, "prometheus");
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir,
    textfileDir,
    prometheusUrl,
    alertmanagerUrl,
    nodeExporterUrl,
    webhookUrl,
    webhookToken,
    notifications,
    query: async (expr) => {
      const r = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await r.json()) as { status: string; data?: { result: unknown[] }; error?: string };
    },
    waitForAlert: (alertname, timeoutMs = 60_000) =>
      waitFor(
        `a notification for ${alertname} at ${webhookUrl}`,
        () => notifications.find((n) => n.body.alerts.some((a) => a.labels["alertname"] === alertname)),
        timeoutMs,
      ),
    stop,
  };
}
