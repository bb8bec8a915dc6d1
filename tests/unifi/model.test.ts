import { accessPlan } from "../../analysis/access/plan";
import { ConfigError, resolveNetwork } from "../../model";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";

type Raw = Record<string, unknown>;
type Seg = { name: string; vlan: number; wifi?: Raw[] };
const ref = () => rawOf(networkFile());
const segs = (raw: Raw) => raw["segments"] as Seg[];
const seg = (raw: Raw, name: string) => segs(raw).find((s) => s.name === name)!;
const access = (raw: Raw) =>
  raw["access"] as { portProfiles: Raw[]; switches: { ports: Raw[] }[]; controller: Raw };

function problems(raw: Raw): string[] {
  try {
    resolveNetwork(raw, allSecretsSet);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe("the access network in config", () => {
  it("the reference places each SSID and port on its segment", () => {
    const plan = accessPlan(resolveNetwork(ref(), allSecretsSet));
    expect(plan.wifi.map((w) => [w.ssid, w.segment, w.vlan, w.purpose])).toEqual([
      ["homelab", "trusted", 30, "general"],
      ["homelab-iot", "iot", 40, "iot"],
      ["homelab-guest", "guest", 60, "guest"],
    ]);
    expect(plan.ports).toHaveLength(16);
    const port = (n: number) => plan.ports.find((p) => p.port === n)!;
    expect(port(5)).toMatchObject({
      role: "ap",
      profile: "ap-trunk",
      native: { segment: "management", vlan: 10 },
      tagged: [{ segment: "trusted" }, { segment: "iot" }, { segment: "guest" }],
    });
    expect(port(7)).toMatchObject({ role: "access", native: { segment: "cameras" }, tagged: [] });
  });

  it("names the path of an SSID without passphrase, a duplicate SSID, and an open non-guest SSID", () => {
    const raw = ref();
    seg(raw, "trusted").wifi = [
      { ssid: "homelab-iot", security: "wpa2" },
      { ssid: "lobby", security: "open" },
    ];
    // Its passphrase is no longer referenced: a leftover secret is an error of its own.
    delete raw["wifiHomelabPassphrase"];
    expect(problems(raw)).toEqual([
      "homelab:segments[2].wifi[0].passphrase: security wpa2 needs a passphrase: { secret: <key> } set with pulumi config set --secret",
      "homelab:segments[2].wifi[1].security: only a guest SSID may be open; set a passphrase and security wpa2-wpa3",
      // The later of the two is the duplicate: the iot segment comes after trusted.
      'homelab:segments[3].wifi[0].ssid: SSID "homelab-iot" is already carried by segment "trusted"',
    ]);
  });

  it("refuses an SSID over 32 bytes and an unknown security", () => {
    const raw = ref();
    seg(raw, "trusted").wifi = [{ ssid: "x".repeat(33), security: "wep", passphrase: { secret: "p" } }];
    expect(problems(raw)).toEqual([
      "homelab:segments[2].wifi[0].ssid: an SSID is at most 32 bytes",
      expect.stringMatching(/^homelab:segments\[2\]\.wifi\[0\]\.security: /),
    ]);
  });

  it("names unknown segments and profiles and repeated ports", () => {
    const raw = ref();
    access(raw).portProfiles.push({ name: "lab", native: "labs", tagged: ["iot", "iot"] });
    access(raw).switches[0]!.ports.push({ port: "16-17", profile: "lab" }, { port: 18, profile: "desks" });
    expect(problems(raw)).toEqual([
      'homelab:access.portProfiles[6].native: unknown segment "labs" (known: management, servers, trusted, iot, cameras, guest)',
      'homelab:access.portProfiles[6].tagged[1]: "iot" is listed twice',
      "homelab:access.switches[0].ports[6].port: port 16 is listed twice",
      'homelab:access.switches[0].ports[7].profile: unknown port profile "desks" (did you mean "desk"?)',
    ]);
  });

  it("switch ports are 1-56 (the controller's port_idx)", () => {
    const raw = ref();
    access(raw).switches[0]!.ports.push({ port: 57, profile: "desk" });
    expect(problems(raw)).toEqual([
      "homelab:access.switches[0].ports[6].port: switch ports are numbered 1-56",
    ]);
  });

  it("the controller takes VLAN ids up to 4018 only", () => {
    const raw = ref();
    seg(raw, "guest").vlan = 4050;
    expect(problems(raw)).toContain(
      "homelab:segments[5].vlan: the network controller accepts VLAN ids 2-4018 (UniFi networkconf); pick a lower id",
    );
  });

  it("Wi-Fi without a controller to apply it is an error, not silently dropped", () => {
    const raw = ref();
    delete raw["access"];
    delete raw["unifiControllerPassword"];
    expect(problems(raw)).toEqual([
      "homelab:segments[2].wifi[0]: Wi-Fi networks are applied by the network controller: set homelab:access.controller",
      "homelab:segments[3].wifi[0]: Wi-Fi networks are applied by the network controller: set homelab:access.controller",
      "homelab:segments[5].wifi[0]: Wi-Fi networks are applied by the network controller: set homelab:access.controller",
    ]);
  });

  it("rejects unknown keys in the new objects (strict schemas)", () => {
    const raw = ref();
    access(raw).controller["sitename"] = "default";
    expect(problems(raw)).toEqual(['homelab:access.controller.sitename: unknown key (did you mean "site"?)']);
  });
});
