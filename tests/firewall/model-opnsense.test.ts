import { ConfigError, IssueList, resolveNetwork } from "../../model";
import { aliasName, aliasNameProblems, descriptionProblems, portAliasName } from "../../model/opnsense-names";
import { AliasNames } from "../../model/resolve-opnsense";
import { compileFirewall } from "../../analysis/firewall";
import { interfaceBindings } from "../../analysis/firewall/interfaces";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";
import { flow } from "./support";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Resolves a mutated reference config and returns the error lines (path: message). */
function errorsOf(mutate: (raw: Raw) => void): string[] {
  const raw = rawOf(networkFile()) as Raw;
  mutate(raw);
  try {
    resolveNetwork(raw, allSecretsSet);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe("OPNsense interface binding in the model", () => {
  it("binds each reference segment by key, and defaults to a lookup by the segment's name", () => {
    const model = resolveNetwork(rawOf(networkFile()), allSecretsSet);
    expect(model.segments.map((s) => s.binding)).toEqual([
      { key: "lan" },
      { key: "opt1" },
      { key: "opt2" },
      { key: "opt3" },
      { key: "opt4" },
      { key: "opt5" },
    ]);
    const raw = rawOf(networkFile()) as Raw;
    delete raw.segments[3].interface;
    raw.segments[4].interface = { description: "Cameras VLAN" };
    const edited = resolveNetwork(raw, allSecretsSet);
    expect(edited.segments[3]!.binding).toEqual({ description: "iot" });
    expect(edited.segments[4]!.binding).toEqual({ description: "Cameras VLAN" });
  });

  it("refuses a segment name as a key, two segments on one interface, and a binding that is both", () => {
    expect(errorsOf((r) => (r.segments[3].interface = { key: "iot" }))).toEqual([
      "homelab:segments[3].interface.key: must be an OPNsense interface key: lan or optN (as Interfaces > Assignments shows it)",
    ]);
    expect(errorsOf((r) => (r.segments[3].interface = { key: "opt1" }))).toEqual([
      'homelab:segments[3].interface: key opt1 is already the interface of segment "servers"',
    ]);
    expect(
      errorsOf((r) => (r.segments[3].interface = { key: "opt3", description: "IoT" })).length,
    ).toBeGreaterThan(0);
    expect(errorsOf((r) => (r.segments[3].interface = { key: "wan" }))[0]).toMatch(
      /^homelab:segments\[3\]\.interface/,
    );
  });
});

describe("OPNsense interface binding in the plan", () => {
  it("lists each interface with its binding and rule count; a description binding is marked as looked up", () => {
    const raw = rawOf(networkFile()) as Raw;
    raw.segments[3].interface = { description: "IoT" };
    const model = resolveNetwork(raw, allSecretsSet);
    const rows = interfaceBindings(model, compileFirewall(model));
    expect(rows.map((r) => r.interface)).toEqual([
      "management",
      "servers",
      "trusted",
      "iot",
      "cameras",
      "guest",
      "wireguard",
      "wan",
    ]);
    expect(rows[3]).toMatchObject({ binding: 'description "IoT" (looked up on the gateway)', key: null });
    expect(rows[0]).toMatchObject({ binding: "key lan", key: "lan" });
    expect(rows.reduce((n, r) => n + r.rules, 0)).toBe(compileFirewall(model).rules.length);
  });
});

describe("OPNsense API URL in the model", () => {
  it("refuses http:// except on loopback, naming the config path", () => {
    expect(errorsOf((r) => (r.opnsense.url = "http://10.0.10.1"))).toEqual([
      "homelab:opnsense.url: http:// would send the API key and secret in clear text; use https://10.0.10.1 (with caCertificate for a self-signed certificate)",
    ]);
    expect(errorsOf((r) => (r.opnsense.url = "http://127.0.0.1:8443"))).toEqual([]);
    expect(errorsOf((r) => (r.opnsense.url = "https://fw.home.example.net"))).toEqual([]);
  });
});

describe("OPNsense names and texts derived from config", () => {
  it("validates alias names as AliasNameField.php does", () => {
    expect(aliasNameProblems("net_iot")).toEqual([]);
    expect(aliasNameProblems("a")).toEqual([]);
    for (const bad of ["1net", "__net", "_", "a".repeat(32), "net-iot", ""])
      expect(aliasNameProblems(bad)[0]).toMatch(
        /must start with a letter or a single underscore, be at most 31/,
      );
    expect(aliasNameProblems("pass")).toEqual(['alias name "pass" is a reserved pf keyword']);
    expect(aliasNameProblems("ssh")).toEqual(['alias name "ssh" is a reserved service or protocol name']);
    expect(aliasNameProblems("ICMP")).toEqual(['alias name "ICMP" is a reserved service or protocol name']);
  });

  it("derives names that always pass, however long or odd the config name", () => {
    for (const n of ["iot", "a-b-c", "x".repeat(63), "9lives"]) {
      expect(aliasNameProblems(aliasName("net", n))).toEqual([]);
      expect(aliasNameProblems(aliasName("host", n))).toEqual([]);
    }
    expect(aliasName("host", "x".repeat(63))).toHaveLength(31);
    expect(aliasNameProblems(portAliasName(Array.from({ length: 40 }, (_, i) => String(1000 + i))))).toEqual(
      [],
    );
  });

  it("reports a clash of two owners of one alias name at the second config path", () => {
    const issues = new IssueList();
    const names = new AliasNames(issues);
    names.claim("net_iot", 'segment "iot"', ["segments", 3, "name"]);
    names.claim("net_iot", 'segment "iot"', ["segments", 3, "name"]);
    names.claim("net_iot", 'host "x"', ["hosts", 1, "name"]);
    names.claim("pass", "something", ["hosts", 2, "name"]);
    expect(issues.issues).toEqual([
      {
        path: "homelab:hosts[1].name",
        message: 'alias name "net_iot" is also derived for segment "iot"; rename one of them',
      },
      { path: "homelab:hosts[2].name", message: 'alias name "pass" is a reserved pf keyword' },
    ]);
  });

  it("caps descriptions at 255 bytes without line breaks (Base/FieldTypes/DescriptionField.php)", () => {
    expect(descriptionProblems("x".repeat(255))).toEqual([]);
    expect(descriptionProblems("x".repeat(256))[0]).toMatch(/256 bytes/);
    expect(descriptionProblems("é".repeat(128))[0]).toMatch(/256 bytes/);
    expect(descriptionProblems("a\nb")).toEqual([
      "contains a line break, which OPNsense descriptions refuse",
    ]);
  });

  it("refuses a flow reason that would make its rule's description too long, at the flow's path", () => {
    // The appended flow's index is the reference's flow count (two digits): " [iot/flow-NN]" is 14
    // bytes, so 242 bytes of reason are one too many.
    const n = (rawOf(networkFile()) as Raw).flows.length;
    expect(String(n)).toHaveLength(2);
    expect(
      errorsOf((r) => r.flows.push(flow("segment:iot", "internet", { reason: "r".repeat(242) }))),
    ).toEqual([
      `homelab:flows[${n}].reason: with the rule id appended (14 bytes) the reason is 256 bytes as an OPNsense description; the gateway takes at most 255`,
    ]);
    expect(
      errorsOf((r) => r.flows.push(flow("segment:iot", "internet", { reason: "r".repeat(241) }))),
    ).toEqual([]);
    // A flow from `any` lands on every segment and the tunnel: the longest label (management) counts.
    const fromAny = errorsOf((r) =>
      r.flows.push(flow("any", "internet", { reason: "r".repeat(240), protocol: "any" })),
    );
    expect(fromAny).toHaveLength(1);
    expect(fromAny[0]).toMatch(
      new RegExp(`^homelab:flows\\[${n}\\]\\.reason: with the rule id appended \\(21 bytes\\)`),
    );
    expect(errorsOf((r) => (r.segments[0].description = "d".repeat(250)))[0]).toMatch(
      /^homelab:segments\[0\]\.description:/,
    );
  });
});
