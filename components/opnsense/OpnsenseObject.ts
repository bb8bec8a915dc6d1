import * as pulumi from "@pulumi/pulumi";
import type { OpnsenseConnection } from "./connection";
import { ENDPOINTS, type OpnsenseKind } from "./endpoints";
import { opnsenseProvider } from "./provider";
import { DYNAMIC } from "../../model/facts";

export interface OpnsenseObjectArgs {
  connection: OpnsenseConnection;
  kind: OpnsenseKind;
  /** Stable identity used to adopt an existing object by name/description/device (UUID lookup). */
  key: pulumi.Input<string>;
  /** The object's fields as the API's add/set calls take them (without the wrapping kind key). */
  body: pulumi.Input<Record<string, unknown>>;
}

/** The inputs every resource of the provider carries: the connection, flat. */
export function connectionInputs(c: OpnsenseConnection) {
  return {
    // Flat, so the credentials can be named in additionalSecretOutputs (it takes top-level names).
    url: c.url,
    ...(c.caCertificate !== undefined ? { caCertificate: c.caCertificate } : {}),
    // Secret even if a caller resolved them to plain strings: they are stored in state for delete.
    apiKey: pulumi.secret(c.apiKey),
    apiSecret: pulumi.secret(c.apiSecret),
  };
}

/**
 * One OPNsense object managed through the REST API by a TypeScript dynamic provider (see
 * docs/opnsense-provider.md). The key is written into the kind's description/name field and is how an
 * existing object is adopted instead of duplicated. Firewall kinds are applied with a safe apply.
 */
export class OpnsenseObject extends pulumi.dynamic.Resource {
  /** The object's UUID on the gateway (unknown during preview of a create). */
  declare readonly uuid: pulumi.Output<string>;
  declare readonly kind: pulumi.Output<OpnsenseKind>;
  declare readonly key: pulumi.Output<string>;

  constructor(name: string, args: OpnsenseObjectArgs, opts?: pulumi.CustomResourceOptions) {
    // A refresh reads key material back from the gateway in plain text: keep the whole body secret.
    const secretBody = (ENDPOINTS[args.kind].secretFields ?? []).length > 0 ? ["body"] : [];
    super(
      opnsenseProvider,
      name,
      {
        ...connectionInputs(args.connection),
        kind: args.kind,
        key: args.key,
        body: args.body,
        uuid: undefined,
      },
      {
        ...opts,
        additionalSecretOutputs: [
          ...(opts?.additionalSecretOutputs ?? []),
          "apiKey",
          "apiSecret",
          ...secretBody,
        ],
      },
      DYNAMIC.opnsenseObject.module,
      DYNAMIC.opnsenseObject.type,
    );
  }
}
