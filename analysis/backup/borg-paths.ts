/**
 * Where the Borg machinery lives on the storage node, and the names derived from a dataset.
 *
 * Shape on the node (defaults):
 *   /tank/backup/borg/<class>                      repository (repokey-blake2)
 *   /usr/local/lib/homelab-backup/*.sh             common.sh + one script per job
 *   /etc/systemd/system/homelab-borg-*.{service,timer}
 *   /etc/homelab-backup/credentials/<class>.passphrase, aws-credentials   (0600 root, LoadCredential)
 *   /var/lib/prometheus/node-exporter/homelab_backup_*.prom                (textfile collector)
 */

export interface BorgPaths {
  repoRoot: string;
  libDir: string;
  unitDir: string;
  credentialDir: string;
  stateDir: string;
  cacheDir: string;
  metricsDir: string;
  scratchDir: string;
  /** Local mirror datasets of pulled network-node datasets (a ZFS dataset name prefix). */
  pullDataset: string;
}

export function defaultPaths(pool: string): BorgPaths {
  return {
    repoRoot: `/${pool}/backup/borg`,
    libDir: "/usr/local/lib/homelab-backup",
    unitDir: "/etc/systemd/system",
    credentialDir: "/etc/homelab-backup/credentials",
    stateDir: "/var/lib/homelab-backup",
    cacheDir: "/var/cache/homelab-backup",
    metricsDir: "/var/lib/prometheus/node-exporter",
    scratchDir: `/${pool}/backup/drill-scratch`,
    pullDataset: `${pool}/backup/pull`,
  };
}

/** The pulls' only known_hosts: the pinned key of the network node, nothing from ~/.ssh or /etc/ssh. */
export const knownHostsFile = (p: BorgPaths): string =>
  `${p.credentialDir.replace(/\/[^/]*$/, "")}/known_hosts`;

/** Unit-name and archive-prefix slug: tank/apps/immich-library -> tank-apps-immich-library. */
export function datasetSlug(d: { name: string; node: "storage" | "network" }): string {
  const base = d.name.replace(/[^A-Za-z0-9_.-]+/g, "-");
  return d.node === "network" ? `net-${base}` : base;
}
