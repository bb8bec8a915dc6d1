import * as pulumi from "@pulumi/pulumi";
import { pbsFacts } from "../../analysis/pbs/facts";
import { MIN_PBS, offsitePrefix, pbsPlan } from "../../analysis/pbs/objects";
import type { StorageConfig } from "../../model";
import { FACT_TYPES } from "../../model/facts";
import type { SecretResolver } from "../context";
import type { PbsConnection } from "./connection";
import { OffsiteAccess } from "./OffsiteAccess";
import { PbsObject } from "./PbsObject";

/** What the backup server is configured from: the PBS VM, its jobs, and the vault for offsite. */
export type PbsSettings = Pick<StorageConfig, "proxmox" | "pbs" | "backup">;

export interface BackupServerArgs {
  config: PbsSettings;
  secrets: SecretResolver;
  /** The vault holding the offsite datastore (needed when homelab:pbs.offsite is set). */
  vault?: { bucketArn: pulumi.Input<string>; kmsKeyArn: pulumi.Input<string> };
}

/** PBS listens on 8007 (proxmox-backup-proxy). */
export const PBS_API_PORT = 8007;

/**
 * Proxmox Backup Server configured through its API (docs/pbs.md): the datastores (local, and the
 * offsite one on S3), prune, verify and sync jobs, GC schedules, the API tokens of Proxmox VE and of the
 * metrics job with their least roles, notification targets, and the certificate fingerprint Proxmox VE
 * pins. The component's inputs are the facts the backup-coverage policy reads (model/facts.ts).
 */
export class BackupServer extends pulumi.ComponentResource {
  readonly pveTokenId: string;
  readonly pveTokenSecret: pulumi.Output<string>;
  readonly metricsTokenId: string;
  readonly metricsTokenSecret: pulumi.Output<string>;
  /** The fingerprint PBS reports for its certificate (what Proxmox VE pins), and the public-key pin. */
  readonly fingerprint: pulumi.Output<string>;
  readonly publicKeyPin: pulumi.Output<string>;
  readonly url: string;
  readonly objects: Record<string, PbsObject> = {};

  constructor(name: string, args: BackupServerArgs, opts?: pulumi.ComponentResourceOptions) {
    const c = args.config;
    super(FACT_TYPES.pbs, name, pbsFacts(c), opts);
    const plan = pbsPlan(c);
    const server = c.proxmox.backupServer;
    this.url = `https://${server.address}:${PBS_API_PORT}`;
    const connection: PbsConnection = {
      url: this.url,
      fingerprint: server.fingerprint,
      authId: c.pbs.apiTokenId,
      tokenSecret: args.secrets(c.pbs.apiTokenSecret),
      minVersion: MIN_PBS,
    };
    // Children do not inherit the component's dependsOn (the PBS VM): pass it on.
    const upstream = opts?.dependsOn;

    let offsiteKeys:
      { accessKeyId: pulumi.Output<string>; secretAccessKey: pulumi.Output<string> } | undefined;
    if (c.pbs.offsite) {
      if (!args.vault)
        throw new Error("homelab:pbs.offsite is set but no backup vault was given to BackupServer");
      offsiteKeys = new OffsiteAccess(
        `${name}-offsite-access`,
        {
          vaultName: c.backup.vault.name,
          region: c.backup.vault.region,
          bucketArn: args.vault.bucketArn,
          kmsKeyArn: args.vault.kmsKeyArn,
          prefix: offsitePrefix(c.pbs.offsite.datastore),
        },
        { parent: this },
      );
    }

    for (const spec of plan.objects) {
      const secrets: Record<string, pulumi.Input<string>> = {};
      for (const [field, ref] of Object.entries(spec.secrets ?? {})) secrets[field] = args.secrets(ref);
      if (spec.kind === "s3Endpoint" && offsiteKeys) {
        secrets["access-key"] = offsiteKeys.accessKeyId;
        secrets["secret-key"] = offsiteKeys.secretAccessKey;
      }
      this.objects[spec.name] = new PbsObject(
        spec.name,
        { connection, kind: spec.kind, key: spec.key, body: spec.body, secrets },
        {
          parent: this,
          dependsOn: [
            ...spec.dependsOn.map((d) => this.objects[d]!),
            ...(upstream ? [upstream].flat() : []),
          ] as pulumi.Resource[],
          // Removing a datastore from the program leaves it (and its backups) on PBS, and with it the S3
          // endpoint it uses (PBS refuses to delete an endpoint "in-use by datastore", src/api2/config/s3.rs).
          ...(spec.kind === "datastore" || spec.kind === "s3Endpoint" ? { retainOnDelete: true } : {}),
        },
      );
    }

    const cert = new PbsObject(
      "pbs-certificate",
      { connection, kind: "certificate", key: "proxy.pem", body: {} },
      { parent: this, ...(upstream ? { dependsOn: upstream } : {}) },
    );
    // Under mocks (the offline plan) the lookup has no answer: fall back to the pinned fingerprint.
    this.fingerprint = cert.certificate.apply((x) => x?.fingerprint ?? server.fingerprint.toLowerCase());
    this.publicKeyPin = cert.certificate.apply((x) => x?.publicKeyPin ?? "");

    const token = (tokenId: string) =>
      this.objects[plan.objects.find((s) => s.kind === "token" && s.key === tokenId)!.name]!;
    this.pveTokenId = plan.pveTokenId;
    this.metricsTokenId = plan.metricsTokenId;
    this.pveTokenSecret = pulumi.secret(token(plan.pveTokenId).tokenValue.apply((v) => v ?? ""));
    this.metricsTokenSecret = pulumi.secret(token(plan.metricsTokenId).tokenValue.apply((v) => v ?? ""));

    this.registerOutputs({
      url: this.url,
      pveTokenId: this.pveTokenId,
      pveTokenSecret: this.pveTokenSecret,
      metricsTokenId: this.metricsTokenId,
      fingerprint: this.fingerprint,
    });
  }
}
