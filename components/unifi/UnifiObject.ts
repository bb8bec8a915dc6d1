import * as pulumi from "@pulumi/pulumi";
import type { Body, UnifiKind } from "./kinds";
import { unifiProvider } from "./provider";
import { DYNAMIC } from "../../model/facts";

/** How to reach the network controller; the password is a Pulumi secret. */
export interface UnifiConnection {
  url: string;
  site: string;
  username: string;
  password: pulumi.Output<string>;
  /** PEM of the controller's self-signed certificate (or its CA). */
  caCertificate?: string;
}

export interface UnifiObjectArgs {
  connection: UnifiConnection;
  kind: UnifiKind;
  /** Identity on the controller: the SSID, the network or profile name, the switch's MAC. */
  key: string;
  /** What the object is, in our terms (segment and profile names, not controller ids). */
  body: Body;
  /** A WLAN's passphrase. */
  passphrase?: pulumi.Output<string>;
}

/**
 * One object on the UniFi Network controller managed through its API by a TypeScript dynamic provider
 * (components/unifi/provider.ts; docs/access-network.md). Existing objects with the same key are
 * adopted, not duplicated. `body` is plain so the plan shows which SSID and which port lands where;
 * the controller password and the passphrase are separate secret inputs.
 */
export class UnifiObject extends pulumi.dynamic.Resource {
  declare readonly objectId: pulumi.Output<string>;
  declare readonly kind: pulumi.Output<UnifiKind>;
  declare readonly key: pulumi.Output<string>;

  constructor(name: string, args: UnifiObjectArgs, opts?: pulumi.CustomResourceOptions) {
    const c = args.connection;
    super(
      unifiProvider,
      name,
      {
        url: c.url,
        site: c.site,
        ...(c.caCertificate !== undefined ? { caCertificate: c.caCertificate } : {}),
        username: c.username,
        password: pulumi.secret(c.password),
        kind: args.kind,
        key: args.key,
        body: args.body,
        ...(args.passphrase !== undefined ? { passphrase: pulumi.secret(args.passphrase) } : {}),
        objectId: undefined,
      },
      {
        ...opts,
        additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "password", "passphrase"],
      },
      DYNAMIC.unifiObject.module,
      DYNAMIC.unifiObject.type,
    );
  }
}
