import { z } from "zod";
import { vaultLifecycleIssues } from "./vault-lifecycle";
import { schedulePeriodSeconds } from "./schedule-period";
import { name, secretRef } from "./common";
import { checkOnCalendar, onCalendar } from "./schedule";

/**
 * A Borg timer's OnCalendar: systemd must accept it, and the backup alerts must be able to tell its
 * longest gap (model/schedule-period.ts understands the forms a backup schedule uses).
 */
const borgSchedule = onCalendar.superRefine((v, ctx) => {
  if (!checkOnCalendar(v).ok) return; // already reported
  try {
    schedulePeriodSeconds(v);
  } catch (e) {
    ctx.addIssue({
      code: "custom",
      message: `systemd accepts ${JSON.stringify(v)}, but the backup alerts cannot tell how often it runs: ${(e as Error).message}`,
    });
  }
});
/** A retention count: 0 keeps nothing by that rule, and all three at 0 would prune every archive. */
const keepCount = z.number().int().min(1, "must be at least 1: 0 keeps no archive by this rule");

export const borgClass = z.strictObject({
  name: z.enum(["critical", "standard"]),
  /** systemd OnCalendar expression. */
  schedule: borgSchedule.default("daily"),
  verifySchedule: borgSchedule.default("weekly"),
  keep: z.strictObject({ daily: keepCount, weekly: keepCount, monthly: keepCount }),
  passphrase: secretRef,
  /** Monthly write-once export to the vault's archive/ prefix. */
  exportToArchive: z.boolean().default(true),
});

export const usageProfile = z.strictObject({
  dataGiB: z.number().positive(),
  dailyChangeGiB: z.number().min(0),
  averageObjectMiB: z.number().positive(),
  retentionMonths: z.number().int().positive(),
  restoreTimeObjectiveHours: z.number().positive(),
  monthlyBudgetUsd: z.number().positive().optional(),
  /** Download bandwidth available for a full restore; turns restored GiB into hours against the RTO. */
  restoreDownlinkMbps: z.number().positive().default(250),
});

export const vault = z
  .strictObject({
    /** The S3 bucket's name: 3 to 63 characters. */
    name: name.min(3, "an S3 bucket name has at least 3 characters"),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region like eu-central-1"),
    /** Days in Standard before archive/ exports move to Deep Archive. */
    archiveAfterDays: z.number().int().min(0).default(30),
    /** Optional Standard-IA step for archive/ exports before Deep Archive (S3: >= 30 days, and >= 30 before the archive step). */
    archiveInfrequentAccessAfterDays: z.number().int().min(0).optional(),
    /** Expire archive exports after this many days (>= archiveAfterDays + 180 avoids early deletion). */
    archiveExpireDays: z.number().int().positive().optional(),
    noncurrentVersionExpireDays: z.number().int().positive().default(30),
    abortMultipartDays: z.number().int().positive().default(7),
    /**
     * Days each archive/ export is locked (S3 Object Lock, set per export by the export job; see
     * BackupVault). Default 180, Deep Archive's minimum storage duration: the lock costs nothing extra.
     * 0 turns the lock off, and the vault-history policy then fails the plan.
     */
    objectLockDays: z.number().int().min(0).default(180),
    /** GOVERNANCE stops the writer; COMPLIANCE also stops administrators and root (see BackupVault). */
    objectLockMode: z.enum(["GOVERNANCE", "COMPLIANCE"]).default("GOVERNANCE"),
    /** Automatic rotation period of the vault's customer-managed KMS key (KMS allows 90-2560). */
    kmsKeyRotationDays: z.number().int().min(90).max(2560).default(365),
    accessLogging: z.boolean().default(false),
    transitionMinimumObjectSize: z
      .enum(["all_storage_classes_128K", "varies_by_storage_class"])
      .default("all_storage_classes_128K"),
  })
  // Rules S3 would reject at apply are rejected here, while parsing config: before any resource exists.
  .superRefine((v, ctx) => {
    for (const issue of vaultLifecycleIssues(v))
      if (issue.severity === "error")
        ctx.addIssue({ code: "custom", path: [issue.field], message: issue.message });
  });

export const backup = z.strictObject({
  vault,
  borg: z.strictObject({ classes: z.array(borgClass).min(1) }),
  usage: usageProfile,
});

export type BackupConfig = z.output<typeof backup>;
export type VaultConfig = z.output<typeof vault>;
