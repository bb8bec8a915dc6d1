import * as iam from "@pulumi/aws/iam";
import * as pulumi from "@pulumi/pulumi";
import { FACT_TYPES } from "../../model/facts";

export interface OffsiteAccessArgs {
  /** Vault bucket name (IAM user name prefix) and region. */
  vaultName: string;
  region: string;
  bucketArn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
  /** The offsite datastore's prefix in the vault: `<datastore>/`. */
  prefix: string;
}

type Statement = Record<string, unknown>;
const doc = (Statement: Statement[]) => JSON.stringify({ Version: "2012-10-17", Statement });

/**
 * What PBS's S3 client does to a datastore's bucket (proxmox/proxmox-rs f3305009 proxmox-s3-client
 * src/client.rs, used by proxmox/proxmox-backup pbs-datastore src/datastore.rs): HEAD the bucket
 * when the datastore is created, LIST, GET, PUT (conditional, If-None-Match) and DELETE (single and
 * DeleteObjects, garbage collection) objects under the datastore's prefix. Nothing else:
 * - s3:ListBucket with `StringLikeIfExists` on s3:prefix: HeadBucket needs s3:ListBucket and carries no
 *   prefix; every PBS listing does, and is limited to this datastore's prefix;
 * - Get/Put/DeleteObject on `<prefix>*` only: no access to hot/ or archive/, no s3:DeleteObjectVersion
 *   (a delete only adds a delete marker; the versions stay for the vault's noncurrent-version days),
 *   no retention, lifecycle or policy changes.
 */
export function pbsOffsitePolicy(a: { bucketArn: string; prefix: string }): string {
  return doc([
    {
      Sid: "ListDatastorePrefix",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: a.bucketArn,
      Condition: { StringLikeIfExists: { "s3:prefix": [a.prefix, `${a.prefix}*`] } },
    },
    {
      Sid: "DatastoreObjects",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: `${a.bucketArn}/${a.prefix}*`,
    },
  ]);
}

/** SSE-KMS with the vault key, only through S3 in the vault's region (as the Borg writer). */
export function pbsOffsiteKmsPolicy(a: { keyArn: string; region: string }): string {
  return doc([
    {
      Sid: "VaultKeyViaS3",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: a.keyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${a.region}.amazonaws.com` } },
    },
  ]);
}

/** The IAM identity of PBS's S3 endpoint: its own user and access key, scoped to its datastore prefix. */
export class OffsiteAccess extends pulumi.ComponentResource {
  readonly accessKeyId: pulumi.Output<string>;
  readonly secretAccessKey: pulumi.Output<string>;

  constructor(name: string, args: OffsiteAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.pbsOffsiteAccess, name, {}, opts);
    const parent = { parent: this };
    const user = new iam.User(`${name}-user`, { name: `${args.vaultName}-pbs`, path: "/homelab/" }, parent);
    new iam.UserPolicy(
      `${name}-s3-policy`,
      {
        user: user.name,
        policy: pulumi
          .output(args.bucketArn)
          .apply((bucketArn) => pbsOffsitePolicy({ bucketArn, prefix: args.prefix })),
      },
      parent,
    );
    new iam.UserPolicy(
      `${name}-kms-policy`,
      {
        user: user.name,
        policy: pulumi
          .output(args.kmsKeyArn)
          .apply((keyArn) => pbsOffsiteKmsPolicy({ keyArn, region: args.region })),
      },
      parent,
    );
    const key = new iam.AccessKey(`${name}-key`, { user: user.name }, parent);
    this.accessKeyId = pulumi.secret(key.id);
    this.secretAccessKey = pulumi.secret(key.secret);
    this.registerOutputs({ accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey });
  }
}
