/**
 * Prometheus alert rules for the Proxmox Backup Server, over the metrics the PBS metrics job writes
 * (analysis/pbs/exporter.ts). Thresholds come from the configured schedules (the longest gap between
 * two runs of each calendar event, model/pbs-calendar.ts), so a schedule change moves its alert.
 * This file is rendered on its own (homelab-pbs.rules.yml) for the rules directory Prometheus loads.
 */
import { stringify } from "yaml";
import type { StorageConfig } from "../../model";
import { longestGapSeconds } from "../../model/pbs-calendar";
import { promDuration, type AlertRule } from "../backup/alerts";
import { graceSeconds } from "../../model/schedule-period";
import { EXPORTER_PERIOD_SECONDS, PBS_METRICS as M } from "./exporter";
import { pbsPlan } from "./objects";

export interface PbsJobExpectation {
  type: "verify" | "prune" | "sync" | "gc";
  id: string;
  store: string;
  schedule: string;
  /** Longest gap between runs plus the grace period, in seconds. */
  allowanceSeconds: number;
}

/** Longest gap plus grace; the schedules were validated while parsing the config. */
export const allowance = (schedule: string): number => {
  const gap = longestGapSeconds(schedule);
  if (gap === undefined) throw new Error(`schedule "${schedule}" does not repeat`);
  return gap + graceSeconds(gap);
};

export function pbsJobExpectations(
  c: Pick<StorageConfig, "proxmox" | "pbs" | "backup">,
): PbsJobExpectation[] {
  const plan = pbsPlan(c);
  const out: PbsJobExpectation[] = [];
  const types = { verifyJob: "verify", pruneJob: "prune", syncJob: "sync" } as const;
  for (const o of plan.objects) {
    if (o.kind === "verifyJob" || o.kind === "pruneJob" || o.kind === "syncJob") {
      const schedule = String(o.body["schedule"]);
      out.push({
        type: types[o.kind],
        id: o.key,
        store: String(o.body["store"]),
        schedule,
        allowanceSeconds: allowance(schedule),
      });
    }
    if (o.kind === "datastore" && typeof o.body["gc-schedule"] === "string") {
      const schedule = o.body["gc-schedule"];
      out.push({ type: "gc", id: o.key, store: o.key, schedule, allowanceSeconds: allowance(schedule) });
    }
  }
  return out;
}

const q = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

export function pbsAlertRules(c: Pick<StorageConfig, "proxmox" | "pbs" | "backup">): AlertRule[] {
  const plan = pbsPlan(c);
  const local = plan.localStore;
  const offsite = plan.offsiteStore;
  const jobs = pbsJobExpectations(c);
  const find = (type: string, store: string) => jobs.find((j) => j.type === type && j.store === store);
  const backup = allowance(c.proxmox.backupSchedule);
  const localVerify = find("verify", local);
  const sync = offsite ? find("sync", offsite) : undefined;
  const offsiteVerify = offsite ? find("verify", offsite) : undefined;
  const rules: AlertRule[] = [];
  const stale = 4 * EXPORTER_PERIOD_SECONDS;

  rules.push({
    alert: "PbsMetricsMissing",
    expr: `absent(${M.exporterRun}) or time() - ${M.exporterRun} > ${stale}`,
    for: "10m",
    labels: { severity: "warning" },
    annotations: {
      summary: "the PBS metrics job has not run for over an hour",
      description:
        "homelab-pbs-metrics.timer on the storage node writes homelab_pbs*.prom for node-exporter; check `systemctl status homelab-pbs-metrics.timer`. Without it no PBS alert can fire.",
    },
  });
  rules.push({
    alert: "PbsApiUnreachable",
    expr: `${M.up} == 0`,
    for: "30m",
    labels: { severity: "warning" },
    annotations: {
      summary: "the PBS metrics job cannot read the PBS API",
      description:
        "Check `journalctl -u homelab-pbs-metrics`: PBS down, the metrics token revoked, or the certificate replaced (the job pins its public key).",
    },
  });
  rules.push({
    alert: "PbsJobFailed",
    expr: `${M.jobOk} == 0`,
    labels: { severity: "warning" },
    annotations: {
      summary: "PBS {{ $labels.type }} job {{ $labels.id }} on {{ $labels.store }} failed",
      description:
        "The last run did not end OK. Read its task log in the PBS UI (Datastore > {{ $labels.store }} > Jobs); the next run may recover, the stale alert fires if it does not.",
    },
  });
  for (const j of jobs) {
    const sel = `type="${j.type}",id="${q(j.id)}",store="${q(j.store)}"`;
    const allowed = `${promDuration(j.allowanceSeconds)} (schedule "${j.schedule}" plus grace)`;
    rules.push({
      alert: "PbsJobStale",
      expr: `time() - ${M.jobSuccess}{${sel}} > ${j.allowanceSeconds}`,
      for: "10m",
      labels: { severity: "warning", type: j.type, id: j.id, store: j.store },
      annotations: {
        summary: `PBS ${j.type} job ${j.id}: last success {{ $value | humanizeDuration }} ago`,
        description: `It must succeed at least every ${allowed}.`,
      },
    });
    rules.push({
      alert: "PbsJobNeverSucceeded",
      expr: `absent(${M.jobSuccess}{${sel}})`,
      for: promDuration(j.allowanceSeconds),
      labels: { severity: "warning", type: j.type, id: j.id, store: j.store },
      annotations: {
        summary: `PBS ${j.type} job ${j.id} has no successful run`,
        description: `No successful run within ${allowed}: the job is missing on PBS, never ran, or always fails.`,
      },
    });
  }
  rules.push({
    alert: "PbsSnapshotVerifyFailed",
    expr: `${M.snapshotsFailed} > 0`,
    labels: { severity: "critical" },
    annotations: {
      summary:
        "{{ $value }} snapshot(s) of {{ $labels.backup_type }}/{{ $labels.backup_id }} on {{ $labels.store }} failed verification",
      description:
        "Chunks are missing or corrupt. The next backup re-uploads chunks marked bad; verify again after it, and check the datastore's disk (docs/runbooks/pbs-restore.md).",
    },
  });
  const localSel = `store="${q(local)}"`;
  rules.push({
    alert: "PbsBackupStale",
    expr: `time() - ${M.snapshotLast}{${localSel}} > ${backup}`,
    for: "10m",
    labels: { severity: "critical" },
    annotations: {
      summary:
        "{{ $labels.backup_type }}/{{ $labels.backup_id }}: newest backup on {{ $labels.store }} is {{ $value | humanizeDuration }} old",
      description: `The vzdump job (schedule "${c.proxmox.backupSchedule}") must back it up every ${promDuration(backup)} including grace; check the job's log in Proxmox VE (Datacenter > Backup).`,
    },
  });
  for (const vm of c.proxmox.vms.filter((v) => v.backup))
    rules.push({
      alert: "PbsBackupMissing",
      expr: `absent(${M.snapshotLast}{${localSel},backup_type="vm",backup_id="${vm.vmId}"})`,
      for: promDuration(backup),
      labels: { severity: "critical", backup_type: "vm", backup_id: String(vm.vmId), vm: vm.name },
      annotations: {
        summary: `VM ${vm.name} (${vm.vmId}) has no backup on ${local}`,
        description: "The VM is in the config with backup: true but PBS holds no snapshot of it.",
      },
    });
  if (localVerify) {
    const limit = backup + localVerify.allowanceSeconds;
    rules.push({
      alert: "PbsBackupUnverified",
      expr: `time() - ${M.snapshotVerified}{${localSel}} > ${limit} or (${M.snapshotLast}{${localSel}} unless on(store, backup_type, backup_id) ${M.snapshotVerified})`,
      for: promDuration(localVerify.allowanceSeconds),
      labels: { severity: "warning" },
      annotations: {
        summary:
          "{{ $labels.backup_type }}/{{ $labels.backup_id }} on {{ $labels.store }} has no recently verified snapshot",
        description: `The verify job ${localVerify.id} ("${localVerify.schedule}") should pass a new snapshot within ${promDuration(limit)}; unverified snapshots are not copied offsite (verified-only sync).`,
      },
    });
  }
  if (offsite && sync) {
    const offSel = `store="${q(offsite)}"`;
    const copied = backup + (localVerify?.allowanceSeconds ?? 0) + sync.allowanceSeconds;
    rules.push({
      alert: "PbsOffsiteMissing",
      expr: `${M.snapshotLast}{${localSel}} unless on(backup_type, backup_id) ${M.snapshotLast}{${offSel}}`,
      for: promDuration(copied),
      labels: { severity: "critical" },
      annotations: {
        summary: `{{ $labels.backup_type }}/{{ $labels.backup_id }} has no offsite copy in ${offsite}`,
        description: `The sync job ${sync.id} copies verified snapshots of ${local} to the S3-backed datastore ${offsite}; one loss of the storage node loses this VM's backups.`,
      },
    });
    rules.push({
      alert: "PbsOffsiteStale",
      expr: `time() - ${M.snapshotLast}{${offSel}} > ${copied}`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: `{{ $labels.backup_type }}/{{ $labels.backup_id }}: newest offsite copy is {{ $value | humanizeDuration }} old`,
        description: `Backup, local verification and sync together should deliver a new copy within ${promDuration(copied)}.`,
      },
    });
    if (offsiteVerify) {
      const limit = copied + offsiteVerify.allowanceSeconds;
      rules.push({
        alert: "PbsOffsiteUnverified",
        expr: `time() - ${M.snapshotVerified}{${offSel}} > ${limit} or (${M.snapshotLast}{${offSel}} unless on(store, backup_type, backup_id) ${M.snapshotVerified})`,
        for: promDuration(offsiteVerify.allowanceSeconds),
        labels: { severity: "warning" },
        annotations: {
          summary: `{{ $labels.backup_type }}/{{ $labels.backup_id }}: no verified offsite copy in ${offsite}`,
          description: `The verify job ${offsiteVerify.id} ("${offsiteVerify.schedule}") reads the copy back from S3; the newest verified copy must be younger than ${promDuration(limit)}.`,
        },
      });
    }
  }
  return rules;
}

/** A Prometheus rule file holding the PBS alerts in one group. */
export function renderPbsAlerts(c: Pick<StorageConfig, "proxmox" | "pbs" | "backup">): string {
  return (
    "# Rendered by homelab (analysis/pbs/alerts.ts) from the PBS job schedules.\n" +
    stringify({ groups: [{ name: "homelab-pbs", rules: pbsAlertRules(c) }] }, { lineWidth: 0 })
  );
}
