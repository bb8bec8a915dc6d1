import type * as pulumi from "@pulumi/pulumi";

/** How the program reaches the PBS API: address, pinned certificate, its admin token. */
export interface PbsConnection {
  /** https://<address>:8007 */
  url: string;
  /** SHA-256 fingerprint of the PBS certificate (homelab:proxmox.backupServer.fingerprint). */
  fingerprint: string;
  /** The program's token id, user@realm!name (pbs-api-types Authid). */
  authId: string;
  tokenSecret: pulumi.Input<string>;
  /** Lowest PBS version the configured objects need. */
  minVersion: { major: number; minor: number; release: number };
}
