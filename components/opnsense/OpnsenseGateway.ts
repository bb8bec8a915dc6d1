import * as pulumi from "@pulumi/pulumi";
import type { OpnsenseConnection } from "./connection";
import type { GatewayExpectation } from "./gateway";
import { connectionInputs } from "./OpnsenseObject";
import { GATEWAY_KIND, opnsenseProvider } from "./provider";
import { DYNAMIC } from "../../model/facts";

/**
 * The preflight every OPNsense object depends on: the gateway's version (26.1 or later), every segment's
 * interface key (bound by key, or looked up by description), the WAN interface, and WireGuard switched
 * on for the `wireguard` group. Its check and diff only read, so a preview shows a missing interface or
 * an old gateway as an error before anything is written; its create/update also switches WireGuard on.
 */
export class OpnsenseGateway extends pulumi.dynamic.Resource {
  /** Segment name to interface key (`lan`, `optN`). Unknown in a preview before the first deployment. */
  declare readonly interfaces: pulumi.Output<Record<string, string>>;
  /** Segment name to the VLAN device assigned to it. */
  declare readonly devices: pulumi.Output<Record<string, string>>;
  declare readonly version: pulumi.Output<string>;

  constructor(
    name: string,
    args: { connection: OpnsenseConnection; expect: GatewayExpectation },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      opnsenseProvider,
      name,
      {
        ...connectionInputs(args.connection),
        kind: GATEWAY_KIND,
        key: GATEWAY_KIND,
        body: args.expect,
        interfaces: undefined,
        devices: undefined,
        version: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiKey", "apiSecret"] },
      DYNAMIC.opnsenseGateway.module,
      DYNAMIC.opnsenseGateway.type,
    );
  }
}
