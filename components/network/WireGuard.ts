import * as pulumi from "@pulumi/pulumi";
import type { NetworkModel } from "../../model";
import type { SecretResolver } from "../context";
import type { OpnsenseConnection } from "../opnsense/connection";

export interface WireGuardArgs {
  model: NetworkModel;
  opnsense: OpnsenseConnection;
  secrets: SecretResolver;
}

/** WireGuard server on the gateway and admin peers routed to management only (issue 3). */
export class WireGuard extends pulumi.ComponentResource {
  /** Client configs per peer; secret because they hold the peers' private keys. */
  readonly peerConfigs: pulumi.Output<Record<string, string>>;
  constructor(name: string, args: WireGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:network:WireGuard", name, {}, opts);
    this.peerConfigs = pulumi.secret<Record<string, string>>({});
    void args;
    this.registerOutputs({ peerConfigs: this.peerConfigs });
  }
}
