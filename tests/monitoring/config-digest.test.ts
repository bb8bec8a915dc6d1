/**
 * Prometheus, Alertmanager and Grafana read their files at start: a changed file must change the
 * definition of exactly the services that mount it, so `compose up` recreates them and no other.
 */
import { CONFIG_DIGEST_ENV, monitoringFiles, withConfigDigests } from "../../analysis/monitoring/files";
import { DASHBOARDS } from "../../components/storage/dashboards";
import { resolveStorage } from "../../model";
import { PROMETHEUS_CONFIG_HOST_PATH } from "../../model/presets";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

const model = resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());
const stack = model.config.stacks.find((s) => s.name === "monitoring")!;
const files = monitoringFiles(model, "monitoring", DASHBOARDS).files;
const digests = (f: Record<string, string>) =>
  Object.fromEntries(withConfigDigests(stack, f).services.map((s) => [s.name, s.env[CONFIG_DIGEST_ENV]]));

test("each service that mounts generated files carries their digest; the others are untouched", () => {
  const d = digests(files);
  expect(d["prometheus"]).toMatch(/^[0-9a-f]{64}$/);
  expect(d["alertmanager"]).toMatch(/^[0-9a-f]{64}$/);
  expect(d["grafana"]).toMatch(/^[0-9a-f]{64}$/);
  expect(d["socket-proxy"]).toBeUndefined();
  expect(d["pve-exporter"]).toBeUndefined();
});

test("a changed prometheus.yml changes Prometheus's definition only", () => {
  const before = digests(files);
  const after = digests({
    ...files,
    [PROMETHEUS_CONFIG_HOST_PATH]: `${files[PROMETHEUS_CONFIG_HOST_PATH]}# changed\n`,
  });
  expect(after["prometheus"]).not.toBe(before["prometheus"]);
  expect(after["alertmanager"]).toBe(before["alertmanager"]);
  expect(after["grafana"]).toBe(before["grafana"]);
});
