import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../fixtures/reference";

/** The access-network policy (policy.test.ts) through the plan CLI, in a child process as a user runs it. */
describe("access-network in the plan", () => {
  it("`npm run plan` exits 1 with the violation when the config moves the guest SSID", () => {
    const text = readFileSync(join(ROOT, "Pulumi.network.yaml"), "utf8");
    // The guest SSID moves from the guest segment's list into the trusted segment's.
    const moved = text
      .replace(/\n\s*wifi:\s*\[\s*\{\s*ssid: homelab-guest,[^\]]*\],/, "")
      .replace(
        "wifi: [{ ssid: homelab, security: wpa2-wpa3, passphrase: { secret: wifiHomelabPassphrase } }],",
        "wifi:\n          [\n            { ssid: homelab, security: wpa2-wpa3, passphrase: { secret: wifiHomelabPassphrase } },\n            { ssid: homelab-guest, security: wpa2-wpa3, purpose: guest, passphrase: { secret: wifiGuestPassphrase } },\n          ],",
      );
    expect(moved).not.toBe(text);
    const path = join(mkdtempSync(join(tmpdir(), "access-plan-")), "Pulumi.network.yaml");
    writeFileSync(path, moved);
    const r = spawnSync(
      process.execPath,
      ["tools/run.js", "tools/plan.ts", "--stack", "network", "--config", path],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 90_000,
      },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(
      '[mandatory] access-network: pulumi-nodejs:dynamic/unifi:Object::wlan-homelab-guest: guest SSID "homelab-guest" lands on segment trusted (trust trusted)',
    );
    expect(r.stdout).toContain("homelab-guest → trusted (VLAN 30), trust trusted: guest");
    expect(r.status).toBe(1);
  });
});
