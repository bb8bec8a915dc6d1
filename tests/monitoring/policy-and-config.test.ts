/**
 * The metrics-scraped policy over the reference homelab's monitoring facts, and the config errors of
 * homelab:monitoring: each names its config path.
 */
import { monitoringFacts } from "../../analysis/monitoring/prometheus";
import { opnsenseNodeExporter } from "../../analysis/monitoring/opnsense-exporter";
import { ConfigError, resolveStorage, type StorageModel } from "../../model";
import { FACT_TYPES, type MonitoringFacts } from "../../model/facts";
import { graphPolicies } from "../../policies/rules/graph";
import { runPolicies } from "../../policies/run";
import { res } from "../policies/graph";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const reference = (mutate: (raw: Raw) => void = () => {}): StorageModel => {
  const raw = rawOf(storageFile()) as Raw;
  mutate(raw);
  return resolveStorage(raw, allSecretsSet, referenceContract());
};
const errors = (mutate: (raw: Raw) => void): string[] => {
  try {
    reference(mutate);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
};
const policy = async (facts: MonitoringFacts) =>
  (
    await runPolicies(
      graphPolicies.filter((p) => p.name === "metrics-scraped"),
      [res(FACT_TYPES.monitoring, "monitoring", facts as unknown as Record<string, unknown>)],
      { stack: "storage" },
    )
  ).violations.map((v) => v.message);

describe("metrics-scraped", () => {
  const facts = monitoringFacts(reference());

  it("knows every node and VM, the gateway, dockerd and Proxmox VE, and passes the reference homelab", async () => {
    expect(facts.expected.map((e) => `${e.target}${e.path}`)).toEqual(
      expect.arrayContaining([
        "10.0.20.10:9100/metrics",
        "10.0.20.2:9100/metrics",
        "10.0.20.11:9100/metrics",
        "10.0.10.1:9100/metrics",
        "10.0.20.10:9323/metrics",
        "10.0.10.10/pve",
        "10.0.20.2:8123/api/prometheus",
      ]),
    );
    expect(await policy(facts)).toEqual([]);
  });

  it("fails a missing target, a missing Alertmanager and missing rule files", async () => {
    const broken = {
      ...facts,
      targets: facts.targets.filter((t) => t.job !== "gateway-exporter"),
      alertmanagers: [],
      ruleFiles: [],
    };
    expect(await policy(broken)).toEqual([
      "gateway-exporter exposes 10.0.10.1:9100/metrics but no scrape job covers it",
      "Prometheus has no Alertmanager to send to: no alert reaches anyone",
      "Prometheus loads no rule files: nothing can alert",
    ]);
  });

  it("fails Home Assistant when no token is configured for it", async () => {
    const noToken = monitoringFacts(
      reference((r) => {
        r["monitoring"].scrapeTokens = {};
        delete r["homeAssistantPrometheusToken"]; // unreferenced now, and a leftover secret is an error
      }),
    );
    expect(await policy(noToken)).toEqual([
      "home-assistant exposes 10.0.20.2:8123/api/prometheus but no scrape job covers it",
    ]);
  });
});

describe("homelab:monitoring config errors", () => {
  it("a route to an undeclared receiver names its path", () => {
    expect(errors((r) => (r["monitoring"].alerting.routes[0].receiver = "pager"))).toEqual([
      'homelab:monitoring.alerting.routes[0].receiver: no receiver named "pager" (declared receivers: ntfy, email)',
    ]);
  });

  it("a receiver needs exactly one of webhook or email, and a bad matcher is explained", () => {
    expect(
      errors((r) => {
        r["monitoring"].alerting.receivers[0].email = r["monitoring"].alerting.receivers[1].email;
        r["monitoring"].alerting.routes[1].matchers = ["severity = critical"];
      }),
    ).toEqual([
      expect.stringMatching(
        /^homelab:monitoring\.alerting\.routes\[1\]\.matchers\[0\]: must be a matcher like/,
      ),
      expect.stringMatching(
        /^homelab:monitoring\.alerting\.receivers\[0\]: set exactly one of webhook or email/,
      ),
    ]);
  });

  it("a scrape token for a service that needs none is a typo, not silently unused", () => {
    expect(
      errors(
        (r) =>
          (r["monitoring"].scrapeTokens = { "home-asistant": { secret: "homeAssistantPrometheusToken" } }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^homelab:monitoring\.scrapeTokens\.home-asistant: no service named "home-asistant" has a metrics endpoint that needs a token.*home-assistant/,
      ),
    ]);
  });

  it("an Alertmanager without routing is a config error", () => {
    const withoutMonitoring = (r: Record<string, unknown>) => {
      delete r["monitoring"];
      // The secrets only homelab:monitoring referenced go with it (a leftover secret is an error).
      for (const k of ["ntfyToken", "alertSmtpPassword", "homeAssistantPrometheusToken"]) delete r[k];
    };
    expect(errors(withoutMonitoring)).toEqual([
      expect.stringMatching(
        /^homelab:monitoring: service alertmanager runs Alertmanager but homelab:monitoring\.alerting is not set/,
      ),
    ]);
  });

  it("credentials are secret references: a plain-text token is rejected by the schema", () => {
    expect(
      errors((r) => (r["monitoring"].alerting.receivers[0].webhook.bearerToken = "tk_plaintext")),
    ).toEqual([
      expect.stringMatching(/^homelab:monitoring\.alerting\.receivers\[0\]\.webhook\.bearerToken: /),
    ]);
  });
});

describe("OPNsense node_exporter (object for the OPNsense provider)", () => {
  it("installs os-node_exporter, enables it on one address with the template's collectors, reconfigures", () => {
    const o = opnsenseNodeExporter("10.0.10.1");
    expect(o.install).toMatchObject({ method: "POST", path: "/api/core/firmware/install/os-node_exporter" });
    expect(o.set).toMatchObject({
      method: "POST",
      path: "/api/nodeexporter/general/set",
      body: { general: { enabled: "1", listenaddress: "10.0.10.1", listenport: "9100", cpu: "1", zfs: "1" } },
    });
    expect(o.apply).toMatchObject({ method: "POST", path: "/api/nodeexporter/service/reconfigure" });
    // The address Prometheus scrapes is the directory entry of the network stack.
    expect(o.target).toBe("10.0.10.1:9100");
  });
});
