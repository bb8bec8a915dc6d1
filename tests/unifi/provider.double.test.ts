import { startUnifiDouble, type UnifiDouble } from "./double";
import { idOfName, inputs, network, PASSPHRASE, rawSession, testProvider, where, wlan } from "./helpers";

/**
 * The UniFi provider against the loopback double of the controller API (tests/unifi/double.ts, built
 * from paultyng/go-unifi, ubiquiti-community/go-unifi and paultyng/terraform-provider-unifi).
 */

let d: UnifiDouble;
beforeEach(async () => {
  d = await startUnifiDouble();
});
afterEach(() => d.close());

/** Creates the segment networks the other kinds refer to. */
async function networks(p: ReturnType<typeof testProvider>["provider"], list: [string, number][]) {
  for (const [name, vlan] of list) await p.create(inputs(d, "network", name, network(name, vlan)));
}

describe("networks (double of the UniFi controller, classic and UniFi OS)", () => {
  it("creates a vlan-only network with vlan_enabled, logging in the classic way", async () => {
    const { provider } = testProvider();
    const r = await provider.create(inputs(d, "network", "iot", network("iot", 40)));
    expect(d.objects("networkconf")[r.id]).toMatchObject({
      name: "iot",
      purpose: "vlan-only",
      vlan: 40,
      vlan_enabled: true,
    });
    expect(d.calls.slice(0, 2).map((c) => `${c.method} ${c.path}`)).toEqual(["GET /", "POST /api/login"]);
    expect(d.calls.some((c) => c.path === "/api/s/default/rest/networkconf" && c.method === "POST")).toBe(
      true,
    );
  });

  it("speaks UniFi OS when GET / answers 200: /api/auth/login, /proxy/network paths and the CSRF header", async () => {
    const os = await startUnifiDouble({ style: "unifi-os" });
    try {
      const { provider } = testProvider();
      const r = await provider.create(inputs(os, "network", "iot", network("iot", 40)));
      expect(os.objects("networkconf")[r.id]).toMatchObject({ name: "iot", vlan: 40 });
      const paths = os.calls.map((c) => c.path);
      expect(paths).toContain("/api/auth/login");
      expect(paths).toContain("/proxy/network/api/s/default/rest/networkconf");
    } finally {
      await os.close();
    }
  });

  it("adopts a network of the same name made by hand instead of adding a second one", async () => {
    const byHand = d.seed("networkconf", { name: "iot", purpose: "vlan-only", vlan: 41, vlan_enabled: true });
    const { provider, logs } = testProvider();
    const r = await provider.create(inputs(d, "network", "iot", network("iot", 40)));
    expect(r.id).toBe(byHand);
    expect(where(d, "networkconf", "name", "iot")).toHaveLength(1);
    expect(d.objects("networkconf")[byHand]).toMatchObject({ vlan: 40 });
    expect(logs.join("\n")).toMatch(/adopted existing network "iot"/);
  });

  it("stops on two objects with the key, naming both ids", async () => {
    const a = d.seed("networkconf", { name: "iot", purpose: "vlan-only", vlan: 41, vlan_enabled: true });
    const b = d.seed("networkconf", { name: "iot", purpose: "vlan-only", vlan: 42, vlan_enabled: true });
    const { provider } = testProvider();
    await expect(provider.create(inputs(d, "network", "iot", network("iot", 40)))).rejects.toThrow(
      new RegExp(`network "iot" exists 2 times on the controller \\(${a}, ${b}\\)`),
    );
  });

  it("reports the controller's refusal of a VLAN in use", async () => {
    const { provider } = testProvider();
    await provider.create(inputs(d, "network", "iot", network("iot", 40)));
    await expect(provider.create(inputs(d, "network", "cams", network("cams", 40)))).rejects.toThrow(
      /POST \/api\/s\/default\/rest\/networkconf: HTTP 400 api\.err\.VlanUsed/,
    );
  });

  it("reads drift back: a VLAN changed by hand shows in the body; a deleted network is gone", async () => {
    const { provider } = testProvider();
    const created = await provider.create(inputs(d, "network", "iot", network("iot", 40)));
    d.objects("networkconf")[created.id]!["vlan"] = 44;
    const read = await provider.read(created.id, created.outs!);
    expect(read.props).toMatchObject({ body: { name: "iot", vlan: 44 } });
    delete d.objects("networkconf")[created.id];
    expect((await provider.read(created.id, created.outs!)).id).toBe("");
  });
});

describe("Wi-Fi networks", () => {
  it("binds an SSID to its segment's network with WPA2/WPA3 transition, the default user and AP groups", async () => {
    const { provider } = testProvider();
    await networks(provider, [["trusted", 30]]);
    const r = await provider.create(inputs(d, "wlan", "homelab", wlan("homelab", "trusted"), PASSPHRASE));
    expect(d.objects("wlanconf")[r.id]).toMatchObject({
      name: "homelab",
      networkconf_id: idOfName(d, "networkconf", "trusted"),
      security: "wpapsk",
      wpa3_support: true,
      wpa3_transition: true,
      pmf_mode: "optional",
      x_passphrase: PASSPHRASE,
      usergroup_id: d.defaults.userGroup,
      ap_group_ids: [d.defaults.apGroup],
      is_guest: false,
    });
    expect(d.calls.some((c) => c.path === "/v2/api/site/default/apgroups")).toBe(true);
  });

  it("an open guest SSID is a guest network with client isolation and no passphrase", async () => {
    const { provider } = testProvider();
    await networks(provider, [["guest", 60]]);
    const body = wlan("visitors", "guest", { security: "open", purpose: "guest" });
    const r = await provider.create(inputs(d, "wlan", "visitors", body));
    const w = d.objects("wlanconf")[r.id]!;
    expect(w).toMatchObject({ security: "open", is_guest: true, l2_isolation: true });
    expect(w["x_passphrase"]).toBeUndefined();
  });

  it("changes the passphrase in place and keeps fields set by hand (the whole object is written back)", async () => {
    const { provider } = testProvider();
    await networks(provider, [["iot", 40]]);
    const first = inputs(
      d,
      "wlan",
      "things",
      wlan("things", "iot", { security: "wpa2", band: "2g" }),
      PASSPHRASE,
    );
    const r = await provider.create(first);
    d.objects("wlanconf")[r.id]!["minrate_ng_enabled"] = true; // set in the controller's UI
    const next = { ...first, passphrase: "another long passphrase" };
    const diff = await provider.diff(r.id, r.outs!, next);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    await provider.update(r.id, r.outs!, next);
    expect(d.objects("wlanconf")[r.id]).toMatchObject({
      x_passphrase: "another long passphrase",
      minrate_ng_enabled: true,
      wlan_band: "2g",
    });
    expect(where(d, "wlanconf", "name", "things")).toHaveLength(1);
  });

  it("reads the SSID back in our terms, passphrase included (a secret output)", async () => {
    const { provider } = testProvider();
    await networks(provider, [["iot", 40]]);
    const r = await provider.create(
      inputs(d, "wlan", "things", wlan("things", "iot", { security: "wpa3" }), PASSPHRASE),
    );
    const read = await provider.read(r.id, r.outs!);
    expect(read.props).toMatchObject({
      body: { ssid: "things", network: "iot", security: "wpa3", band: "both", hidden: false },
      passphrase: PASSPHRASE,
    });
  });

  it("check refuses a passphrase the controller would refuse, without printing it", async () => {
    const { provider } = testProvider();
    const short = "short77";
    const c = await provider.check({}, inputs(d, "wlan", "x", wlan("x", "iot"), short));
    expect(c.failures).toEqual([
      {
        property: "body",
        reason: "the passphrase must be 8-255 printable ASCII characters or 64 hex digits",
      },
    ]);
    expect(JSON.stringify(c.failures)).not.toContain(short);
  });
});

describe("port profiles and switch ports", () => {
  it("a trunk excludes every network it does not tag (9.x excluded_networkconf_ids), an access port blocks all", async () => {
    const { provider } = testProvider();
    await networks(provider, [
      ["management", 10],
      ["trusted", 30],
      ["iot", 40],
      ["guest", 60],
    ]);
    const trunk = {
      name: "ap-trunk",
      native: "management",
      tagged: ["trusted", "iot"],
      poe: "auto" as const,
      isolation: false,
    };
    const t = await provider.create(inputs(d, "portProfile", "ap-trunk", trunk));
    const id = (n: string) => idOfName(d, "networkconf", n);
    expect(d.objects("portconf")[t.id]).toMatchObject({
      forward: "customize",
      native_networkconf_id: id("management"),
      tagged_vlan_mgmt: "custom",
    });
    expect([...(d.objects("portconf")[t.id]!["excluded_networkconf_ids"] as string[])].sort()).toEqual(
      [id("Default"), id("guest")].sort(),
    );
    const access = { name: "camera", native: "iot", tagged: [], poe: "auto" as const, isolation: true };
    const a = await provider.create(inputs(d, "portProfile", "camera", access));
    expect(d.objects("portconf")[a.id]).toMatchObject({ tagged_vlan_mgmt: "block_all", isolation: true });
    expect((await provider.read(t.id, t.outs!)).props).toMatchObject({ body: trunk });
  });

  it("a network added later by hand is tagged on a custom trunk: refresh shows it as drift", async () => {
    const { provider } = testProvider();
    await networks(provider, [
      ["management", 10],
      ["trusted", 30],
    ]);
    const trunk = {
      name: "ap-trunk",
      native: "management",
      tagged: ["trusted"],
      poe: "auto" as const,
      isolation: false,
    };
    const t = await provider.create(inputs(d, "portProfile", "ap-trunk", trunk));
    d.seed("networkconf", { name: "lab", purpose: "vlan-only", vlan: 70, vlan_enabled: true });
    const read = await provider.read(t.id, t.outs!);
    expect(read.props).toMatchObject({ body: { tagged: ["trusted", "lab"] } });
    const diff = await provider.diff(t.id, read.props!, inputs(d, "portProfile", "ap-trunk", trunk));
    expect(diff.changes).toBe(true);
  });

  it("sets only the ports it manages; ports set by hand keep their override; removed ports are released", async () => {
    const { provider } = testProvider();
    await networks(provider, [
      ["management", 10],
      ["iot", 40],
    ]);
    const prof = await provider.create(
      inputs(d, "portProfile", "camera", {
        name: "camera",
        native: "iot",
        tagged: [],
        poe: "auto" as const,
        isolation: false,
      }),
    );
    const handProfile = d.seed("portconf", { name: "by-hand", forward: "all" });
    const sw = d.seed("device", {
      mac: "f4:92:bf:00:00:01",
      type: "usw",
      name: "core",
      adopted: true,
      port_overrides: [{ port_idx: 8, portconf_id: handProfile }],
    });
    const body = {
      name: "core",
      mac: "f4:92:bf:00:00:01",
      ports: [1, 2].map((port) => ({ port, profile: "camera" })),
    };
    const r = await provider.create(inputs(d, "switchPorts", "f4:92:bf:00:00:01", body));
    expect(r.id).toBe(sw);
    const overrides = () =>
      d.objects("device")[sw]!["port_overrides"] as { port_idx: number; portconf_id: string }[];
    expect(overrides()).toEqual([
      { port_idx: 1, portconf_id: prof.id },
      { port_idx: 2, portconf_id: prof.id },
      { port_idx: 8, portconf_id: handProfile },
    ]);
    expect(d.objects("device")[sw]).toMatchObject({ name: "core", type: "usw" });

    const fewer = inputs(d, "switchPorts", "f4:92:bf:00:00:01", {
      ...body,
      ports: [{ port: 1, profile: "camera" }],
    });
    await provider.update(r.id, r.outs!, fewer);
    expect(overrides().map((o) => o.port_idx)).toEqual([1, 8]);
    await provider.delete(r.id, { ...fewer, objectId: r.id });
    expect(overrides().map((o) => o.port_idx)).toEqual([8]);
  });

  it("a switch the controller has not adopted is an error that says so", async () => {
    const { provider } = testProvider();
    const body = { name: "core", mac: "f4:92:bf:00:00:09", ports: [{ port: 1, profile: "camera" }] };
    await expect(provider.create(inputs(d, "switchPorts", "f4:92:bf:00:00:09", body))).rejects.toThrow(
      /switch core \(f4:92:bf:00:00:09\) is not adopted by the controller/,
    );
  });
});

describe("retries, sessions and secrets", () => {
  it("a create whose reply is lost is adopted on the retry, never added twice", async () => {
    const { provider, logs } = testProvider();
    await networks(provider, [["iot", 40]]);
    d.inject({ match: /\/rest\/wlanconf$/, method: "POST", fault: 503, times: 1, afterHandling: true });
    const r = await provider.create(inputs(d, "wlan", "things", wlan("things", "iot"), PASSPHRASE));
    expect(where(d, "wlanconf", "name", "things")).toHaveLength(1);
    expect(r.id).toBe(idOfName(d, "wlanconf", "things"));
    expect(logs.join("\n")).toMatch(/creating wlan "things" failed .*searching again/);
  });

  it("retries reads through 502/503 and connection resets", async () => {
    const { provider } = testProvider();
    d.inject({ match: /\/rest\/networkconf$/, method: "GET", fault: 502, times: 1 });
    d.inject({ match: /\/rest\/networkconf$/, method: "GET", fault: "reset", times: 1 });
    await expect(provider.create(inputs(d, "network", "iot", network("iot", 40)))).resolves.toBeDefined();
  });

  it("logs in again when the session expires mid-run", async () => {
    const { provider, logs } = testProvider();
    const r = await provider.create(inputs(d, "network", "iot", network("iot", 40)));
    d.expireSessions();
    await provider.update(r.id, r.outs!, inputs(d, "network", "iot", network("iot", 41)));
    expect(d.objects("networkconf")[r.id]).toMatchObject({ vlan: 41 });
    // The provider opens a session per operation; within one, a 401 leads to one new login.
    d.inject({ match: /\/rest\/networkconf\/.+/, method: "GET", fault: 401, times: 1 });
    await provider.update(
      r.id,
      { ...r.outs!, body: network("iot", 41) },
      inputs(d, "network", "iot", network("iot", 42)),
    );
    expect(logs.join("\n")).toMatch(/session expired, logging in again/);
    expect(d.objects("networkconf")[r.id]).toMatchObject({ vlan: 42 });
  });

  it("a refused login names the fix and never the password", async () => {
    const { provider } = testProvider();
    const bad = { ...inputs(d, "network", "iot", network("iot", 40)), password: "wrong-password-123" };
    const err = await provider.create(bad).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /HTTP 400 api\.err\.Invalid: the controller refused the login; use a local admin without two-factor/,
    );
    expect((err as Error).message).not.toContain("wrong-password-123");
  });

  it("scrubs the passphrase, the password and the session from errors and logs, even when the controller echoes them", async () => {
    const { provider, logs } = testProvider();
    await networks(provider, [["iot", 40]]);
    d.inject({
      match: /\/rest\/wlanconf$/,
      method: "POST",
      fault: 500,
      body: JSON.stringify({ echo: { x_passphrase: PASSPHRASE, password: d.password } }),
    });
    const err = await provider
      .create(inputs(d, "wlan", "things", wlan("things", "iot"), PASSPHRASE))
      .catch((e: Error) => e);
    const text = `${(err as Error).message}\n${logs.join("\n")}`;
    expect((err as Error).message).toMatch(/HTTP 500/);
    expect(text).toContain("[secret]");
    expect(text).not.toContain(PASSPHRASE);
    expect(text).not.toContain(d.password);
  });
});

describe("the double refuses what the controller refuses (requests a careless client would send)", () => {
  it("VLAN ids outside 2-4018, a vlan without vlan_enabled, an unknown purpose", async () => {
    const call = await rawSession(d);
    const post = (b: Record<string, unknown>) => call("POST", "rest/networkconf", b);
    expect(
      (await post({ name: "x", purpose: "vlan-only", vlan: 4050, vlan_enabled: true })).json.meta,
    ).toEqual({
      rc: "error",
      msg: "api.err.InvalidPayload",
    });
    expect((await post({ name: "x", purpose: "vlan-only", vlan: 40 })).json.meta.msg).toBe(
      "api.err.VlanUsed",
    );
    expect((await post({ name: "x", purpose: "lan", vlan: 40, vlan_enabled: true })).status).toBe(400);
    expect((await post({ name: "x", purpose: "vlan-only", vlan: 40, vlan_enabled: true })).status).toBe(200);
  });

  it("a WLAN without AP group, with a short passphrase, or WPA3 without PMF required", async () => {
    const call = await rawSession(d);
    const net = (
      await call("POST", "rest/networkconf", {
        name: "iot",
        purpose: "vlan-only",
        vlan: 40,
        vlan_enabled: true,
      })
    ).json.data[0]!["_id"];
    const base = {
      name: "things",
      networkconf_id: net,
      security: "wpapsk",
      wpa_mode: "wpa2",
      x_passphrase: PASSPHRASE,
      usergroup_id: d.defaults.userGroup,
      ap_group_ids: [d.defaults.apGroup],
    };
    const post = (over: Record<string, unknown>) => call("POST", "rest/wlanconf", { ...base, ...over });
    expect((await post({ ap_group_ids: undefined })).json.meta.msg).toBe("api.err.ApGroupMissing");
    expect((await post({ x_passphrase: "seven77" })).status).toBe(400);
    expect((await post({ name: "a-name-that-is-longer-than-32-bytes!" })).status).toBe(400);
    expect((await post({ wpa3_support: true, pmf_mode: "optional" })).status).toBe(400);
    expect((await post({ wpa3_support: true, wpa3_transition: true, pmf_mode: "disabled" })).status).toBe(
      400,
    );
    expect((await post({ wlan_band: "6g" })).status).toBe(400);
    expect((await post({ wpa3_support: true, pmf_mode: "required" })).status).toBe(200);
  });

  it("ignores the pre-7.4 tagged_networkconf_ids, refuses port 57 and unknown profiles, and requires a login", async () => {
    const call = await rawSession(d);
    const saved = (
      await call("POST", "rest/portconf", {
        name: "old-style",
        forward: "customize",
        tagged_networkconf_ids: ["x"],
      })
    ).json.data[0]!;
    expect(saved["tagged_networkconf_ids"]).toBeUndefined();
    const sw = d.seed("device", { mac: "f4:92:bf:00:00:01", port_overrides: [] });
    const put = (o: Record<string, unknown>) => call("PUT", `rest/device/${sw}`, { port_overrides: [o] });
    expect((await put({ port_idx: 57, portconf_id: saved["_id"] })).status).toBe(400);
    expect((await put({ port_idx: 1, portconf_id: "0123456789abcdef01234567" })).status).toBe(400);
    expect((await put({ port_idx: 1, portconf_id: saved["_id"] })).status).toBe(200);
    const anonymous = await fetch(`${d.url}/api/s/default/rest/wlanconf`);
    expect(anonymous.status).toBe(401);
    expect((await call("GET", "../nosuchsite/rest/wlanconf")).status).toBeGreaterThanOrEqual(400);
  });
});
