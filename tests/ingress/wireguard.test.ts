import {
  isWireGuardKey,
  peerAllowedIps,
  peerBody,
  renderPeerConfig,
  serverBody,
  wireGuardPublicKey,
} from "../../analysis/wireguard";
import { resolveNetwork } from "../../model";
import { allSecretsSet, networkFile } from "../fixtures/reference";
import { wgKeyPair } from "./support";

const hex64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");

describe("WireGuard keys", () => {
  it("derives the public key as X25519 does (RFC 7748 section 6.1 vector)", () => {
    const alicePrivate = hex64("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const alicePublic = hex64("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    expect(wireGuardPublicKey(alicePrivate)).toBe(alicePublic);
  });

  it("agrees with Node's own key generation and rejects non-keys without echoing them", () => {
    const pair = wgKeyPair();
    expect(wireGuardPublicKey(pair.privateKey)).toBe(pair.publicKey);
    expect(isWireGuardKey("plan-secret-wireguardServerPrivateKey")).toBe(false);
    expect(() => wireGuardPublicKey("hunter2")).toThrow(/not a WireGuard private key/);
    try {
      wireGuardPublicKey("hunter2");
    } catch (e) {
      expect(String(e)).not.toContain("hunter2");
    }
  });
});

describe("peer client configs", () => {
  const model = resolveNetwork(networkFile().raw, allSecretsSet);
  const server = wgKeyPair();
  const peer = wgKeyPair();
  const psk = wgKeyPair().privateKey; // any 32 random bytes, as wg genpsk prints them
  const input = {
    name: "admin-laptop",
    address: "10.0.99.2",
    privateKey: peer.privateKey,
    publicKey: peer.publicKey,
    presharedKey: psk,
    serverPublicKey: server.publicKey,
    endpoint: model.config.wireguard.endpoint,
    listenPort: model.config.wireguard.listenPort,
    allowedIps: peerAllowedIps(model),
  };

  it("routes management, what wireguard flows reach, and the tunnel: never everything", () => {
    // The reference flows let the tunnel reach management and (SSH/web consoles) the servers segment.
    expect(peerAllowedIps(model)).toEqual(["10.0.10.0/24", "10.0.20.0/24", "10.0.99.0/24"]);
    const conf = renderPeerConfig(input);
    const allowed = conf.split("\n").filter((l) => l.startsWith("AllowedIPs"));
    expect(allowed).toEqual(["AllowedIPs = 10.0.10.0/24, 10.0.20.0/24, 10.0.99.0/24"]);
    expect(conf).not.toContain("0.0.0.0/0");
    expect(conf).not.toContain("10.0.30.0/24");
  });

  it("renders interface and peer sections from the keys", () => {
    expect(renderPeerConfig(input)).toBe(
      [
        '# homelab admin peer "admin-laptop": routes only what the tunnel may reach.',
        "[Interface]",
        `PrivateKey = ${peer.privateKey}`,
        "Address = 10.0.99.2/32",
        "",
        "[Peer]",
        `PublicKey = ${server.publicKey}`,
        `PresharedKey = ${psk}`,
        "Endpoint = vpn.home.example.net:51820",
        "AllowedIPs = 10.0.10.0/24, 10.0.20.0/24, 10.0.99.0/24",
        "PersistentKeepalive = 25",
        "",
      ].join("\n"),
    );
  });

  it("refuses a private key that does not belong to the configured public key, without leaking it", () => {
    const other = wgKeyPair();
    expect(() => renderPeerConfig({ ...input, privateKey: other.privateKey })).toThrow(
      /does not belong to the configured publicKey/,
    );
    try {
      renderPeerConfig({ ...input, privateKey: other.privateKey });
    } catch (e) {
      expect(String(e)).not.toContain(other.privateKey);
    }
  });
});

describe("OPNsense WireGuard bodies", () => {
  it("describes the instance with its key, port and tunnel address, leaving its peers to the peers", () => {
    expect(
      serverBody({
        privateKey: "PRIV",
        publicKey: "PUB",
        listenPort: 51820,
        tunnelAddress: "10.0.99.1/24",
      }),
    ).toEqual({
      enabled: "1",
      name: "homelab-admin",
      privkey: "PRIV",
      pubkey: "PUB",
      port: "51820",
      tunneladdress: "10.0.99.1/24",
      disableroutes: "0",
    });
  });

  it("pins each peer to its own /32, always names its instance, and carries the preshared key only when configured", () => {
    expect(peerBody({ name: "admin-phone", publicKey: "K", address: "10.0.99.3", server: "S-UUID" })).toEqual(
      {
        enabled: "1",
        name: "admin-phone",
        pubkey: "K",
        tunneladdress: "10.0.99.3/32",
        servers: "S-UUID",
      },
    );
    expect(
      peerBody({ name: "p", publicKey: "K", address: "10.0.99.4", presharedKey: "PSK", server: "S-UUID" }),
    ).toMatchObject({ psk: "PSK", servers: "S-UUID" });
  });
});
