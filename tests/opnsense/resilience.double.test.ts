import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDouble, type OpnsenseDouble } from "./double";
import { callsTo, inputs, SAMPLES, testProvider } from "./helpers";

/** Retries, the safe-apply restore path and secret hygiene, against the loopback HTTP double. */
describe("OPNsense provider failure handling against the loopback HTTP double", () => {
  let double: OpnsenseDouble;
  beforeEach(async () => {
    double = await startDouble();
  });
  afterEach(() => double.close());

  describe("retries on transient errors without duplicating objects", () => {
    it("retries a 503 on search and on set", async () => {
      const { provider, logs } = testProvider();
      double.inject({ match: /search_host_override$/, fault: 503, times: 2 });
      const created = await provider.create(inputs(double, "unboundHostOverride"));
      expect(Object.keys(double.objects("unbound/settings"))).toEqual([created.id]);
      expect(callsTo(double, /search_host_override$/)).toBe(3);
      expect(logs.filter((l) => /HTTP 503/.test(l))).toHaveLength(2);

      double.inject({ match: /set_host_override\//, fault: 503, times: 1 });
      await provider.update(
        created.id,
        created.outs,
        inputs(double, "unboundHostOverride", SAMPLES.unboundHostOverride.changed),
      );
      expect(double.objects("unbound/settings")[created.id]).toMatchObject({ server: "10.0.10.6" });
    });

    it.each([
      ["a 503", 503],
      ["a connection reset", "reset"],
      ["no answer at all", "hang"],
    ] as const)("adopts what an add created when its reply was lost to %s", async (_what, fault) => {
      const { provider } = testProvider();
      double.inject({ match: /add_rule$/, fault, times: 1, afterHandling: true });
      const created = await provider.create(inputs(double, "filterRule"));
      // The lost add did create the rule; the retry searched, found it by key and did not add again.
      expect(Object.keys(double.objects("firewall/filter"))).toEqual([created.id]);
      expect(callsTo(double, /add_rule$/)).toBe(1);
      expect(callsTo(double, /search_rule$/)).toBe(2);
    });

    it("gives up after the policy's attempts with the HTTP status in the error", async () => {
      const { provider } = testProvider();
      double.inject({ match: /search_server$/, fault: 502 });
      await expect(provider.create(inputs(double, "wireguardServer"))).rejects.toThrow(
        /POST \/api\/wireguard\/server\/search_server: HTTP 502/,
      );
      expect(callsTo(double, /search_server$/)).toBeGreaterThanOrEqual(4);
      expect(double.objects("wireguard/server")).toEqual({});
    });
  });

  describe("safe apply of firewall changes", () => {
    it("reverts to the revision taken before the change when the API stops answering after apply", async () => {
      const { provider, logs } = testProvider();
      const before = double.history().at(-1)!;
      double.inject({
        match: /^diagnostics\/interface\/get_interface_names$/,
        fault: "hang",
        activateAfter: /filter\/apply$/,
      });
      await expect(provider.create(inputs(double, "filterRule"))).rejects.toThrow(
        new RegExp(
          `safe apply: the API at ${double.url} stopped answering .* after applying filterRule .*` +
            `Reverted the configuration to revision ${before.replace(/\./g, "\\.")}`,
        ),
      );
      expect(double.reverted).toEqual([before]);
      // The rule is gone again and the old ruleset was applied once more.
      expect(double.objects("firewall/filter")).toEqual({});
      expect(double.applied).toEqual(["firewall/filter/apply", "firewall/filter/apply"]);
      expect(logs.some((l) => /unreachable after applying filterRule/.test(l))).toBe(true);
    });

    it("keeps the previous body when an update cuts the management path", async () => {
      const { provider } = testProvider();
      const created = await provider.create(inputs(double, "portForward"));
      double.inject({ match: /get_interface_names$/, fault: 504, activateAfter: /d_nat\/apply$/ });
      await expect(
        provider.update(created.id, created.outs, inputs(double, "portForward", SAMPLES.portForward.changed)),
      ).rejects.toThrow(/Reverted the configuration/);
      expect(double.objects("firewall/d_nat")[created.id]).toMatchObject({
        destination: { network: "wanip", port: "443" },
      });
    });

    it("explains console recovery and keeps a private copy when the revert cannot reach the firewall either", async () => {
      const { provider, backupDir } = testProvider();
      const before = double.history().at(-1)!;
      double.inject({ match: /.*/, fault: "hang", activateAfter: /vlan_settings\/reconfigure$/ });
      const error = await provider.create(inputs(double, "vlan")).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/automatic revert to revision .* failed/);
      expect(error?.message).toContain(`menu "Restore a backup" and pick ${before}`);
      const copy = join(backupDir, `127.0.0.1_${new URL(double.url).port}-${before}`);
      expect(error?.message).toContain(copy);
      expect(readFileSync(copy, "utf8")).toMatch(/^<\?xml[^]*<opnsense>/);
      expect(statSync(copy).mode & 0o777).toBe(0o600);
      expect(double.reverted).toEqual([]);
    });

    it("does not probe or revert for kinds that cannot cut the management path", async () => {
      const { provider } = testProvider();
      double.inject({ match: /get_interface_names$/, fault: "hang" });
      await provider.create(inputs(double, "wireguardPeer"));
      expect(callsTo(double, /get_interface_names$|core\/backup/)).toBe(0);
    });

    it("refuses a firewall change when there is no revision to return to", async () => {
      const { provider } = testProvider();
      double.inject({ match: /core\/backup\/download/, fault: 404 });
      await expect(provider.create(inputs(double, "alias"))).rejects.toThrow(/HTTP 404/);
      expect(callsTo(double, /add_item$/)).toBe(0);
    });

    it("runs firewall changes one at a time so a revert cannot undo a neighbour's change", async () => {
      const { provider } = testProvider();
      const order: string[] = [];
      const keys = ["a1", "a2", "a3"];
      await Promise.all(
        keys.map((k) =>
          provider
            .create(inputs(double, "alias", SAMPLES.alias.body, `alias_${k}`))
            .then(() => order.push(k)),
        ),
      );
      const paths = double.calls
        .map((c) => c.path)
        .filter((p) => /backups\/this|add_item|reconfigure/.test(p));
      expect(paths).toEqual(
        keys.flatMap(() => [
          "core/backup/backups/this",
          "firewall/alias/add_item",
          "firewall/alias/reconfigure",
        ]),
      );
    });
  });

  describe("writes while a firewall change is open", () => {
    it("keeps a parallel non-firewall change when a firewall change is reverted, and says what the revert undid", async () => {
      const { provider } = testProvider();
      double.inject({
        match: /^diagnostics\/interface\/get_interface_names$/,
        fault: "hang",
        activateAfter: /filter\/apply$/,
      });
      const firewall = provider.create(inputs(double, "filterRule")).then(
        () => undefined,
        (e: Error) => e,
      );
      // Started while the rule's window is open: it must not land inside it, where the revert would undo it.
      await new Promise((r) => setTimeout(r, 5));
      const dns = provider.create(inputs(double, "unboundHostOverride"));
      const [error, created] = await Promise.all([firewall, dns]);
      expect(error?.message).toMatch(
        /Reverted the configuration to revision config-.*the change was not kept/,
      );
      expect(error?.message).toMatch(/The revert undid 1 revision\(s\) saved since config-/);
      expect(double.objects("firewall/filter")).toEqual({});
      // The override exists, as the state the engine records for it says.
      expect(Object.keys(double.objects("unbound/settings"))).toEqual([created.id]);
      const paths = double.calls.map((c) => c.path);
      expect(paths.indexOf("unbound/settings/add_host_override")).toBeGreaterThan(
        paths.lastIndexOf("firewall/filter/apply"),
      );
    });

    it("lists changes made by someone else inside the window among what the revert undid", async () => {
      const { provider } = testProvider();
      double.inject({
        match: /^diagnostics\/interface\/get_interface_names$/,
        fault: "hang",
        activateAfter: /filter\/apply$/,
      });
      double.inject({
        match: /^firewall\/filter\/apply$/,
        fault: 200,
        afterHandling: true,
        times: 1,
        // Someone edits an alias in the GUI just after our apply; the reply itself is the real one.
        body: () => {
          double.seed("firewall/alias", { name: "by_hand", type: "host", content: "10.0.0.1" });
          return JSON.stringify({ status: "OK\n\n" });
        },
      });
      const error = await provider.create(inputs(double, "filterRule")).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/The revert undid 2 revision\(s\) saved since .*made by hand/);
      expect(double.objects("firewall/alias")).toEqual({});
    });
  });

  describe("local copies of the revision a change may revert to", () => {
    it("are written 0600 into a 0700 directory and pruned to the newest ones per gateway", async () => {
      const dir = join(mkdtempSync(join(tmpdir(), "opnsense-keep-")), "copies");
      const { provider } = testProvider({ backupDir: dir, backupsKept: 2 });
      for (const k of ["a1", "a2", "a3", "a4"])
        await provider.create(inputs(double, "alias", SAMPLES.alias.body, `alias_${k}`));
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const files = readdirSync(dir).sort();
      // Revisions: the install's, then one per alias; each change copied the newest one before it.
      const host = `127.0.0.1_${new URL(double.url).port}`;
      expect(files).toEqual(
        double
          .history()
          .slice(2, 4)
          .map((id) => `${host}-${id}`),
      );
      for (const f of files) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    });

    it("tightens an existing directory to 0700", async () => {
      const dir = mkdtempSync(join(tmpdir(), "opnsense-loose-"));
      chmodSync(dir, 0o755);
      const { provider } = testProvider({ backupDir: dir });
      await provider.create(inputs(double, "alias"));
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    });

    it("stop a create when no copy can be kept, but only warn for a delete", async () => {
      const parent = mkdtempSync(join(tmpdir(), "opnsense-blocked-"));
      const blocked = join(parent, "file-not-dir");
      writeFileSync(blocked, "x");
      const ok = testProvider();
      const created = await ok.provider.create(inputs(double, "alias"));
      const { provider, logs } = testProvider({ backupDir: blocked });
      await expect(provider.create(inputs(double, "filterRule"))).rejects.toThrow(
        /refusing to create filterRule .*could not keep a copy of revision .*HOMELAB_OPNSENSE_BACKUP_DIR/,
      );
      expect(double.objects("firewall/filter")).toEqual({});
      await provider.delete(created.id, created.outs);
      expect(double.objects("firewall/alias")).toEqual({});
      expect(logs.some((l) => /warning: could not keep a copy .*deleting alias/.test(l))).toBe(true);
    });
  });

  describe("secret hygiene", () => {
    const secretsOf = (d: OpnsenseDouble) => [
      d.apiKey,
      d.apiSecret,
      Buffer.from(`${d.apiKey}:${d.apiSecret}`).toString("base64"),
    ];

    it("keeps the key, the secret and the auth token out of errors and logs, even when the server echoes them", async () => {
      const { provider, logs } = testProvider();
      double.inject({
        match: /search_item$/,
        fault: 503,
        times: 2,
        body: (req) =>
          `debug: authorization=${req.headers.authorization} key=${double.apiKey} secret=${double.apiSecret}`,
      });
      double.inject({
        match: /add_item$/,
        fault: 500,
        body: (req) => `echo ${req.headers.authorization} ${double.apiKey}:${double.apiSecret}`,
      });
      const error = await provider.create(inputs(double, "alias")).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/HTTP 500 echo Basic \[secret\] \[secret\]:\[secret\]/);
      expect(logs.length).toBeGreaterThan(0);
      for (const text of [error!.message, error!.stack ?? "", ...logs])
        for (const secret of secretsOf(double)) expect(text).not.toContain(secret);
    });

    it("keeps WireGuard key material in the body out of errors", async () => {
      const { provider } = testProvider();
      const privkey = SAMPLES.wireguardServer.body["privkey"] as string;
      double.inject({ match: /add_server$/, fault: 500, body: () => `invalid privkey ${privkey}` });
      const error = await provider.create(inputs(double, "wireguardServer")).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toContain("invalid privkey [secret]");
      expect(error?.message).not.toContain(privkey);
    });

    it("says the credentials were refused without repeating them", async () => {
      const { provider } = testProvider();
      const wrong = { ...inputs(double, "unboundHostOverride"), apiSecret: "wrong-secret-value" };
      const error = await provider.create(wrong).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/HTTP 401, the API key\/secret was refused/);
      expect(error?.message).not.toContain("wrong-secret-value");
      // The first call (the version check) is refused and not repeated.
      expect(double.calls.map((c) => [c.path, c.status])).toEqual([["core/firmware/status", 401]]);
    });
  });
});
