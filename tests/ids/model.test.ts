import { ConfigError, resolveNetwork, toContract, type SecretSource } from "../../model";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";

type Raw = Record<string, unknown>;
const ref = () => rawOf(networkFile());
const idsOf = (raw: Raw) => raw["ids"] as Raw;

function problems(raw: Raw, secrets: SecretSource = allSecretsSet): string[] {
  try {
    resolveNetwork(raw, secrets);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe("homelab:ids", () => {
  it("resolves the reference: IPS with a detection fallback, every segment, nightly updates, derived home networks", () => {
    const ids = resolveNetwork(ref(), allSecretsSet).ids!;
    expect(ids).toMatchObject({
      enabled: true,
      mode: "ips",
      ipsUnsupported: "ids",
      wan: false,
      schedule: { minutes: "30", hours: "3", weekdays: "*" },
      alerts: { apiKey: { secret: "idsAlertsApiKey" }, apiSecret: { secret: "idsAlertsApiSecret" } },
    });
    expect(ids.segments.map((s) => s.name)).toEqual([
      "management",
      "servers",
      "trusted",
      "iot",
      "cameras",
      "guest",
    ]);
    expect(ids.rulesets).toHaveLength(9);
    // Suricata's HOME_NET: every segment and the WireGuard tunnel.
    expect(ids.homeNetworks).toEqual([
      "10.0.10.0/24",
      "10.0.20.0/24",
      "10.0.30.0/24",
      "10.0.40.0/24",
      "10.0.50.0/24",
      "10.0.60.0/24",
      "10.0.99.0/24",
    ]);
  });

  it("is optional: without it, no IDS and nothing in the contract", () => {
    const raw = ref();
    delete raw["ids"];
    // Its alert job's key goes with it: a secret nothing references is an error of its own.
    delete raw["idsAlertsApiKey"];
    delete raw["idsAlertsApiSecret"];
    const m = resolveNetwork(raw, allSecretsSet);
    expect(m.ids).toBeUndefined();
    expect(toContract(m).ids).toBeUndefined();
    expect(toContract(resolveNetwork(ref(), allSecretsSet)).ids).toEqual({ staleRulesDays: 3 });
  });

  it("rejects unknown keys (strict) and bad values, naming the path", () => {
    const raw = ref();
    Object.assign(idsOf(raw), { ips: true, mode: "prevent", updates: { time: "3:30" } });
    expect(problems(raw).sort()).toEqual([
      "homelab:ids.ips: unknown key (known: enabled, mode, ipsUnsupported, interfaces, rulesets, updates, alerts)",
      'homelab:ids.mode: must be one of "ids", "ips"',
      "homelab:ids.updates.time: must be a time of day like 03:30 (24 h, gateway time)",
    ]);
  });

  it("names an unknown or repeated interface with a suggestion, and accepts wan", () => {
    const raw = ref();
    idsOf(raw)["interfaces"] = ["iott", "wan", "guest", "guest"];
    expect(problems(raw)).toEqual([
      'homelab:ids.interfaces[0]: unknown segment "iott" (did you mean "iot"?); name a segment or wan',
      'homelab:ids.interfaces[3]: "guest" is listed twice',
    ]);
    idsOf(raw)["interfaces"] = ["wan", "guest"];
    expect(resolveNetwork(raw, allSecretsSet).ids).toMatchObject({
      wan: true,
      segments: [{ name: "guest" }],
    });
  });

  it("refuses ruleset names that are not file names, repeats, and an enabled IDS without rulesets", () => {
    const raw = ref();
    idsOf(raw)["rulesets"] = ["emerging-malware", "../etc/passwd.rules", "botcc.rules", "botcc.rules"];
    expect(problems(raw)).toEqual([
      expect.stringMatching(/^homelab:ids\.rulesets\[0\]: must be a ruleset file name/),
      expect.stringMatching(/^homelab:ids\.rulesets\[1\]: must be a ruleset file name/),
    ]);
    idsOf(raw)["rulesets"] = ["botcc.rules", "botcc.rules"];
    expect(problems(raw)).toEqual(["homelab:ids.rulesets[1]: botcc.rules is listed twice"]);
    idsOf(raw)["rulesets"] = [];
    expect(problems(raw)).toEqual([
      expect.stringMatching(/^homelab:ids\.rulesets: Suricata without rulesets/),
    ]);
    idsOf(raw)["enabled"] = false;
    expect(problems(raw)).toEqual([]);
  });

  it("turns the update time and weekdays into the cron job's fields", () => {
    const raw = ref();
    idsOf(raw)["updates"] = { time: "23:05", weekdays: ["sun", "wed", "sun"] };
    expect(resolveNetwork(raw, allSecretsSet).ids!.schedule).toEqual({
      minutes: "5",
      hours: "23",
      weekdays: "0,3",
    });
    // Sunday and Wednesday: the longest gap is four days, plus two of slack.
    expect(toContract(resolveNetwork(raw, allSecretsSet)).ids).toEqual({ staleRulesDays: 6 });
  });

  it("ipsUnsupported belongs to mode ips", () => {
    const raw = ref();
    idsOf(raw)["mode"] = "ids";
    expect(problems(raw)).toEqual([
      "homelab:ids.ipsUnsupported: only applies to mode ips; remove it or set mode: ips",
    ]);
  });

  it("needs the alert job's key as secrets, set with --secret", () => {
    const plain: SecretSource = { has: () => true, isSecret: (k) => k !== "idsAlertsApiSecret" };
    expect(problems(ref(), plain)).toEqual([
      expect.stringMatching(
        /^homelab:idsAlertsApiSecret: is stored in plain text but must be a secret \(used at homelab:ids\.alerts\.apiSecret\)/,
      ),
    ]);
    const raw = ref();
    idsOf(raw)["alerts"] = { apiKey: "plain-key", apiSecret: { secret: "idsAlertsApiSecret" } };
    expect(problems(raw)).toEqual([expect.stringMatching(/^homelab:ids\.alerts\.apiKey: /)]);
  });

  it("refuses exported alerts when no flow lets the network node reach the gateway's API", () => {
    const raw = ref();
    const flows = raw["flows"] as { reason: string }[];
    raw["flows"] = flows.filter((f) => !/IDS alert job/.test(f.reason));
    expect(problems(raw)).toEqual([
      expect.stringMatching(
        /^homelab:ids\.alerts: the alert job runs on the network node \(10\.0\.20\.2\) and reads the gateway's API at 10\.0\.10\.1:443, but no flow allows that; add to homelab:flows \{ from: host:network-node, to: host:<the gateway's host entry>, protocol: tcp, ports: \[443\]/,
      ),
    ]);
    // A flow to the whole management segment on any port would do as well.
    raw["flows"] = [
      ...(raw["flows"] as unknown[]),
      { from: "host:network-node", to: "segment:management", protocol: "tcp", reason: "broad" },
    ];
    expect(problems(raw)).toEqual([]);
    // Without exported alerts there is nothing to reach.
    delete idsOf(raw)["alerts"];
    delete raw["idsAlertsApiKey"];
    delete raw["idsAlertsApiSecret"];
    raw["flows"] = flows.filter((f) => !/IDS alert job/.test(f.reason));
    expect(problems(raw)).toEqual([]);
  });
});
