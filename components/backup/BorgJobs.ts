import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderBorgAlerts } from "../../analysis/backup/alerts";
import { renderBorg, type BorgRender, type RenderedFile } from "../../analysis/backup/borg";
import { shellQuote as shq } from "../../analysis/text/shell";
import { borgDatasets, borgInputFromModel, s3SinkFromModel } from "../../analysis/backup/borg-model";
import type { StorageModel } from "../../model";
import type { BorgJobFacts } from "../../model/facts";
import {
  commandConnection,
  remoteCommandDefaults,
  type SecretResolver,
  type SshConnection,
} from "../context";
import type { BackupVault } from "./BackupVault";
import { FACT_TYPES } from "../../model/facts";

export interface BorgJobsArgs {
  model: StorageModel;
  connection: SshConnection;
  vault: BackupVault;
  secrets: SecretResolver;
}

/** Where the rendered alert rules land on the node, for the monitoring stack to mount. */
const ALERTS_PATH = "/etc/homelab-backup/prometheus/homelab-borg.rules.yml";
const INSTALLED_LIST = "/etc/homelab-backup/installed-files";

/**
 * Runs a root shell script on the node: as root directly, else through `sudo -n` (the deploy user has
 * passwordless sudo; Proxmox ships without sudo, so root needs no wrapper). Stdin passes through to the
 * script; the script text is on the command line, so it never contains a secret.
 */
const asRoot = (script: string): string =>
  `if [ "$(id -u)" -eq 0 ]; then sh -c ${shq(script)}; else sudo -n sh -c ${shq(script)}; fi`;

/** One line per file: `<mode> <path> <base64>`; paths are checked to hold no whitespace. */
export function fileBundle(files: RenderedFile[]): string {
  return files
    .map((f) => {
      if (/\s/.test(f.path)) throw new Error(`rendered path with whitespace: ${f.path}`);
      return `${f.mode} ${f.path} ${Buffer.from(f.content).toString("base64")}\n`;
    })
    .join("");
}

/**
 * Installs the bundle read from stdin: every file atomically (temporary file in the target directory,
 * then rename), files rendered by an earlier run but not this one are removed (their timers stopped
 * first), then daemon-reload and enable --now of every timer.
 */
export function installScript(timers: string[], metricsDir?: string): string {
  // node-exporter (uid 65534) reads the backup metrics through its textfile collector: the directory
  // must be world-readable and searchable. The job scripts run with umask 077, so a directory they
  // created first would be 0700 root and every backup metric invisible; create (or repair) it here.
  const metrics =
    metricsDir === undefined ? "" : `install -d -m 0755 ${shq(metricsDir)}\nchmod 0755 ${shq(metricsDir)}\n`;
  return `set -eu
umask 022
${metrics}new=$(mktemp)
while read -r mode path b64; do
  install -d -m 0755 "$(dirname "$path")"
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s' "$b64" | base64 -d >"$tmp"
  chmod "$mode" "$tmp"
  chown root:root "$tmp"
  mv -f "$tmp" "$path"
  echo "$path" >>"$new"
done
sort "$new" >"$new.s"
if [ -f ${INSTALLED_LIST} ]; then
  sort ${INSTALLED_LIST} | comm -23 - "$new.s" | while read -r old; do
    case "$old" in *.timer) systemctl disable --now "$(basename "$old")" || true ;; esac
    rm -f "$old"
  done
fi
install -d -m 0755 "$(dirname ${INSTALLED_LIST})"
mv -f "$new" ${INSTALLED_LIST}
rm -f "$new.s"
systemctl daemon-reload
${timers.length > 0 ? `systemctl enable --now ${timers.join(" ")}` : ":"}
`;
}

/**
 * Writes the class passphrase from stdin into a root-only file (0600) and creates the repository once
 * (`borg init` only when there is no repository config yet). A changed passphrase is tried against an
 * existing repository before it replaces the old file, so a wrong value never breaks the nightly jobs.
 */
export function repositoryScript(r: BorgRender["repositories"][number], pool: string, base: string): string {
  const repo = r.path;
  const zfsName = repo.replace(/^\//, "");
  return `set -eu
umask 077
install -d -m 0700 ${shq(r.passphraseFile.replace(/\/[^/]*$/, ""))}
tmp=$(mktemp ${shq(`${r.passphraseFile}.XXXXXX`)})
trap 'rm -f "$tmp"' EXIT
cat >"$tmp"
chmod 0600 "$tmp"
export BORG_PASSCOMMAND="cat -- $tmp" BORG_BASE_DIR=${shq(base)}
if [ -f ${shq(`${repo}/config`)} ]; then
  borg info ${shq(repo)} >/dev/null || { echo "the configured passphrase does not open ${repo}; change it with borg key change-passphrase first" >&2; exit 1; }
else
  if command -v zfs >/dev/null && zfs list -H -o name ${shq(pool)} >/dev/null 2>&1; then
    zfs list -H -o name ${shq(zfsName)} >/dev/null 2>&1 || zfs create -p ${shq(zfsName)}
  fi
  mkdir -p ${shq(repo)}
  # borg init prints advice on success; keep it only when init fails.
  out=$(borg init --encryption=repokey-blake2 ${shq(repo)} 2>&1) || { echo "$out" >&2; exit 1; }
fi
mv -f "$tmp" ${shq(r.passphraseFile)}
trap - EXIT
`;
}

/** Borg repositories per backup class, timers per dataset, verification and archive exports (issue 5). */
export class BorgJobs extends pulumi.ComponentResource {
  /** Prometheus rule file for the monitoring stack (also installed at ALERTS_PATH on the node). */
  readonly alertRules: string;
  readonly repositories: string[];
  readonly timers: string[];

  constructor(name: string, args: BorgJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Rendering up front (with the configured bucket name) rejects an unreadable schedule before any
    // resource is registered; the installed copy below uses the vault's actual bucket output.
    const preview = renderBorg(borgInputFromModel(args.model));
    // Component inputs are the facts the graph policies read (model/facts.ts, backup-coverage).
    super(FACT_TYPES.borgJobs, name, borgFacts(args.model, preview), opts);
    const { model, connection, vault, secrets } = args;
    const conn = commandConnection(connection);
    this.alertRules = renderBorgAlerts(preview.expectations);
    this.repositories = preview.repositories.map((r) => r.path);
    this.timers = preview.timers;
    const input = borgInputFromModel(model);
    // The vault's actual bucket, and the Object Lock retention it promises for every export.
    const sink = s3SinkFromModel(model);
    const rendered = vault.bucketName.apply((bucket) =>
      renderBorg({
        ...input,
        sink: {
          ...sink,
          bucket,
          ...(vault.archiveObjectLock ? { archiveLock: vault.archiveObjectLock } : {}),
        },
      }),
    );

    // Children do not inherit the component's dependsOn: pass the datasets on explicitly.
    const upstream = opts?.dependsOn;
    // Command output can echo what a script read; keep it out of diffs and logs.
    const quiet: pulumi.CustomResourceOptions = {
      parent: this,
      additionalSecretOutputs: ["stdout", "stderr"],
    };

    const packages = new command.remote.Command(
      `${name}-packages`,
      {
        connection: conn,
        ...remoteCommandDefaults,
        create: asRoot(
          "set -eu; export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q --no-install-recommends borgbackup gnupg rsync awscli >/dev/null",
        ),
      },
      { ...quiet, dependsOn: upstream },
    );

    const repos = preview.repositories.map((r) => {
      const cls = model.config.backup.borg.classes.find((c) => c.name === r.class)!;
      const script = repositoryScript(r, model.config.storageNode.pool, `${preview.paths.stateDir}/borg`);
      return new command.remote.Command(
        `${name}-repo-${r.class}`,
        {
          connection: conn,
          ...remoteCommandDefaults,
          create: asRoot(script),
          update: asRoot(script),
          // The passphrase travels only on stdin, as a secret; never in the command or environment.
          stdin: pulumi.secret(secrets(cls.passphrase)),
          // No delete: removing this resource must never remove a repository or its passphrase.
        },
        { ...quiet, dependsOn: [packages] },
      );
    });

    const awsCredentials = new command.remote.Command(
      `${name}-aws-credentials`,
      {
        connection: conn,
        ...remoteCommandDefaults,
        create: asRoot(credentialFileScript(preview.awsCredentialsFile)),
        update: asRoot(credentialFileScript(preview.awsCredentialsFile)),
        stdin: pulumi.secret(
          pulumi
            .all([vault.writerAccessKeyId, vault.writerSecretAccessKey])
            .apply(([id, key]) => `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${key}\n`),
        ),
      },
      { ...quiet, dependsOn: [vault] },
    );

    const files = rendered.apply((r) => [
      ...r.files,
      { path: ALERTS_PATH, mode: "0644" as const, content: this.alertRules },
    ]);
    const install = new command.remote.Command(
      `${name}-install`,
      {
        connection: conn,
        ...remoteCommandDefaults,
        create: asRoot(installScript(preview.timers, preview.paths.metricsDir)),
        update: asRoot(installScript(preview.timers, preview.paths.metricsDir)),
        stdin: files.apply(fileBundle),
        // Timers stopped, then every file this resource installed (units, scripts, alert rules) removed:
        // nothing of it stays behind. Repositories and their passphrases are other resources and stay.
        delete: asRoot(
          `set -eu; for t in ${preview.timers.join(" ") || "none.timer"}; do systemctl disable --now "$t" 2>/dev/null || true; done; ` +
            `if [ -f ${INSTALLED_LIST} ]; then xargs -r rm -f -- <${INSTALLED_LIST}; rm -f ${INSTALLED_LIST}; fi; systemctl daemon-reload`,
        ),
      },
      {
        ...quiet,
        // Timers may fire as soon as they are enabled: repositories, credentials and datasets first.
        dependsOn: [...repos, awsCredentials, vault, packages],
      },
    );

    this.registerOutputs({
      repositories: this.repositories,
      timers: this.timers,
      alertRules: this.alertRules,
      installed: install.id,
    });
  }
}

/** One fact per backed-up dataset: its schedule and whether a verify job and a restore drill exist. */
export function borgFacts(model: StorageModel, r: BorgRender): BorgJobFacts {
  const has = (dataset: string, task: string) =>
    r.expectations.some((e) => e.dataset === dataset && e.task === task);
  return {
    jobs: borgDatasets(model).map((d) => ({
      dataset: d.name,
      node: d.node,
      backupClass: d.backupClass,
      schedule: model.config.backup.borg.classes.find((c) => c.name === d.backupClass)!.schedule,
      verify: has(d.name, "verify"),
      restoreDrill: has(d.name, "restore_drill"),
    })),
    remoteDatasets: model.network.datasets.map((d) => ({
      name: d.name,
      node: "network" as const,
      backupClass: d.backupClass,
    })),
  };
}

/** Writes stdin to a root-only file atomically. */
function credentialFileScript(path: string): string {
  return `set -eu
umask 077
install -d -m 0700 ${shq(path.replace(/\/[^/]*$/, ""))}
tmp=$(mktemp ${shq(`${path}.XXXXXX`)})
cat >"$tmp"
chmod 0600 "$tmp"
mv -f "$tmp" ${shq(path)}
`;
}
