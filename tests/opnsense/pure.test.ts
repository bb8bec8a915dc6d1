import { canonicalBody, diffProps, type ObjectProps } from "../../components/opnsense/diff";
import { ENDPOINTS, KINDS, MIN_SERIES, SYSTEM } from "../../components/opnsense/endpoints";
import { createWriteLock } from "../../components/opnsense/lock";
import { urlProblem } from "../../components/opnsense/provider";
import { atLeast, parseFirmwareStatus } from "../../components/opnsense/version";
import { redactor } from "../../analysis/text/redact";
import {
  addRequest,
  apiUrl,
  basicAuth,
  delRequest,
  getRequest,
  revertBackupRequest,
  searchRequest,
  setRequest,
} from "../../components/opnsense/requests";
import {
  findByKey,
  parseApplied,
  parseDeleted,
  parseGet,
  parseNewestBackup,
  parseSaved,
  parseSearchRows,
  project,
} from "../../components/opnsense/responses";
import { backoffDelay, isTransient, withRetry } from "../../components/opnsense/retry";

const UUID = "0b4c6a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21";

describe("OPNsense request building (pure)", () => {
  it("wraps the body in the kind's node, writes the key into its key field and stringifies values", () => {
    const r = addRequest("vlan", "vlan0.40", {
      if: "igc1",
      tag: 20,
      pcp: undefined,
      ports: ["80", 443],
      log: true,
    });
    expect(r).toEqual({
      method: "POST",
      path: "interfaces/vlan_settings/add_item",
      body: {
        vlan: { if: "igc1", tag: "20", pcp: "", ports: "80,443", log: "1", vlanif: "vlan0.40" },
      },
    });
  });

  it("puts UUIDs in the path and refuses anything that is not one", () => {
    expect(getRequest("filterRule", UUID.toUpperCase()).path).toBe(`firewall/filter/get_rule/${UUID}`);
    expect(setRequest("portForward", UUID, "k", {}).path).toBe(`firewall/d_nat/set_rule/${UUID}`);
    expect(delRequest("wireguardPeer", UUID)).toMatchObject({
      method: "POST",
      path: `wireguard/client/del_client/${UUID}`,
      body: {},
    });
    expect(() => getRequest("alias", "../../core/firmware/poweroff")).toThrow(/not an OPNsense UUID/);
    expect(() => revertBackupRequest("../config.xml")).toThrow(/not a backup id/);
  });

  it("keeps nested containers nested (d_nat source/destination)", () => {
    const r = addRequest("portForward", "pf:https", {
      destination: { network: "wanip", port: 443 },
      target: "10.0.10.5",
    });
    expect((r.body as Record<string, unknown>)["rule"]).toEqual({
      destination: { network: "wanip", port: "443" },
      target: "10.0.10.5",
      descr: "pf:https",
    });
  });

  it("searches all rows without a phrase, so the exact key comparison is ours", () => {
    expect(searchRequest("unboundHostOverride")).toEqual({
      method: "POST",
      path: "unbound/settings/search_host_override",
      body: { current: 1, rowCount: -1, searchPhrase: "" },
    });
  });

  it("addresses the API root whether or not the URL already ends in /api", () => {
    expect(apiUrl("https://fw.lan", "firewall/alias/search_item")).toBe(
      "https://fw.lan/api/firewall/alias/search_item",
    );
    expect(apiUrl("https://fw.lan:8443/api/", "x/y/z")).toBe("https://fw.lan:8443/api/x/y/z");
    expect(basicAuth("k", "s")).toBe(`Basic ${Buffer.from("k:s").toString("base64")}`);
  });

  it("has a complete endpoint table: every kind has all commands, a wrapper, a key field and an apply", () => {
    for (const kind of KINDS) {
      const e = ENDPOINTS[kind];
      for (const v of [e.base, e.search, e.get, e.add, e.set, e.del, e.wrapper, e.keyField, e.apply])
        expect(v).toMatch(/\S/);
      // snake_case: the form non-admin ACL patterns match (Core/ACL.php is case-sensitive).
      for (const path of [e.base, e.search, e.get, e.add, e.set, e.del, e.apply])
        expect(path).toMatch(/^[a-z_/]+$/);
    }
    for (const path of Object.values(SYSTEM)) expect(path).toMatch(/^[a-z_/]+$/);
    expect(KINDS.filter((k) => ENDPOINTS[k].firewall).sort()).toEqual([
      "alias",
      "filterRule",
      "portForward",
      "vlan",
    ]);
  });
});

describe("OPNsense response parsing (pure)", () => {
  it("adopts only an exact key match with a real UUID, and refuses to guess between duplicates", () => {
    const rows = parseSearchRows({
      rows: [
        { uuid: "lockout_0", description: "k" },
        { uuid: UUID, description: "k" },
        { uuid: "1b4c6a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21", description: "k-other" },
      ],
    });
    expect(findByKey("filterRule", rows, "k")).toBe(UUID);
    expect(findByKey("filterRule", rows, "missing")).toBeUndefined();
    const dup = [...rows, { uuid: "2b4c6a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21", description: "k" }];
    expect(() => findByKey("filterRule", dup, "k")).toThrow(/2 filterRule objects carry the key "k"/);
  });

  it("flattens get option maps to the selected keys, drops %display copies, and treats [] as no object", () => {
    const fields = parseGet("filterRule", {
      rule: {
        action: { pass: { value: "Pass", selected: 1 }, block: { value: "Block", selected: 0 } },
        interface: {
          lan: { value: "LAN", selected: 1 },
          opt1: { value: "IOT", selected: "1" },
          wan: { value: "WAN", selected: 0 },
        },
        description: "k",
        "%description": "shown",
        source: { net: "any" },
      },
    });
    expect(fields).toEqual({
      action: "pass",
      interface: "lan,opt1",
      description: "k",
      source: { net: "any" },
    });
    expect(parseGet("filterRule", [])).toBeUndefined();
    expect(parseGet("filterRule", { rule: {} })).toBeUndefined();
    // AliasController::getItemAction (26.7) on an unknown UUID: only the other aliases, no object.
    expect(
      parseGet("alias", { alias: { content: { bogons: { value: "bogons", selected: 0 } } } }),
    ).toBeUndefined();
    expect(project(fields!, { action: "block", source: { net: "x" }, absent: "1" })).toEqual({
      action: "pass",
      source: { net: "any" },
    });
  });

  it("reports the model's validations and distinguishes deleted from gone", () => {
    expect(parseSaved("vlan", "k", { result: "saved", uuid: UUID })).toEqual({ uuid: UUID });
    expect(() =>
      parseSaved("vlan", "k", { result: "failed", validations: { "vlan.tag": "out of range" } }),
    ).toThrow('OPNsense did not save vlan "k": vlan.tag: out of range');
    expect(parseDeleted({ result: "deleted" })).toBe("deleted");
    expect(parseDeleted({ result: "not found" })).toBe("gone");
    expect(() => parseApplied("firewall/filter/apply", "status", { status: "failed" })).toThrow(
      /did not apply/,
    );
    expect(() => parseApplied("firewall/filter/apply", "status", { status: "Error (1)\n\n" })).toThrow(
      /did not apply/,
    );
    expect(() => parseApplied("x", "status", { status: "OK\n\n" })).not.toThrow();
    // wireguard/service/reconfigure answers {result: "ok"} (Wireguard/Api/ServiceController.php).
    expect(() => parseApplied("wireguard/service/reconfigure", "result", { result: "ok" })).not.toThrow();
    expect(() => parseApplied("wireguard/service/reconfigure", "status", { result: "ok" })).toThrow(
      /did not apply/,
    );
  });

  it("picks the newest configuration revision", () => {
    expect(
      parseNewestBackup({
        items: [
          { id: "config-1.xml", time: "1" },
          { id: "config-3.xml", time: "3" },
          { id: "config-2.xml", time: "2" },
        ],
      }),
    ).toBe("config-3.xml");
    expect(parseNewestBackup({ items: [] })).toBeUndefined();
  });
});

describe("OPNsense alias content read back (pure)", () => {
  it("reads content as its selected entries joined by newline, ignoring the other aliases listed", () => {
    const fields = parseGet("alias", {
      alias: {
        name: "iot_hosts",
        type: { host: { value: "Host(s)", selected: 1 }, network: { value: "Network(s)", selected: 0 } },
        content: {
          "10.0.20.10": { value: "10.0.20.10", selected: 1 },
          "10.0.20.11": { value: "10.0.20.11", selected: 1 },
          bogons: { value: "bogons", selected: 0, description: "bogon networks (internal)" },
        },
      },
    })!;
    expect(project(fields, { type: "host", content: "10.0.20.10\n10.0.20.11" })).toEqual({
      type: "host",
      content: "10.0.20.10\n10.0.20.11",
    });
    expect(canonicalBody(project(fields, { type: "", content: "" }))).toBe(
      canonicalBody({ type: "host", content: "10.0.20.10\n10.0.20.11" }),
    );
  });
});

describe("OPNsense version gate (pure)", () => {
  it("reads the series from core/firmware/status and compares numerically", () => {
    expect(parseFirmwareStatus({ product: { product_version: "26.1.4_2", product_series: "26.1" } })).toEqual(
      {
        version: "26.1.4_2",
        series: { major: 26, minor: 1 },
      },
    );
    expect(parseFirmwareStatus({ product: { product_version: "26.10" } }).series).toEqual({
      major: 26,
      minor: 10,
    });
    expect(atLeast({ major: 26, minor: 7 }, MIN_SERIES)).toBe(true);
    expect(atLeast({ major: 25, minor: 7 }, MIN_SERIES)).toBe(false);
    expect(atLeast({ major: 27, minor: 1 }, MIN_SERIES)).toBe(true);
    expect(() =>
      parseFirmwareStatus({ status: "error", status_msg: "Firmware status check was aborted internally." }),
    ).toThrow(/did not report the gateway's version: Firmware status check was aborted internally/);
  });
});

describe("OPNsense URL rule (pure)", () => {
  it("takes https anywhere and plain http only on loopback", () => {
    expect(urlProblem("https://10.0.10.1")).toBeUndefined();
    expect(urlProblem("http://127.0.0.1:8080")).toBeUndefined();
    expect(urlProblem("http://[::1]:8080")).toBeUndefined();
    expect(urlProblem("http://10.0.10.1")).toMatch(/clear text/);
    expect(urlProblem("ftp://10.0.10.1")).toMatch(/clear text/);
    expect(urlProblem("fw.lan")).toMatch(/https address/);
  });
});

describe("OPNsense write lock (pure)", () => {
  it("runs shared writes together and an exclusive one alone, first come first served", async () => {
    const lock = createWriteLock();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = lock.shared(async () => {
      log.push("a+");
      await gate;
      log.push("a-");
    });
    const b = lock.exclusive(async () => void log.push("b"));
    const c = lock.shared(async () => void log.push("c"));
    await new Promise((r) => setTimeout(r, 5));
    // b waits for a; c (shared, but after b) waits for b.
    expect(log).toEqual(["a+"]);
    release();
    await Promise.all([a, b, c]);
    expect(log).toEqual(["a+", "a-", "b", "c"]);
    await expect(lock.exclusive(async () => Promise.reject(new Error("x")))).rejects.toThrow("x");
    await expect(lock.shared(async () => "next")).resolves.toBe("next");
  });
});

describe("OPNsense diff (pure)", () => {
  const base: ObjectProps = {
    url: "https://fw",
    apiKey: "k",
    apiSecret: "s",
    kind: "alias",
    key: "lan_hosts",
    body: { type: "host", content: "10.0.0.1" },
  };

  it("sees no change when values only differ in representation", () => {
    expect(canonicalBody({ a: true, b: 1, c: ["x", "y"] })).toBe(canonicalBody({ c: "x,y", b: "1", a: "1" }));
    expect(diffProps(base, { ...base, body: { content: "10.0.0.1", type: "host" } })).toEqual({
      changes: false,
      replaces: [],
      remote: [],
    });
  });

  it("replaces only when the kind changes; body, key and url update in place", () => {
    expect(diffProps(base, { ...base, kind: "filterRule" }).replaces).toEqual(["kind"]);
    expect(diffProps(base, { ...base, key: "other", body: { type: "network" }, url: "https://fw2" })).toEqual(
      {
        changes: true,
        replaces: [],
        remote: ["key", "body", "url"],
      },
    );
  });

  it("treats rotated credentials as a state-only update", () => {
    expect(diffProps(base, { ...base, apiSecret: "new" })).toEqual({
      changes: true,
      replaces: [],
      remote: [],
    });
  });
});

describe("OPNsense retry policy (pure)", () => {
  it("retries gateway errors and connection failures only", () => {
    for (const status of [502, 503, 504]) expect(isTransient({ status })).toBe(true);
    for (const status of [400, 401, 404, 500]) expect(isTransient({ status })).toBe(false);
    for (const code of ["ECONNRESET", "ETIMEDOUT", "ECONNREFUSED"]) expect(isTransient({ code })).toBe(true);
    expect(isTransient(new Error("validation"))).toBe(false);
  });

  it("backs off exponentially with bounded jitter", () => {
    const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, policy, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
  });

  it("stops at the attempt limit and on the first permanent error", async () => {
    const sleeps: number[] = [];
    const hooks = { sleep: async (ms: number) => void sleeps.push(ms) };
    let n = 0;
    await expect(
      withRetry(
        async () => {
          n++;
          throw Object.assign(new Error("busy"), { status: 503 });
        },
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
        hooks,
      ),
    ).rejects.toThrow("busy");
    expect(n).toBe(3);
    expect(sleeps).toHaveLength(2);
    n = 0;
    await expect(
      withRetry(
        async () => {
          n++;
          throw Object.assign(new Error("nope"), { status: 400 });
        },
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
        hooks,
      ),
    ).rejects.toThrow("nope");
    expect(n).toBe(1);
  });
});

describe("OPNsense secret redaction (pure)", () => {
  it("scrubs raw, URL-encoded and basic-auth forms", () => {
    const scrub = redactor(["my key+/=", "s3cr3t value"]);
    const token = Buffer.from("my key+/=:s3cr3t value").toString("base64");
    const out = scrub(`k=my key+/= e=${encodeURIComponent("s3cr3t value")} auth=Basic ${token}`);
    expect(out).toBe("k=[secret] e=[secret] auth=Basic [secret]");
  });
});
