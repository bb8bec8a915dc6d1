import { helperSteps, parseBundle } from "../support/bundle";
import { ruleFiles } from "../../analysis/monitoring/files";
import { resolveStorage } from "../../model";
import { evaluateProgram, type Evaluation } from "../../tools/plan/evaluate";
import { allSecretsSet, networkFile, rawOf, referenceContract, storageFile } from "../fixtures/reference";

/** The reference network stack under Pulumi's mocks, secrets fed as markers: the IDS part. */
let ev: Evaluation;
beforeAll(async () => {
  ev = await evaluateProgram({ stack: "network", file: networkFile(), secretValue: (k) => `marker-${k}` });
}, 120_000);

const byName = (name: string) => {
  const r = ev.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
};

describe("IntrusionDetection under Pulumi mocks (the reference)", () => {
  it("records what is inspected and how as plain facts, without any secret", () => {
    const c = byName("ids");
    expect(c.type).toBe("homelab:network:IntrusionDetection");
    expect(c.inputs).toMatchObject({ mode: "ips", ipsUnsupported: "ids", trunk: "igc1", alerts: true });
    expect(JSON.stringify(c.inputs)).not.toContain("marker-");
  });

  it("gives the provider the segments' keys from config, the trunk and the schedule; credentials secret", () => {
    const s = ev.resources.find((r) => r.type === "pulumi-nodejs:dynamic/opnsense:Ids")!;
    expect(s.inputs["kind"]).toBe("ids");
    expect(s.inputs["body"]).toMatchObject({
      mode: "ips",
      trunk: "igc1",
      segments: [
        { name: "management", key: "lan" },
        { name: "servers", key: "opt1" },
        { name: "trusted", key: "opt2" },
        { name: "iot", key: "opt3" },
        { name: "cameras", key: "opt4" },
        { name: "guest", key: "opt5" },
      ],
      schedule: { minutes: "30", hours: "3", weekdays: "*" },
    });
    expect(s.secretPaths).toEqual(expect.arrayContaining(["apiKey", "apiSecret"]));
  });

  it("writes the IDS settings after the preflight and every firewall object", () => {
    const s = ev.resources.find((r) => r.type === "pulumi-nodejs:dynamic/opnsense:Ids")!;
    const firewallObjects = ev.resources.filter(
      (r) => r.type === "pulumi-nodejs:dynamic/opnsense:Object" && r.name.startsWith("firewall-"),
    );
    expect(firewallObjects.length).toBeGreaterThan(20);
    for (const f of firewallObjects) expect(s.dependencies).toContain(f.urn);
    expect(s.dependencies).toContain(byName("firewall-gateway").urn);
  });

  it("installs the alert job with a plain script, the API key only on the command's secret stdin", () => {
    const cmd = byName("ids-alerts");
    expect(cmd.type).toBe("command:remote:Command");
    expect(cmd.secretPaths).toEqual(expect.arrayContaining(["stdin", "connection"]));
    expect(JSON.stringify(cmd.inputs)).not.toContain("marker-");
    const files = parseBundle(String(ev.policyInputs.get(cmd.urn)!["stdin"]));
    expect(files["/etc/homelab-ids/curl.conf"]).toEqual({
      mode: "0600",
      content: 'user = "marker-idsAlertsApiKey:marker-idsAlertsApiSecret"\n',
    });
    expect(Object.keys(files).sort()).toEqual([
      "/etc/homelab-ids/curl.conf",
      "/etc/homelab-ids/poll.sh",
      "/etc/systemd/system/homelab-ids-alerts.service",
      "/etc/systemd/system/homelab-ids-alerts.timer",
    ]);
    expect(helperSteps(String(cmd.inputs["create"]))).toEqual([
      ["packages", "ids-alerts", "curl", "jq"],
      ["install", "ids-alerts"],
      ["start", "ids-alerts", "homelab-ids-alerts.service"],
    ]);
    expect(helperSteps(String(cmd.inputs["delete"]))).toEqual([["uninstall", "ids-alerts"]]);
    // Its first run reads the gateway: after Suricata is set up.
    const s = ev.resources.find((r) => r.type === "pulumi-nodejs:dynamic/opnsense:Ids")!;
    expect(cmd.dependencies).toContain(s.urn);
  });

  it("publishes the IDS in the network contract, and the storage stack's Prometheus loads its rules", () => {
    const contract = referenceContract();
    expect(contract.ids).toEqual({ staleRulesDays: 3 });
    const files = ruleFiles(resolveStorage(rawOf(storageFile()), allSecretsSet, contract));
    expect(files["homelab-ids.rules.yml"]).toContain("alert: IntrusionDetected");
    expect(files["homelab-ids.rules.yml"]).toContain(
      "time() - homelab_ids_rules_updated_timestamp_seconds > 259200",
    );
    const { ids: _, ...withoutIds } = contract;
    expect(ruleFiles(resolveStorage(rawOf(storageFile()), allSecretsSet, withoutIds))).not.toHaveProperty(
      "homelab-ids.rules.yml",
    );
  });
});
