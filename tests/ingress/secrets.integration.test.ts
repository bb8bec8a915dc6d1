import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../fixtures/reference";
import { tsRunner } from "../support/ts-runner";

/** The program runs in its own process: Pulumi's runtime is process-global (see the script's header). */
function underMocks(): Record<string, unknown> {
  const r = spawnSync(...tsRunner(join(__dirname, "programs", "secrets-under-mocks.ts")), {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 90_000,
  });
  if (r.status !== 0) throw new Error(`program under mocks failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe("ingress TLS bundle and WireGuard peer configs are secret (Pulumi mocks)", () => {
  let facts: Record<string, unknown>;
  beforeAll(() => {
    facts = underMocks();
  }, 100_000);

  it("registers Ingress.files as a secret output that holds the certificate + key bundle", () => {
    expect(facts["filesSecret"]).toBe(true);
    expect(facts["pemHoldsCertAndKey"]).toBe(true);
    expect(facts["filePaths"]).toEqual([
      "/fast/apps/authelia/configuration.yml",
      "/fast/apps/haproxy/certs/ingress.pem",
      "/fast/apps/haproxy/haproxy.cfg",
      "/fast/apps/haproxy/lua/authelia-forward-auth.lua",
    ]);
  });

  it("keeps the readable outputs (haproxyConfig, autheliaConfig) free of key material", () => {
    expect(facts["haproxyConfigPlain"]).toBe(true);
    expect(facts["plainHoldsKeyMaterial"]).toBe(false);
  });

  it("exports wireguardPeerConfigs as a secret with each peer's own key and the derived server key", () => {
    expect(facts).toMatchObject({
      peerConfigsSecret: true,
      peers: ["admin-laptop", "admin-phone"],
      laptopHasItsPrivateKey: true,
      phoneHasItsPrivateKey: true,
      serverPublicKeyDerived: true,
      allowedIps: ["AllowedIPs = 10.0.10.0/24, 10.0.20.0/24, 10.0.99.0/24"],
    });
  });
});
