/**
 * Renders the Borg backup machinery of the storage node: repositories per backup class, and per
 * dataset a backup script with its systemd service and timer, plus per class verification, the monthly
 * write-once export to the vault's archive/ prefix, the sync of the live repository to hot/, and a
 * restore drill per dataset. Pure apart from reading the scripts (scripts/*.sh): text in, text out;
 * components/backup/BorgJobs.ts installs it. Where things go on the node: borg-paths.ts; the units:
 * borg-units.ts; the scripts: borg-scripts.ts.
 */
import { graceSeconds, schedulePeriodSeconds } from "../../model/schedule-period";
import { datasetSlug, defaultPaths, knownHostsFile, type BorgPaths } from "./borg-paths";
import {
  classPrelude,
  renderBackupScript,
  renderCommon,
  renderDrillScript,
  renderExportScript,
  renderSyncScript,
  renderVerifyScript,
} from "./borg-scripts";
import { renderService, renderTimer } from "./borg-units";

export type BorgClassName = "critical" | "standard";

export interface BorgClassInput {
  name: BorgClassName;
  schedule: string;
  verifySchedule: string;
  keep: { daily: number; weekly: number; monthly: number };
  exportToArchive: boolean;
}

export interface BorgDatasetInput {
  name: string;
  backupClass: BorgClassName;
  /**
   * Where the data lives. Network-node datasets are pulled: the storage node snapshots them over SSH,
   * rsyncs the snapshot into a local mirror dataset and backs that up like its own. The passphrase and
   * the repository never leave the storage node, so the internet-facing network node cannot read or
   * delete backups.
   */
  node: "storage" | "network";
}

/** The S3 vault as the jobs write to it. */
export interface S3Sink {
  kind: "s3";
  bucket: string;
  region: string;
  /** Another S3 endpoint (an S3-compatible service, or a test server); AWS when absent. */
  endpointUrl?: string;
  /** Object Lock retention every archive/ export gets (the vault's objectLockDays / objectLockMode). */
  archiveLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number };
}

/** Where exports and the hot copy go. `dir` is a local directory (tests, or an external disk). */
export type BorgSink = S3Sink | { kind: "dir"; path: string };

export interface BorgRenderInput {
  pool: string;
  classes: BorgClassInput[];
  datasets: BorgDatasetInput[];
  sink: BorgSink;
  /**
   * How the storage node reaches the network node for pulled datasets. `hostKey` is the node's pinned
   * public host key (model/ssh.ts): the pulls verify it from their own known_hosts file.
   */
  networkNode?: { address: string; port: number; user: string; hostKey?: string };
  paths?: Partial<BorgPaths>;
  /** OnCalendar of the per-dataset restore drill (monthly by default: it restores the whole dataset). */
  drillSchedule?: string;
  /** OnCalendar of the write-once export (the issue asks for monthly). */
  exportSchedule?: string;
  /** A `--verify-data` check (reads and decrypts every chunk) runs when the last one is this old. */
  verifyDataEverySeconds?: number;
}

export type JobTask = "backup" | "verify" | "verify_data" | "export" | "sync" | "restore_drill";

/** One expected metric series: what alerts watch. */
export interface JobExpectation {
  dataset: string;
  class: BorgClassName;
  task: JobTask;
  /** Longest regular gap between two successes, seconds. */
  periodSeconds: number;
  graceSeconds: number;
  schedule: string;
}

export interface RenderedFile {
  path: string;
  /** Octal permission string. No rendered file holds a secret; credentials are written separately. */
  mode: "0644" | "0755";
  content: string;
}

export interface BorgRender {
  paths: BorgPaths;
  repositories: { class: BorgClassName; path: string; passphraseFile: string }[];
  awsCredentialsFile: string;
  files: RenderedFile[];
  /** Timer units to enable. */
  timers: string[];
  /** Script paths per job, for tests and docs. */
  scripts: {
    backup: Map<string, string>;
    drill: Map<string, string>;
    verify: Map<BorgClassName, string>;
    export: Map<BorgClassName, string>;
    sync: Map<BorgClassName, string>;
  };
  expectations: JobExpectation[];
}

const DAY = 86_400;

export function renderBorg(input: BorgRenderInput): BorgRender {
  const paths = { ...defaultPaths(input.pool), ...input.paths };
  const drillSchedule = input.drillSchedule ?? "*-*-08 05:30:00";
  const exportSchedule = input.exportSchedule ?? "*-*-01 07:00:00";
  const verifyDataEvery = input.verifyDataEverySeconds ?? 28 * DAY;
  const classes = new Map(input.classes.map((c) => [c.name, c]));
  const backed = input.datasets.filter((d) => classes.has(d.backupClass));
  for (const d of input.datasets)
    if (!classes.has(d.backupClass)) throw new Error(`dataset ${d.name}: no Borg class "${d.backupClass}"`);
  const slugs = new Map<string, string>();
  for (const d of backed) {
    const slug = datasetSlug(d);
    const other = slugs.get(slug);
    if (other !== undefined)
      throw new Error(`datasets ${other} and ${d.name} map to the same unit name "${slug}"; rename one`);
    slugs.set(slug, d.name);
  }
  if (backed.some((d) => d.node === "network") && !input.networkNode)
    throw new Error("network-node datasets need networkNode (address, port, user) to be pulled");

  const files: RenderedFile[] = [];
  const timers: string[] = [];
  const expectations: JobExpectation[] = [];
  const scripts: BorgRender["scripts"] = {
    backup: new Map(),
    drill: new Map(),
    verify: new Map(),
    export: new Map(),
    sync: new Map(),
  };
  const repo = (c: BorgClassName) => `${paths.repoRoot}/${c}`;
  const passFile = (c: BorgClassName) => `${paths.credentialDir}/${c}.passphrase`;
  const awsFile = `${paths.credentialDir}/aws-credentials`;
  const pullKey = `${paths.credentialDir}/network-pull.key`;
  const lib = `${paths.libDir}/common.sh`;
  const script = (name: string) => `${paths.libDir}/${name}.sh`;
  const expect = (d: BorgDatasetInput, task: JobTask, schedule: string, period: number) =>
    expectations.push({
      dataset: d.name,
      class: d.backupClass,
      task,
      schedule,
      periodSeconds: period,
      graceSeconds: graceSeconds(period),
    });

  files.push({ path: lib, mode: "0644", content: renderCommon(paths, input.sink) });
  const nn = input.networkNode;
  if (nn?.hostKey !== undefined && backed.some((d) => d.node === "network"))
    files.push({
      path: knownHostsFile(paths),
      mode: "0644",
      content: `${nn.port === 22 ? nn.address : `[${nn.address}]:${nn.port}`} ${nn.hostKey}\n`,
    });

  const unit = (
    name: string,
    description: string,
    exec: string,
    creds: [string, string][],
    extra: string[] = [],
  ) => {
    files.push({
      path: `${paths.unitDir}/${name}.service`,
      mode: "0644",
      content: renderService(description, exec, creds, extra),
    });
  };
  const timer = (name: string, description: string, onCalendar: string, delay: string) => {
    files.push({
      path: `${paths.unitDir}/${name}.timer`,
      mode: "0644",
      content: renderTimer(description, onCalendar, delay),
    });
    timers.push(`${name}.timer`);
  };

  for (const c of input.classes) {
    const members = backed.filter((d) => d.backupClass === c.name);
    const prelude = classPrelude(lib, c.name, repo(c.name), members);
    const backupPeriod = schedulePeriodSeconds(c.schedule);
    const verifyPeriod = schedulePeriodSeconds(c.verifySchedule);
    const syncUnit = `homelab-borg-sync-${c.name}`;

    for (const d of members) {
      const slug = datasetSlug(d);
      const name = `homelab-borg-backup-${slug}`;
      const path = script(`backup-${slug}`);
      const pull =
        d.node === "network"
          ? {
              remote: d.name,
              local: `${paths.pullDataset}/${slug}`,
              ...input.networkNode!,
            }
          : undefined;
      files.push({
        path,
        mode: "0755",
        content: renderBackupScript(prelude, d, c, pull),
      });
      scripts.backup.set(d.name, path);
      const creds: [string, string][] = [["borg-passphrase", passFile(c.name)]];
      if (pull) creds.push(["pull-ssh-key", pullKey]);
      // The hot/ copy follows every successful backup; `borg with-lock` serializes it with the others.
      unit(name, `Borg backup of ${d.name} (${c.name})`, path, creds, [`OnSuccess=${syncUnit}.service`]);
      timer(name, `Borg backup of ${d.name}`, c.schedule, "30m");
      expect(d, "backup", c.schedule, backupPeriod);
      expect(d, "sync", c.schedule, backupPeriod);

      const drillName = `homelab-borg-drill-${slug}`;
      const drillPath = script(`drill-${slug}`);
      files.push({
        path: drillPath,
        mode: "0755",
        content: renderDrillScript(prelude, d),
      });
      scripts.drill.set(d.name, drillPath);
      unit(drillName, `Borg restore drill of ${d.name}`, drillPath, [["borg-passphrase", passFile(c.name)]]);
      timer(drillName, `Borg restore drill of ${d.name}`, drillSchedule, "2h");
      expect(d, "restore_drill", drillSchedule, schedulePeriodSeconds(drillSchedule));
    }

    const verifyName = `homelab-borg-verify-${c.name}`;
    const verifyPath = script(`verify-${c.name}`);
    files.push({
      path: verifyPath,
      mode: "0755",
      content: renderVerifyScript(prelude, c.name, verifyDataEvery),
    });
    scripts.verify.set(c.name, verifyPath);
    unit(verifyName, `Borg check of the ${c.name} repository`, verifyPath, [
      ["borg-passphrase", passFile(c.name)],
    ]);
    timer(verifyName, `Borg check of the ${c.name} repository`, c.verifySchedule, "1h");
    for (const d of members) {
      expect(d, "verify", c.verifySchedule, verifyPeriod);
      // Due once the last one is verifyDataEvery old; runs on the next verify slot after that.
      expect(d, "verify_data", c.verifySchedule, verifyDataEvery + verifyPeriod);
    }

    const syncPath = script(`sync-${c.name}`);
    files.push({ path: syncPath, mode: "0755", content: renderSyncScript(prelude, lib, c.name) });
    scripts.sync.set(c.name, syncPath);
    unit(syncUnit, `Copy the ${c.name} Borg repository to the vault's hot/ prefix`, syncPath, [
      ["borg-passphrase", passFile(c.name)],
      ["aws-credentials", awsFile],
    ]);

    if (c.exportToArchive) {
      const exportName = `homelab-borg-export-${c.name}`;
      const exportPath = script(`export-${c.name}`);
      files.push({ path: exportPath, mode: "0755", content: renderExportScript(prelude, c.name) });
      scripts.export.set(c.name, exportPath);
      unit(exportName, `Monthly write-once export of the ${c.name} archives`, exportPath, [
        ["borg-passphrase", passFile(c.name)],
        ["aws-credentials", awsFile],
      ]);
      timer(exportName, `Monthly export of the ${c.name} archives`, exportSchedule, "2h");
      for (const d of members) expect(d, "export", exportSchedule, schedulePeriodSeconds(exportSchedule));
    }
  }

  return {
    paths,
    repositories: input.classes.map((c) => ({
      class: c.name,
      path: repo(c.name),
      passphraseFile: passFile(c.name),
    })),
    awsCredentialsFile: awsFile,
    files,
    timers,
    scripts,
    expectations,
  };
}
