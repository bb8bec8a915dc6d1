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
import { jobBundle, rootHelperSteps, scriptDigest } from "../hostJob";
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

/** One line per file: `<mode> <path> <base64>`, the root helper's `install` bundle. */
export const fileBundle = (files: RenderedFile[]): string => jobBundle(files);

/** Where the repository setup scripts are installed (the root helper's `borg-setup` job runs them). */
const SETUP_DIR = "/usr/local/lib/homelab-backup/setup";

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

    // Everything as root goes through the root helper's Borg jobs (tools/node/homelab-root): `packages`,
    // `install borg-setup` (the repository scripts), `run borg-setup` (one of them, checked by its
    // sha256), `install borg-credentials` and `install borg`; no root shell.
    const packages = new command.remote.Command(
      `${name}-packages`,
      {
        connection: conn,
        ...remoteCommandDefaults,
        create: rootHelperSteps(["packages", "borg", "borgbackup", "gnupg", "rsync", "awscli"]),
      },
      { ...quiet, dependsOn: upstream },
    );

    const setupScripts = preview.repositories.map((r) => ({
      r,
      path: `${SETUP_DIR}/repository-${r.class}.sh`,
      content: repositoryScript(r, model.config.storageNode.pool, `${preview.paths.stateDir}/borg`),
    }));
    const setup = new command.remote.Command(
      `${name}-setup`,
      {
        connection: conn,
        ...remoteCommandDefaults,
        create: rootHelperSteps(["install", "borg-setup"]),
        update: rootHelperSteps(["install", "borg-setup"]),
        stdin: jobBundle(setupScripts.map((s) => ({ path: s.path, mode: "0700", content: s.content }))),
        delete: rootHelperSteps(["uninstall", "borg-setup"]),
      },
      { ...quiet, dependsOn: [packages] },
    );

    const repos = setupScripts.map(({ r, content }) => {
      const cls = model.config.backup.borg.classes.find((c) => c.name === r.class)!;
      // The script's digest is part of the command: a changed script reruns it, a stale one is refused.
      const run = rootHelperSteps(["run", "borg-setup", `repository-${r.class}`, scriptDigest(content)]);
      return new command.remote.Command(
        `${name}-repo-${r.class}`,
        {
          connection: conn,
          ...remoteCommandDefaults,
          create: run,
          update: run,
          // The passphrase travels only on stdin, as a secret; never in the command or environment.
          stdin: pulumi.secret(secrets(cls.passphrase)),
          // No delete: removing this resource must never remove a repository or its passphrase.
        },
        { ...quiet, dependsOn: [setup] },
      );
    });

    const awsCredentials = new command.remote.Command(
      `${name}-aws-credentials`,
      {
        connection: conn,
        ...remoteCommandDefaults,
        create: rootHelperSteps(["install", "borg-credentials"]),
        update: rootHelperSteps(["install", "borg-credentials"]),
        stdin: pulumi.secret(
          pulumi.all([vault.writerAccessKeyId, vault.writerSecretAccessKey]).apply(([id, key]) =>
            jobBundle([
              {
                path: preview.awsCredentialsFile,
                mode: "0600",
                content: `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${key}\n`,
              },
            ]),
          ),
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
        // The helper writes every file atomically, removes what an earlier install wrote and this one
        // does not (its timers stopped first), verifies the units and enables every timer.
        create: rootHelperSteps(["install", "borg"]),
        update: rootHelperSteps(["install", "borg"]),
        stdin: files.apply(fileBundle),
        // Timers stopped, then every file this resource installed (units, scripts, alert rules) removed:
        // nothing of it stays behind. Repositories and their passphrases are other resources and stay.
        delete: rootHelperSteps(["uninstall", "borg"]),
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
