import { startDouble, type OpnsenseDouble } from "./double";
import { api, WG_KEYS } from "./helpers";

/**
 * The double must refuse what the real API refuses. Each case is a request the first double (written
 * from documentation) accepted or answered differently; the expected answer names the opnsense/core
 * file it comes from.
 */

const rule = (extra: Record<string, string> = {}) => ({
  rule: {
    action: "pass",
    interface: "lan",
    protocol: "TCP",
    source_net: "any",
    destination_net: "any",
    destination_port: "443",
    description: "a rule",
    ...extra,
  },
});

describe("routing, authentication and ACL (double of opnsense/core 26.7)", () => {
  let d: OpnsenseDouble;
  beforeAll(async () => {
    d = await startDouble({ version: "26.7" });
  });
  afterAll(() => d.close());

  it("answers an unknown endpoint with 404 Endpoint not found, even before authentication (www/api.php, Mvc/Dispatcher.php)", async () => {
    expect(await api(d, "GET", "firewall/nothing/search_item", undefined, { auth: false })).toEqual({
      status: 404,
      json: { errorMessage: "Endpoint not found" },
    });
    // A required parameter missing is a DispatchException too: set_rule needs the UUID.
    expect((await api(d, "POST", "firewall/filter/set_rule", rule())).status).toBe(404);
  });

  it("refuses bad credentials with 401 (Base/ApiControllerBase.php)", async () => {
    const r = await fetch(`${d.url}/api/firewall/alias/search_item`, {
      headers: { Authorization: `Basic ${Buffer.from("x:y").toString("base64")}` },
    });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ status: 401, message: "Authentication Failed" });
  });

  it("routes snake_case and camelCase to the same action (Mvc/Router.php parsePath)", async () => {
    expect((await api(d, "GET", "firewall/alias/search_item")).status).toBe(200);
    expect((await api(d, "GET", "firewall/alias/searchItem")).status).toBe(200);
  });

  it("answers a JSON POST without a body with 400 Invalid JSON syntax (ApiControllerBase::parseJsonBodyData)", async () => {
    expect(
      await api(d, "POST", "firewall/alias/reconfigure", undefined, {
        contentType: "application/json",
        rawBody: "",
      }),
    ).toEqual({
      status: 400,
      json: { status: 400, message: "Invalid JSON syntax" },
    });
  });
});

describe("a non-admin key (double of opnsense/core 26.1, ACL.xml privileges)", () => {
  let d: OpnsenseDouble;
  beforeAll(async () => {
    d = await startDouble({
      version: "26.1",
      privileges: ["page-services-dnsresolver-overrides", "page-diagnostics-logs-firewall-dynamic"],
    });
  });
  afterAll(() => d.close());

  it("is allowed the snake_case URL of its pattern and refused the camelCase one (Core/ACL.php urlMatch)", async () => {
    expect((await api(d, "GET", "unbound/settings/search_host_override")).status).toBe(200);
    expect((await api(d, "GET", "unbound/settings/searchHostOverride")).status).toBe(403);
    expect((await api(d, "GET", "diagnostics/interface/get_interface_names")).status).toBe(200);
    expect(await api(d, "GET", "diagnostics/interface/getInterfaceNames")).toEqual({
      status: 403,
      json: { status: 403, message: "Forbidden" },
    });
    // The reconfigure lives under another privilege (Services: Unbound, api/unbound/*).
    expect((await api(d, "POST", "unbound/service/reconfigure", {})).status).toBe(403);
  });
});

describe("versions", () => {
  it.each([
    ["25.7", 404],
    ["26.1", 200],
    ["26.7", 200],
  ] as const)(
    "%s: firewall/d_nat answers %d (Firewall/Api/DNatController.php exists from 26.1)",
    async (version, status) => {
      const d = await startDouble({ version });
      try {
        expect((await api(d, "GET", "firewall/d_nat/search_rule")).status).toBe(status);
        const fw = (await api(d, "GET", "core/firmware/status")).json as {
          product: { product_version: string };
        };
        expect(fw.product.product_version.startsWith(version)).toBe(true);
      } finally {
        await d.close();
      }
    },
  );
});

describe("model validation (double of opnsense/core 26.7)", () => {
  let d: OpnsenseDouble;
  beforeEach(async () => {
    d = await startDouble({ version: "26.7" });
  });
  afterEach(() => d.close());

  const failed = (json: unknown) => json as { result: string; validations?: Record<string, unknown> };

  it("refuses a filter rule on an interface that is not a key of <interfaces> (Base/FieldTypes/InterfaceField.php)", async () => {
    const r = await api(d, "POST", "firewall/filter/add_rule", rule({ interface: "iot" }));
    expect(failed(r.json)).toEqual({
      result: "failed",
      validations: { "rule.interface": "Option [iot] not in list." },
    });
    expect(failed((await api(d, "POST", "firewall/filter/add_rule", rule())).json).result).toBe("saved");
  });

  it("refuses the wireguard group until WireGuard is enabled and registered (wireguard.inc, ServiceController.php)", async () => {
    const onGroup = rule({ interface: "wireguard" });
    expect(failed((await api(d, "POST", "firewall/filter/add_rule", onGroup)).json).result).toBe("failed");
    expect((await api(d, "POST", "wireguard/general/set", { general: { enabled: "1" } })).json).toEqual({
      result: "saved",
    });
    // Enabled is not enough: the group is registered by the service reconfigure (pluginctl -i).
    expect(failed((await api(d, "POST", "firewall/filter/add_rule", onGroup)).json).result).toBe("failed");
    expect((await api(d, "POST", "wireguard/service/reconfigure", {})).json).toEqual({ result: "ok" });
    expect(failed((await api(d, "POST", "firewall/filter/add_rule", onGroup)).json).result).toBe("saved");
  });

  it("refuses ports on a rule that is not tcp or udp (Firewall/Filter.php, Firewall/DNat.php)", async () => {
    expect(
      failed((await api(d, "POST", "firewall/filter/add_rule", rule({ protocol: "ICMP" }))).json),
    ).toEqual({
      result: "failed",
      validations: { "rule.destination_port": "Destination ports are only valid for tcp or udp type rules." },
    });
    const nat = {
      rule: {
        interface: "wan",
        protocol: "icmp",
        destination: { network: "wanip", port: "443" },
        target: "10.0.0.5",
      },
    };
    expect(failed((await api(d, "POST", "firewall/d_nat/add_rule", nat)).json).validations).toEqual({
      "rule.destination.port": "Ports are only valid for TCP or UDP type rules.",
    });
  });

  it("refuses descriptions over 255 bytes or with a line break (Base/FieldTypes/DescriptionField.php)", async () => {
    const msg = "Description should be a string between 1 and 255 characters.";
    for (const description of ["x".repeat(256), "é".repeat(128), "two\nlines"])
      expect(
        failed((await api(d, "POST", "firewall/filter/add_rule", rule({ description }))).json).validations,
      ).toEqual({
        "rule.description": msg,
      });
    expect(
      failed((await api(d, "POST", "firewall/filter/add_rule", rule({ description: "x".repeat(255) }))).json)
        .result,
    ).toBe("saved");
  });

  it("refuses a rule naming an alias that does not exist (Base/FieldTypes/NetworkAliasField.php, PortField.php)", async () => {
    expect(
      failed((await api(d, "POST", "firewall/filter/add_rule", rule({ source_net: "net_iot" }))).json)
        .validations,
    ).toEqual({
      "rule.source_net": "net_iot is not a valid source IP address or alias.",
    });
    expect(
      failed((await api(d, "POST", "firewall/filter/add_rule", rule({ destination_port: "ports_x" }))).json)
        .validations,
    ).toEqual({
      "rule.destination_port": "Please specify a valid portnumber, name, alias or range.",
    });
  });

  it("validates alias names as AliasNameField.php does, and keeps them unique (Alias.xml UniqueConstraint)", async () => {
    const add = async (name: string) =>
      failed(
        (
          await api(d, "POST", "firewall/alias/add_item", {
            alias: { name, type: "host", content: "10.0.0.1" },
          })
        ).json,
      );
    const format =
      "The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores.";
    for (const name of ["1net", "__net", "a".repeat(32), "net-iot"])
      expect((await add(name)).validations).toEqual({ "alias.name": format });
    expect((await add("pass")).validations).toEqual({
      "alias.name": 'The name cannot be the internally reserved keyword "%s".',
    });
    expect((await add("ssh")).validations).toEqual({
      "alias.name": "Reserved protocol or service names may not be used",
    });
    expect((await add("bogons")).validations).toEqual({
      "alias.name": "An alias with this name already exists.",
    });
    expect((await add("a".repeat(31))).result).toBe("saved");
    expect((await add("a".repeat(31))).validations).toEqual({
      "alias.name": "An alias with this name already exists.",
    });
  });

  it("refuses port aliases written with '-' ranges (Firewall/FieldTypes/AliasContentField.php)", async () => {
    const r = await api(d, "POST", "firewall/alias/add_item", {
      alias: { name: "ports_x", type: "port", content: "80\n8000-8010" },
    });
    expect(failed(r.json).validations).toEqual({
      "alias.content": 'Entry "8000-8010" is not a valid port number.',
    });
    const ok = await api(d, "POST", "firewall/alias/add_item", {
      alias: { name: "ports_x", type: "port", content: "80\n8000:8010" },
    });
    expect(failed(ok.json).result).toBe("saved");
  });

  it("answers get_item with content as an option map that lists every other alias unselected (AliasController::getItemAction)", async () => {
    await api(d, "POST", "firewall/alias/add_item", {
      alias: { name: "other", type: "host", content: "10.0.0.9" },
    });
    const { json } = await api(d, "POST", "firewall/alias/add_item", {
      alias: { name: "mine", type: "host", content: "10.0.0.1\n10.0.0.2" },
    });
    const uuid = (json as { uuid: string }).uuid;
    const got = (await api(d, "GET", `firewall/alias/get_item/${uuid}`)).json as {
      alias: { content: Record<string, { selected: number }>; type: Record<string, unknown> };
    };
    expect(got.alias.content["10.0.0.1"]).toMatchObject({ selected: 1 });
    expect(got.alias.content["10.0.0.2"]).toMatchObject({ selected: 1 });
    expect(got.alias.content["other"]).toMatchObject({ selected: 0 });
    expect(got.alias.content["bogons"]).toMatchObject({ selected: 0 });
    expect(got.alias.type["host"]).toMatchObject({ selected: 1 });
  });

  it("answers get of an unknown UUID with [] (getBase), but the alias controller with 500 on 26.1 and a content map on 26.7", async () => {
    const unknown = "0b4c6a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21";
    expect((await api(d, "GET", `firewall/filter/get_rule/${unknown}`)).json).toEqual([]);
    const on267 = await api(d, "GET", `firewall/alias/get_item/${unknown}`);
    expect(on267.status).toBe(200);
    expect(on267.json).toMatchObject({ alias: { content: { bogons: { selected: 0 } } } });
    expect((on267.json as { alias: Record<string, unknown> }).alias).not.toHaveProperty("name");
    const old = await startDouble({ version: "26.1" });
    try {
      expect(await api(old, "GET", `firewall/alias/get_item/${unknown}`)).toEqual({
        status: 500,
        json: { errorMessage: "Unexpected error, check log for details" },
      });
    } finally {
      await old.close();
    }
  });

  it("treats set on an unknown well-formed UUID as an upsert, and a malformed one as failed (ApiMutableModelControllerBase::setBase)", async () => {
    const unknown = "0b4c6a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21";
    expect((await api(d, "POST", `firewall/filter/set_rule/${unknown}`, rule())).json).toEqual({
      result: "saved",
    });
    expect(Object.keys(d.objects("firewall/filter"))).toEqual([unknown]);
    expect((await api(d, "POST", "firewall/filter/set_rule/not-a-uuid", rule())).json).toEqual({
      result: "failed",
    });
  });

  it("refuses to delete an alias still in use with HTTP 500 and the controller's message (AliasController::delItemAction)", async () => {
    const { json } = await api(d, "POST", "firewall/alias/add_item", {
      alias: { name: "net_iot", type: "network", content: "10.0.40.0/24" },
    });
    await api(d, "POST", "firewall/filter/add_rule", rule({ source_net: "net_iot" }));
    const r = await api(d, "POST", `firewall/alias/del_item/${(json as { uuid: string }).uuid}`, {});
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ errorTitle: "Alias in use", errorLevel: "error" });
    expect((r.json as { errorMessage: string }).errorMessage).toMatch(
      /^Cannot delete alias net_iot\. Currently in use by/,
    );
  });

  it("keeps VLAN devices and tags unique and refuses to delete an assigned one (Vlan.xml, VlanSettingsController.php)", async () => {
    const add = async (vlan: Record<string, string>) =>
      (await api(d, "POST", "interfaces/vlan_settings/add_item", { vlan })).json;
    const first = await add({ if: "igc1", tag: "40", vlanif: "vlan0.40" });
    expect(first).toMatchObject({ result: "saved" });
    expect(await add({ if: "igc1", tag: "40", vlanif: "vlan0.41" })).toEqual({
      result: "failed",
      validations: { "vlan.tag": "Tag for this device must be unique." },
    });
    expect(await add({ if: "igc1", tag: "41", vlanif: "vlan0.40" })).toEqual({
      result: "failed",
      validations: { "vlan.vlanif": "The device name must be unique." },
    });
    expect(await add({ if: "igc1", tag: "5000", vlanif: "vlan0.42" })).toEqual({
      result: "failed",
      validations: { "vlan.tag": "Invalid integer value." },
    });
    expect(await add({ if: "igc1", tag: "43", vlanif: "eth43" })).toMatchObject({
      validations: { "vlan.vlanif": 'The device name prefix "vlan" is required.' },
    });
    d.interfaces()["opt1"] = { if: "vlan0.40", descr: "IoT", enable: "1" };
    const uuid = (first as { uuid: string }).uuid;
    const del = await api(d, "POST", `interfaces/vlan_settings/del_item/${uuid}`, {});
    expect(del.status).toBe(500);
    expect(del.json).toMatchObject({
      errorMessage: "This VLAN cannot be deleted because it is assigned as an interface.",
    });
    // The search shows the assignment in the device name.
    const rows = (
      (await api(d, "GET", "interfaces/vlan_settings/search_item")).json as { rows: { vlanif: string }[] }
    ).rows;
    expect(rows.map((r) => r.vlanif)).toEqual(["vlan0.40 [IoT]"]);
  });

  it("answers wireguard/service/reconfigure with {result: ok}, not {status} (Wireguard/Api/ServiceController.php)", async () => {
    expect((await api(d, "POST", "wireguard/service/reconfigure", {})).json).toEqual({ result: "ok" });
    expect((await api(d, "POST", "unbound/service/reconfigure", {})).json).toEqual({ status: "ok" });
    expect((await api(d, "POST", "firewall/filter/apply", {})).json).toEqual({ status: "OK\n\n" });
  });

  it("detaches a client from its server when set_client omits servers (ClientController::setClientAction)", async () => {
    const server = (
      (
        await api(d, "POST", "wireguard/server/add_server", {
          server: {
            name: "wg0",
            privkey: WG_KEYS.serverPrivate,
            tunneladdress: "10.99.0.1/24",
            port: "51820",
          },
        })
      ).json as { uuid: string }
    ).uuid;
    const client = { name: "laptop", pubkey: WG_KEYS.peerPublic, tunneladdress: "10.99.0.2/32" };
    const added = (
      await api(d, "POST", "wireguard/client/add_client", { client: { ...client, servers: server } })
    ).json as { uuid: string };
    expect(d.objects("wireguard/server")[server]!["peers"]).toBe(added.uuid);
    const got = (await api(d, "GET", `wireguard/client/get_client/${added.uuid}`)).json as {
      client: { servers: Record<string, { selected: number }> };
    };
    expect(got.client.servers[server]).toMatchObject({ selected: 1 });
    // An address change without `servers` is saved... and the peer is gone from the server.
    expect(
      (
        await api(d, "POST", `wireguard/client/set_client/${added.uuid}`, {
          client: { ...client, tunneladdress: "10.99.0.3/32" },
        })
      ).json,
    ).toEqual({
      result: "saved",
    });
    expect(d.objects("wireguard/server")[server]!["peers"]).toBe("");
  });

  it("refuses WireGuard keys that are not base64 and duplicate public keys (Base64Field.php, Client.xml UniqueConstraint)", async () => {
    // The first double's samples: "SERVER-PRIVATE-KEY-aaaa...=" and "PEER-PUBLIC-KEY=".
    const server = await api(d, "POST", "wireguard/server/add_server", {
      server: {
        name: "wg0",
        privkey: "SERVER-PRIVATE-KEY-aaaaaaaaaaaaaaaaaaaa=",
        tunneladdress: "10.99.0.1/24",
      },
    });
    expect(failed(server.json).validations).toEqual({ "server.privkey": "A private key is required." });
    const bad = await api(d, "POST", "wireguard/client/add_client", {
      client: { name: "p", pubkey: "PEER-PUBLIC-KEY=", tunneladdress: "10.99.0.2/32" },
    });
    expect(failed(bad.json).validations).toEqual({ "client.pubkey": "Invalid Base64-encoded string." });
    const peer = { name: "p", pubkey: WG_KEYS.peerPublic, tunneladdress: "10.99.0.2/32" };
    expect(failed((await api(d, "POST", "wireguard/client/add_client", { client: peer })).json).result).toBe(
      "saved",
    );
    expect(
      failed((await api(d, "POST", "wireguard/client/add_client", { client: { ...peer, name: "q" } })).json)
        .validations,
    ).toEqual({
      "client.pubkey": "Public keys should be unique.",
    });
    // Client.xml: the tunnel address needs its prefix.
    const noMask = await api(d, "POST", "wireguard/client/add_client", {
      client: { name: "r", pubkey: WG_KEYS.otherPeerPublic, tunneladdress: "10.99.0.4" },
    });
    expect(failed(noMask.json).validations).toEqual({
      "client.tunneladdress": "Please specify a valid network segment or IP address.",
    });
  });

  it("keeps a configuration history, and a revert restores the whole config.xml (Core/Api/BackupController.php)", async () => {
    const before = d.history().at(-1)!;
    await api(d, "POST", "unbound/settings/add_host_override", {
      host: { hostname: "a", domain: "lab.example", server: "10.0.0.1" },
    });
    await api(d, "POST", "firewall/filter/add_rule", rule());
    expect(d.history()).toHaveLength(3);
    const list = (await api(d, "GET", "core/backup/backups/this")).json as { items: { id: string }[] };
    expect(list.items[0]!.id).toBe(d.history().at(-1));
    expect((await api(d, "POST", `core/backup/revert_backup/${before}`, {})).json).toEqual({
      status: "reverted",
    });
    // Both the rule and the unrelated host override are gone: the revert is not selective.
    expect(d.objects("firewall/filter")).toEqual({});
    expect(d.objects("unbound/settings")).toEqual({});
  });
});
