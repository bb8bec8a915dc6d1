/**
 * Dashboards as code (monitoring/grafana/dashboards/*.json): schema sanity, provisioning that points at
 * them, and every PromQL expression parsed by a real Prometheus (Debian's prometheus, on loopback) through
 * /api/v1/query, since promtool cannot parse a bare expression.
 */
import { parse } from "yaml";
import { monitoringFiles } from "../../analysis/monitoring/files";
import { dashboardQueries, PROMETHEUS_DATASOURCE_UID } from "../../analysis/monitoring/grafana";
import { DASHBOARDS } from "../../components/storage/dashboards";
import { resolveStorage } from "../../model";
import { GRAFANA_PROVISIONING_DIR } from "../../model/presets";
import { startAlertPipeline, type AlertPipeline } from "../support/alert-pipeline";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

jest.setTimeout(60_000);
const model = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}
const parsed = Object.entries(DASHBOARDS).map(([file, json]) => ({
  file,
  d: JSON.parse(json) as { uid: string; title: string; schemaVersion: number; panels: Panel[] },
}));

test("the four dashboards exist: nodes, backups, ingress, firewall", () => {
  expect(parsed.map((p) => p.file).sort()).toEqual([
    "backups.json",
    "firewall.json",
    "ingress.json",
    "nodes.json",
  ]);
});

test.each(parsed.map((p) => [p.file, p.d] as const))("%s is a sane dashboard", (_file, d) => {
  expect(d.uid).toMatch(/^homelab-[a-z]+$/);
  expect(d.title.length).toBeGreaterThan(0);
  expect(typeof d.schemaVersion).toBe("number");
  const ids = d.panels.map((p) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const p of d.panels) {
    expect([p.title, p.datasource?.uid]).toEqual([p.title, PROMETHEUS_DATASOURCE_UID]);
    expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    expect(p.targets?.length ?? 0).toBeGreaterThan(0);
    const refs = p.targets!.map((t) => t.refId);
    expect(new Set(refs).size).toBe(refs.length);
  }
  expect(new Set(parsed.map((x) => x.d.uid)).size).toBe(parsed.length);
});

test("provisioning: the datasource uid the panels name, and a provider reading the delivered dashboards", () => {
  const files = monitoringFiles(model, "monitoring", DASHBOARDS).files;
  const ds = parse(files["/etc/homelab/grafana/provisioning/datasources/homelab.yml"]!) as {
    datasources: { uid: string; url: string; type: string }[];
  };
  expect(ds.datasources).toEqual([
    expect.objectContaining({
      uid: PROMETHEUS_DATASOURCE_UID,
      type: "prometheus",
      url: "http://prometheus:9090",
    }),
  ]);
  const prov = parse(files["/etc/homelab/grafana/provisioning/dashboards/homelab.yml"]!) as {
    providers: { options: { path: string } }[];
  };
  const dir = prov.providers[0]!.options.path;
  expect(dir).toBe(`${GRAFANA_PROVISIONING_DIR}/dashboards/homelab`);
  for (const name of Object.keys(DASHBOARDS))
    expect(
      files[`${dir.replace(GRAFANA_PROVISIONING_DIR, "/etc/homelab/grafana/provisioning")}/${name}`],
    ).toBe(DASHBOARDS[name]);
});

describe("every query parses (real Prometheus)", () => {
  let p: AlertPipeline;
  beforeAll(async () => {
    p = await startAlertPipeline({ model, rules: {} });
  });
  afterAll(async () => p?.stop());

  const queries = parsed.flatMap(({ file, d }) =>
    dashboardQueries(JSON.stringify(d)).map((q) => [file, q.panel, q.expr] as const),
  );

  it("has queries to check", () => expect(queries.length).toBeGreaterThan(20));

  it.each(queries)("%s / %s", async (_file, _panel, expr) => {
    // Grafana substitutes the multi-value $node variable as a regex alternative; ".*" stands for "All".
    const r = await p.query(expr.replace(/\$node/g, ".*"));
    expect([expr, r.status, r.error]).toEqual([expr, "success", undefined]);
  });

  it("a broken expression is rejected (the check can fail)", async () => {
    const r = await p.query("sum by (node (up)");
    expect(r.status).toBe("error");
  });
});
