import { z } from "zod";
import { name, secretRef } from "./common";

export const borgClass = z.object({
  name: z.enum(["critical", "standard"]),
  /** systemd OnCalendar expression. */
  schedule: z.string().default("daily"),
  verifySchedule: z.string().default("weekly"),
  keep: z.object({
    daily: z.number().int().min(0),
    weekly: z.number().int().min(0),
    monthly: z.number().int().min(0),
  }),
  passphrase: secretRef,
  /** Monthly write-once export to the vault's archive/ prefix. */
  exportToArchive: z.boolean().default(true),
});

export const usageProfile = z.object({
  dataGiB: z.number().positive(),
  dailyChangeGiB: z.number().min(0),
  averageObjectMiB: z.number().positive(),
  retentionMonths: z.number().int().positive(),
  restoreTimeObjectiveHours: z.number().positive(),
  monthlyBudgetUsd: z.number().positive().optional(),
});

export const vault = z.object({
  name,
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region like eu-central-1"),
  /** Days in Standard before archive/ exports move to Deep Archive. */
  archiveAfterDays: z.number().int().min(0).default(30),
  /** Expire archive exports after this many days (>= archiveAfterDays + 180 avoids early deletion). */
  archiveExpireDays: z.number().int().positive().optional(),
  noncurrentVersionExpireDays: z.number().int().positive().default(30),
  abortMultipartDays: z.number().int().positive().default(7),
  objectLockDays: z.number().int().min(0).default(0),
  accessLogging: z.boolean().default(false),
  transitionMinimumObjectSize: z
    .enum(["all_storage_classes_128K", "varies_by_storage_class"])
    .default("all_storage_classes_128K"),
});

export const backup = z.object({
  vault,
  borg: z.object({ classes: z.array(borgClass).min(1) }),
  usage: usageProfile,
});

export type BackupConfig = z.output<typeof backup>;
export type VaultConfig = z.output<typeof vault>;
