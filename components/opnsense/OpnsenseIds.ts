import * as pulumi from "@pulumi/pulumi";
import type { OpnsenseConnection } from "./connection";
import type { IdsBody } from "../../model/ids";
import type { IdsApplied } from "./ids";
import { connectionInputs } from "./OpnsenseObject";
import { IDS_KIND, opnsenseProvider } from "./provider";
import { DYNAMIC } from "../../model/facts";

/**
 * Suricata on the gateway (Services > Intrusion Detection): the settings, the enabled rulesets and the
 * rule update job, through the same provider as every other OPNsense object (version check, write lock,
 * read before set). One per gateway; deleting it switches intrusion detection off. See docs/ids.md.
 */
export class OpnsenseIds extends pulumi.dynamic.Resource {
  /** What the gateway has after the last create, update or refresh. */
  declare readonly applied: pulumi.Output<IdsApplied>;
  /** `netmap` (IPS) or `pcap` (IDS): decided at apply from the NICs' netmap support. */
  declare readonly effectiveMode: pulumi.Output<"pcap" | "netmap">;
  /** Devices that lacked native netmap when IPS was asked for. */
  declare readonly ipsUnsupported: pulumi.Output<string[]>;

  constructor(
    name: string,
    args: { connection: OpnsenseConnection; body: pulumi.Input<IdsBody> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      opnsenseProvider,
      name,
      {
        ...connectionInputs(args.connection),
        kind: IDS_KIND,
        key: IDS_KIND,
        body: args.body,
        applied: undefined,
        effectiveMode: undefined,
        ipsUnsupported: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiKey", "apiSecret"] },
      DYNAMIC.opnsenseIds.module,
      DYNAMIC.opnsenseIds.type,
    );
  }
}
