import { startDouble, type EveAlert, type OpnsenseDouble } from "./double";
import { api, bootstrapped } from "./helpers";

/**
 * The intrusion detection and cron endpoints of the double refuse what opnsense/core refuses. Each
 * expectation names the file it comes from (src/opnsense/mvc/app/... at 26.1.11 and 26.7.2).
 */

type Json = Record<string, unknown>;
const general = async (d: OpnsenseDouble) =>
  ((await api(d, "GET", "ids/settings/get")).json as { ids: { general: Json } }).ids.general;
const selected = (map: unknown) =>
  Object.entries(map as Record<string, { selected: number }>)
    .filter(([, o]) => o.selected === 1)
    .map(([k]) => k);
const setGeneral = (d: OpnsenseDouble, fields: Json) =>
  api(d, "POST", "ids/settings/set", { ids: { general: fields } });

const alert = (n: number, action: "allowed" | "blocked" = "allowed"): EveAlert => ({
  timestamp: `2026-08-19T10:00:0${n}.000000+0000`,
  flow_id: 1000 + n,
  in_iface: "igc1",
  event_type: "alert",
  src_ip: `10.0.40.${n}`,
  src_port: 40000 + n,
  dest_ip: "198.51.100.7",
  dest_port: 443,
  proto: "TCP",
  alert: {
    action,
    gid: 1,
    signature_id: 2_000_000 + n,
    rev: 1,
    signature: `ET MALWARE test ${n}`,
    category: "A Network Trojan was detected",
    severity: 1,
  },
});

describe("IDS settings (double of opnsense/core 26.7)", () => {
  let d: OpnsenseDouble;
  beforeEach(async () => {
    d = await startDouble(bootstrapped("26.7"));
  });
  afterEach(() => d.close());

  it("exposes only `general` under the model name `ids`, with the defaults of IDS.xml (SettingsController::getModelNodes)", async () => {
    const r = (await api(d, "GET", "ids/settings/get")).json as { ids: Json };
    expect(Object.keys(r.ids)).toEqual(["general"]);
    const g = r.ids["general"] as Json;
    expect(g["enabled"]).toBe("0");
    expect(selected(g["mode"])).toEqual(["pcap"]);
    expect(selected(g["interfaces"])).toEqual(["wan"]);
    expect(Object.keys(g["homenet"] as Json)).toEqual(["192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12"]);
    // ModelRelationField, not required: a "None" entry and no job until the first reconfigure.
    expect(g["UpdateCron"]).toEqual({ "": { value: "None", selected: 1 } });
  });

  it("offers assigned, enabled, non-group interfaces plus the unassigned VLAN parent (InterfaceField.php, IDS.xml AddParentDevices + filters)", async () => {
    // WireGuard on: its group interface exists, but dynamic and group interfaces are no IDS option.
    await api(d, "POST", "wireguard/general/set", { general: { enabled: "1" } });
    await api(d, "POST", "wireguard/service/reconfigure", {});
    expect(Object.keys(d.interfaces())).toContain("wireguard");
    const options = (await general(d))["interfaces"] as Record<string, { value: string }>;
    expect(Object.keys(options).sort()).toEqual([
      "igc1",
      "lan",
      "opt1",
      "opt2",
      "opt3",
      "opt4",
      "opt5",
      "wan",
    ]);
    expect(options["igc1"]!.value).toBe("[igc1]");
    expect(options["opt3"]!.value).toBe("iot");
  });

  it("refuses an interface that is not an option: a segment name, the wireguard group, a disabled one", async () => {
    await api(d, "POST", "wireguard/general/set", { general: { enabled: "1" } });
    await api(d, "POST", "wireguard/service/reconfigure", {});
    expect((await setGeneral(d, { interfaces: "iot" })).json).toEqual({
      result: "failed",
      validations: { "ids.general.interfaces": "Option [iot] not in list." },
    });
    expect((await setGeneral(d, { interfaces: "opt3,wireguard" })).json).toEqual({
      result: "failed",
      validations: { "ids.general.interfaces": "Option [wireguard] not in list." },
    });
    d.interfaces()["opt4"]!.enable = "0";
    expect((await setGeneral(d, { interfaces: "opt4" })).json).toMatchObject({
      validations: { "ids.general.interfaces": "Option [opt4] not in list." },
    });
    expect(selected((await general(d))["interfaces"])).toEqual(["wan"]);
  });

  it("refuses the old `ips` switch's values as a mode and bad home networks (IDS.xml mode, homenet NetworkField AsList)", async () => {
    expect((await setGeneral(d, { mode: "ips" })).json).toEqual({
      result: "failed",
      validations: { "ids.general.mode": "Please select a valid mode." },
    });
    expect((await setGeneral(d, { homenet: "10.0.40.0/24,10.0.50.0/33" })).json).toEqual({
      result: "failed",
      validations: { "ids.general.homenet": "Please specify a valid network segment or IP address." },
    });
    expect((await setGeneral(d, { MPMAlgo: "ac-bs" })).json).toMatchObject({
      validations: { "ids.general.MPMAlgo": "Please select a valid pattern matcher algorithm." },
    });
    expect((await setGeneral(d, { detect: { Profile: "extreme" } })).json).toMatchObject({
      validations: { "ids.general.detect.Profile": "Please select a valid detection profile." },
    });
  });

  it("saves valid settings and validates only the fields that changed (BaseModel::performValidation)", async () => {
    expect(
      (
        await setGeneral(d, {
          enabled: "1",
          mode: "netmap",
          promisc: "1",
          interfaces: "igc1,wan",
          homenet: "10.0.10.0/24,10.0.40.0/24",
          unknown: "dropped",
        })
      ).json,
    ).toEqual({ result: "saved" });
    expect(d.ids().general).toMatchObject({ enabled: "1", mode: "netmap", interfaces: "igc1,wan" });
    expect(d.ids().general).not.toHaveProperty("unknown");
    // The trunk's VLANs go away from enabled interfaces: igc1 is no option any more, but a change of
    // another field still saves because `interfaces` itself did not change.
    for (const k of ["lan", "opt1", "opt2", "opt3", "opt4", "opt5"]) d.interfaces()[k]!.enable = "0";
    expect((await setGeneral(d, { promisc: "0" })).json).toEqual({ result: "saved" });
  });

  it("answers set on GET with failed and keeps snake_case ACL patterns (IDS/ACL/ACL.xml page-services-ids)", async () => {
    expect((await api(d, "GET", "ids/settings/set")).json).toEqual({ result: "failed" });
    await d.close();
    d = await startDouble({ ...bootstrapped("26.7"), privileges: ["page-services-ids"] });
    expect((await api(d, "GET", "ids/settings/get")).status).toBe(200);
    expect((await api(d, "GET", "ids/settings/list_rulesets")).status).toBe(200);
    // Cron is another privilege (Cron/ACL/ACL.xml page-system-cron).
    expect((await api(d, "GET", "cron/settings/search_jobs")).status).toBe(403);
  });
});

describe("IDS rulesets (double of opnsense/core 26.7 and 26.1.11)", () => {
  let d: OpnsenseDouble;
  beforeEach(async () => {
    d = await startDouble(bootstrapped("26.7"));
  });
  afterEach(() => d.close());

  const rows = async (dd: OpnsenseDouble) =>
    (
      (await api(dd, "POST", "ids/settings/list_rulesets", { current: 1, rowCount: -1, searchPhrase: "" }))
        .json as {
        rows: Json[];
      }
    ).rows;

  it("lists the installable files of metadata/rules/*.xml, by description, all disabled on a fresh install", async () => {
    const all = await rows(d);
    expect(all).toHaveLength(56 + 5 + 7);
    expect(all.find((r) => r["filename"] === "emerging-malware.rules")).toMatchObject({
      description: "ET open/emerging-malware",
      enabled: "0",
      modified_local: null,
    });
    expect(all.find((r) => r["filename"] === "abuse.ch.threatfox.rules")!["description"]).toBe(
      "abuse.ch/ThreatFox",
    );
    expect(all.map((r) => r["filename"])).toContain("opnsense.adult.rules");
    expect(all.map((r) => r["filename"])).not.toContain("3coresec.rules"); // dropped before 26.1.11
    const old = await startDouble(bootstrapped("26.1"));
    try {
      expect((await rows(old)).map((r) => r["filename"])).toContain("opnsense.uncategorized.rules");
    } finally {
      await old.close();
    }
  });

  it("enables known files, answers an unknown one with status error and still saves the known ones (toggleRulesetAction)", async () => {
    expect(
      (await api(d, "POST", "ids/settings/toggle_ruleset/emerging-malware.rules,botcc.rules/1", {})).json,
    ).toEqual({
      status: "1",
    });
    const r = await api(
      d,
      "POST",
      "ids/settings/toggle_ruleset/emerging-scan.rules,emerging-trojan.rules/1",
      {},
    );
    expect(r.json).toEqual({ status: "error" });
    // Half applied: the known file of the failed call is enabled.
    expect(d.ids().rulesets).toEqual({
      "emerging-malware.rules": "1",
      "botcc.rules": "1",
      "emerging-scan.rules": "1",
    });
    expect((await api(d, "POST", "ids/settings/toggle_ruleset/botcc.rules/0", {})).json).toEqual({
      status: "0",
    });
    // Not a POST: nothing happens.
    expect((await api(d, "GET", "ids/settings/toggle_ruleset/botcc.rules/1")).json).toEqual({
      status: "none",
    });
    // The filename list is a required parameter: without it the route does not exist.
    expect((await api(d, "POST", "ids/settings/toggle_ruleset", {})).status).toBe(404);
  });

  it("records a download per enabled file on update_rules; a parameter detaches it (ServiceController::updateRulesAction)", async () => {
    await api(d, "POST", "ids/settings/toggle_ruleset/emerging-malware.rules/1", {});
    expect((await api(d, "POST", "ids/service/update_rules", {})).json).toEqual({ status: "OK\n\n" });
    const detached = (await api(d, "POST", "ids/service/update_rules/1", {})).json as { status: string };
    expect(detached.status).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(
      (await rows(d)).find((r) => r["filename"] === "emerging-malware.rules")!["modified_local"],
    ).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{1,2}:\d{2}$/);
  });
});

describe("IDS service and its update job (double of opnsense/core 26.7)", () => {
  let d: OpnsenseDouble;
  beforeEach(async () => {
    d = await startDouble(bootstrapped("26.7"));
  });
  afterEach(() => d.close());

  const job = () => {
    const uuid = String(d.ids().general["UpdateCron"]);
    return { uuid, job: d.cronJobs()[uuid]! };
  };

  it("creates the disabled daily update job on the first reconfigure only, and starts Suricata when enabled (ServiceController::reconfigureAction, Cron::newDailyJob)", async () => {
    expect((await api(d, "POST", "ids/service/reconfigure", {})).json).toEqual({ status: "OK" });
    expect(d.suricataRunning()).toBe(false);
    expect(job().job).toMatchObject({
      origin: "IDS",
      enabled: "0",
      minutes: "0",
      hours: "0",
      command: "ids update",
      description: "ids rule updates",
    });
    expect(selected((await general(d))["UpdateCron"])).toEqual([job().uuid]);
    await setGeneral(d, { enabled: "1" });
    await api(d, "POST", "ids/service/reconfigure", {});
    expect(Object.keys(d.cronJobs())).toHaveLength(1);
    expect(d.suricataRunning()).toBe(true);
    expect((await api(d, "GET", "ids/service/status")).json).toMatchObject({ status: "running" });
    await setGeneral(d, { enabled: "0" });
    await api(d, "POST", "ids/service/reconfigure", {});
    expect((await api(d, "GET", "ids/service/status")).json).toMatchObject({ status: "disabled" });
  });

  it("keeps a service's job command and parameters, validates the schedule fields (Cron/Api/SettingsController::setJobAction, Cron.xml)", async () => {
    await api(d, "POST", "ids/service/reconfigure", {});
    const { uuid } = job();
    const schedule = { enabled: "1", minutes: "30", hours: "3", days: "*", months: "*", weekdays: "*" };
    expect((await api(d, "POST", `cron/settings/set_job/${uuid}`, { job: schedule })).json).toEqual({
      result: "failed",
      validations: {
        "job.command":
          "This item has been created by another service, command and parameter may not be changed.",
      },
    });
    expect(
      (await api(d, "POST", `cron/settings/set_job/${uuid}`, { job: { ...schedule, command: "ids reload" } }))
        .json,
    ).toMatchObject({ result: "failed" });
    expect(
      (
        await api(d, "POST", `cron/settings/set_job/${uuid}`, {
          job: { ...schedule, command: "ids update", hours: "24" },
        })
      ).json,
    ).toEqual({
      result: "failed",
      validations: {
        "job.hours":
          "Value needs to be between 0 and 23; multiple values, ranges, steps and asterisk are supported (ex. 1,2,8 or 0-8).",
      },
    });
    expect(
      (await api(d, "POST", `cron/settings/set_job/${uuid}`, { job: { ...schedule, command: "ids update" } }))
        .json,
    ).toEqual({ result: "saved" });
    expect(job().job).toMatchObject({ enabled: "1", minutes: "30", hours: "3", command: "ids update" });
    // No upsert for an unknown job, and the job a service registered cannot be deleted.
    expect(
      (await api(d, "POST", "cron/settings/set_job/0b0e4a3c-1d2e-4f50-8a6b-7c8d9e0f1a2b", { job: schedule }))
        .json,
    ).toEqual({ result: "failed" });
    expect(await api(d, "POST", `cron/settings/del_job/${uuid}`, {})).toMatchObject({
      status: 500,
      json: { errorMessage: "Cannot delete this automatically registered cron job." },
    });
    expect((await api(d, "POST", "cron/service/reconfigure", {})).json).toEqual({ status: "ok" });
  });

  it("answers query_alerts newest first with the alert flattened, and nothing for rowCount -1 (queryAlertLog.py)", async () => {
    expect((await api(d, "GET", "ids/service/query_alerts")).json).toEqual([]);
    d.alert(alert(1));
    d.alert(alert(2, "blocked"));
    d.alert(alert(3));
    const r = (
      await api(d, "POST", "ids/service/query_alerts", { current: 1, rowCount: 2, searchPhrase: "" })
    ).json as { rows: Json[]; total: number; rowCount: number };
    expect(r.rows.map((x) => x["alert_sid"])).toEqual([2_000_003, 2_000_002]);
    expect(r.rows[1]).toMatchObject({
      alert: "ET MALWARE test 2",
      alert_action: "blocked",
      src_ip: "10.0.40.2",
    });
    // The reader stops after one row past the page: `total` is not the log's count.
    expect(r.total).toBe(3);
    expect(r.rowCount).toBe(2);
    const none = (await api(d, "POST", "ids/service/query_alerts", { current: 1, rowCount: -1 })).json as {
      rows: unknown[];
    };
    expect(none.rows).toEqual([]);
    const found = (
      await api(d, "POST", "ids/service/query_alerts", { rowCount: 50, searchPhrase: "blocked" })
    ).json as { rows: Json[] };
    expect(found.rows.map((x) => x["alert_sid"])).toEqual([2_000_002]);
  });

  it("reports each device's capabilities; only native netmap drivers list netmap (interfaces_info, legacy_interfaces_details)", async () => {
    const rows = ((await api(d, "GET", "interfaces/overview/interfaces_info")).json as { rows: Json[] }).rows;
    const caps = (dev: string) => rows.find((r) => r["device"] === dev)!["capabilities"] as string[];
    expect(caps("igc1")).toContain("netmap");
    expect(caps("vlan0.40")).not.toContain("netmap");
    await d.close();
    d = await startDouble({ ...bootstrapped("26.7"), netmap: [] });
    const later = ((await api(d, "GET", "interfaces/overview/interfaces_info")).json as { rows: Json[] })
      .rows;
    expect(later.find((r) => r["device"] === "igc1")!["capabilities"]).not.toContain("netmap");
  });
});
