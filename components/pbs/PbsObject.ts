import * as pulumi from "@pulumi/pulumi";
import type { PbsConnection } from "./connection";
import { pbsProvider, type ObjectKind } from "./provider";
import { DYNAMIC } from "../../model/facts";

export interface PbsObjectArgs {
  connection: PbsConnection;
  kind: ObjectKind;
  /** The object's identity on PBS (datastore name, job id, user id, token id, ACL path|auth id|role). */
  key: string;
  /** API fields as the PBS API takes them (kebab-case). */
  body: Record<string, unknown>;
  /** API fields that PBS never returns (token, password, secret-key); always secret. */
  secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * One Proxmox Backup Server object managed through its REST API by a TypeScript dynamic provider
 * (docs/pbs.md). An object that already exists under the key is adopted, never duplicated.
 */
export class PbsObject extends pulumi.dynamic.Resource {
  declare readonly key: pulumi.Output<string>;
  declare readonly body: pulumi.Output<Record<string, unknown>>;
  /** For kind "token": the token's secret (PBS shows it once). Secret. */
  declare readonly tokenValue: pulumi.Output<string | undefined>;
  /** For kind "certificate": fingerprint, public-key pin and expiry of the PBS proxy certificate. */
  declare readonly certificate: pulumi.Output<
    { fingerprint: string; publicKeyPin: string; notAfter: number } | undefined
  >;

  constructor(name: string, args: PbsObjectArgs, opts?: pulumi.CustomResourceOptions) {
    const c = args.connection;
    super(
      pbsProvider,
      name,
      {
        url: c.url,
        fingerprint: c.fingerprint,
        authId: c.authId,
        // Secret even when a caller resolved it to a plain string: it is stored for refresh and delete.
        tokenSecret: pulumi.secret(c.tokenSecret),
        minVersion: c.minVersion,
        kind: args.kind,
        key: args.key,
        body: args.body,
        secrets: pulumi.secret(args.secrets ?? {}),
        tokenValue: undefined,
        certificate: undefined,
      },
      {
        ...opts,
        additionalSecretOutputs: [
          ...(opts?.additionalSecretOutputs ?? []),
          "tokenSecret",
          "secrets",
          "tokenValue",
        ],
      },
      DYNAMIC.pbsObject.module,
      DYNAMIC.pbsObject.type,
    );
  }
}
