import * as pulumi from "@pulumi/pulumi";
import {
  peerAllowedIps,
  peerBody,
  renderPeerConfig,
  serverBody,
  SERVER_NAME,
  wireGuardPublicKey,
} from "../../analysis/wireguard";
import type { NetworkModel } from "../../model";
import type { SecretResolver } from "../context";
import { OpnsenseObject } from "../opnsense/OpnsenseObject";
import type { OpnsenseConnection } from "../opnsense/connection";
import { FACT_TYPES } from "../../model/facts";

export interface WireGuardArgs {
  model: NetworkModel;
  opnsense: OpnsenseConnection;
  secrets: SecretResolver;
}

/**
 * Key checks need the secret values. A real update must stop on a malformed or mismatched key; a preview
 * (and the offline plan, which feeds placeholder strings for every secret) gets a placeholder instead, so
 * it can still show the whole graph.
 */
function checkedOrPreview<T>(compute: () => T, placeholder: T): T {
  try {
    return compute();
  } catch (e) {
    if (!pulumi.runtime.isDryRun()) throw e;
    return placeholder;
  }
}

/** WireGuard server on the gateway and admin peers routed to management only. */
export class WireGuard extends pulumi.ComponentResource {
  /** Client configs per peer; secret because they hold the peers' private keys. */
  readonly peerConfigs: pulumi.Output<Record<string, string>>;
  readonly server: OpnsenseObject;
  readonly peers: OpnsenseObject[];

  constructor(name: string, args: WireGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.wireGuard, name, {}, opts);
    const { model, opnsense, secrets } = args;
    const wg = model.config.wireguard;
    const serverKey = secrets(wg.privateKey);
    // Derived, not configured: a second config value could disagree with the private key. It stays a
    // secret Output only because it is computed from one; nothing else about it is sensitive.
    const serverPublicKey = serverKey.apply((k) => checkedOrPreview(() => wireGuardPublicKey(k), ""));

    // The instance first; each peer names it in `servers`, which is how OPNsense attaches a peer
    // (ClientController::setClientAction rewrites the instances' `peers` from it on every add/set).
    const prefix = wg.tunnelCidr.split("/")[1];
    this.server = new OpnsenseObject(
      `${name}-server`,
      {
        connection: opnsense,
        kind: "wireguardServer",
        key: SERVER_NAME,
        body: serverBody({
          privateKey: serverKey,
          publicKey: serverPublicKey,
          listenPort: wg.listenPort,
          tunnelAddress: `${wg.serverAddress}/${prefix}`,
        }),
      },
      { parent: this },
    );
    this.peers = wg.peers.map(
      (p) =>
        new OpnsenseObject(
          `${name}-peer-${p.name}`,
          {
            connection: opnsense,
            kind: "wireguardPeer",
            key: p.name,
            body: peerBody({
              name: p.name,
              publicKey: p.publicKey,
              address: p.address,
              server: this.server.uuid,
              ...(p.presharedKey ? { presharedKey: secrets(p.presharedKey) } : {}),
            }),
          },
          // Deleted before the instance (delClient also takes the peer out of the instance's list).
          { parent: this, dependsOn: [this.server] },
        ),
    );

    const allowedIps = peerAllowedIps(model);
    const configs = wg.peers.map((p) =>
      pulumi
        .all([secrets(p.privateKey), p.presharedKey ? secrets(p.presharedKey) : undefined, serverPublicKey])
        .apply(([privateKey, presharedKey, serverPub]): [string, string] => [
          p.name,
          checkedOrPreview(
            () =>
              renderPeerConfig({
                name: p.name,
                address: p.address,
                privateKey: privateKey.trim(),
                publicKey: p.publicKey,
                ...(presharedKey !== undefined ? { presharedKey: presharedKey.trim() } : {}),
                serverPublicKey: serverPub,
                endpoint: wg.endpoint,
                listenPort: wg.listenPort,
                allowedIps,
              }),
            "# rendered at update time\n",
          ),
        ]),
    );
    this.peerConfigs = pulumi.secret(
      pulumi.all(configs).apply((entries): Record<string, string> => Object.fromEntries(entries)),
    );
    this.registerOutputs({ peerConfigs: this.peerConfigs });
  }
}
