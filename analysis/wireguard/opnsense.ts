/**
 * Bodies for OPNsense's WireGuard API (core since 24.1): wireguard/server/add_server|set_server
 * ({ server: ... }, model OPNsense/Wireguard/Server.xml) and wireguard/client/add_client|set_client
 * ({ client: ... }, Client.xml). OPNsense calls the local instance "server" and a remote peer "client".
 * Booleans and numbers are strings, lists are comma-separated, as the MVC fields take them.
 * Generic over the value type so secret Pulumi Outputs can stand in for keys without this module
 * importing Pulumi.
 */

/** The WireGuard instance's name on the gateway (Server.xml allows [0-9a-zA-Z._-]{1,64}). */
export const SERVER_NAME = "homelab-admin";

export interface ServerBodyInput<S> {
  privateKey: S;
  publicKey: S;
  listenPort: number;
  /** The gateway's tunnel address with the tunnel prefix, e.g. 10.0.99.1/24. */
  tunnelAddress: string;
}

/**
 * No `peers`: which peers belong to the instance is written through each peer's `servers`
 * (Wireguard/Api/ClientController.php setClientAction rewrites every server's `peers` from it), and
 * setBase only changes the fields it is sent, so an update of the instance keeps its peers.
 */
export const serverBody = <S>(s: ServerBodyInput<S>) => ({
  enabled: "1",
  name: SERVER_NAME,
  privkey: s.privateKey,
  pubkey: s.publicKey,
  port: String(s.listenPort),
  tunneladdress: s.tunnelAddress,
  // OPNsense installs routes for the peers' tunnel addresses itself; no gateway override needed.
  disableroutes: "0",
});

export interface PeerBodyInput<S> {
  name: string;
  publicKey: string;
  address: string;
  presharedKey?: S;
  /** UUID of the instance the peer belongs to. */
  server: S;
}

/**
 * The gateway side of an admin peer: it may only source its own /32 (WireGuard's cryptokey routing).
 * `servers` is always sent: setClientAction treats a missing one as "no server" and removes the peer
 * from every instance (Wireguard/Api/ClientController.php, every tag from 24.1 to 26.7.2).
 */
export const peerBody = <S>(p: PeerBodyInput<S>) => ({
  enabled: "1",
  name: p.name,
  pubkey: p.publicKey,
  tunneladdress: `${p.address}/32`,
  servers: p.server,
  ...(p.presharedKey !== undefined ? { psk: p.presharedKey } : {}),
});
