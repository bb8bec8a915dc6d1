import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prometheusFiles, renderPrometheusConfig } from "../../analysis/monitoring/prometheus";
import { resolveStorage } from "../../model";
import { PROMETHEUS_CONFIG_HOST_PATH } from "../../model/presets";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

/**
 * The real `promtool` (Debian package `prometheus`). A missing promtool FAILS this suite, in CI and
 * locally alike: a skipped check is how a broken config reaches the host unnoticed.
 */
const PROMTOOL = process.env["PROMTOOL"] ?? "promtool";

function promtoolCheck(yaml: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "promtool-"));
  const file = join(dir, "prometheus.yml");
  writeFileSync(file, yaml);
  const r = spawnSync(PROMTOOL, ["check", "config", file], { encoding: "utf8", timeout: 20_000 });
  if (r.error)
    throw new Error(
      `promtool is required for this test (${r.error.message}); install it: apt-get install -y prometheus`,
    );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("generated prometheus.yml (real promtool)", () => {
  const model = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());

  it("passes `promtool check config` for the reference homelab", () => {
    const files = prometheusFiles(model, "monitoring")!;
    expect(Object.keys(files)).toEqual([PROMETHEUS_CONFIG_HOST_PATH]);
    const r = promtoolCheck(files[PROMETHEUS_CONFIG_HOST_PATH]!);
    expect(r.out).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  it("is delivered only to the stack that runs Prometheus", () => {
    expect(prometheusFiles(model, "immich")).toBeUndefined();
  });

  it("promtool does reject a broken config (the check can fail)", () => {
    const broken = renderPrometheusConfig(model).replace("scrape_interval: 30s", "scrape_interval: thirty");
    const r = promtoolCheck(broken);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/FAILED|not a valid duration/);
  });
});
