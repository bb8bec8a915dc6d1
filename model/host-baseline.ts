import { z } from "zod";
import type { IssueList } from "./errors";

/**
 * One baseline per Docker host (`homelab:hostBaseline` of each stack configures its own node): the host
 * firewall, rendered from the same flows as the gateway's rules (analysis/host/), and automatic
 * security updates with a reboot window (analysis/host/updates.ts), both root-helper jobs. docs/host-baseline.md.
 */

const timeOfDay = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "must be a time of day like 03:30 (24 h, the node's local time)");

export const FIREWALL_DEFAULTS = { confirmSeconds: 120, logDropped: true } as const;

export const hostFirewall = z.strictObject({
  /**
   * How long a new rule set stays on trial: the deploy confirms it over a new SSH session, else the
   * node rolls back to the last confirmed rule set after this many seconds (the lockout guard).
   */
  confirmSeconds: z
    .number()
    .int("must be a whole number of seconds")
    .min(30, "must be at least 30: the confirming SSH session needs time to connect")
    .max(900, "must be at most 900: a node that locked itself out stays unreachable that long")
    .default(FIREWALL_DEFAULTS.confirmSeconds),
  /** Whether dropped packets are logged to the kernel log (rate-limited, prefix "homelab-host drop"). */
  logDropped: z.boolean().default(FIREWALL_DEFAULTS.logDropped),
});

export const UPDATES_DEFAULTS = { time: "03:00", reboot: { automatic: true, time: "04:30" } } as const;

export const hostUpdates = z.strictObject({
  /** When unattended-upgrades installs security updates each day (a systemd timer on the node). */
  time: timeOfDay.default(UPDATES_DEFAULTS.time),
  /** Whether and when the node reboots after an update that needs it (/run/reboot-required). */
  reboot: z
    .strictObject({
      /** false: never reboot by itself; the RebootRequired alert fires instead. */
      automatic: z.boolean().default(UPDATES_DEFAULTS.reboot.automatic),
      /** `shutdown -r <time>`: the reboot waits for this time of day (the next one after the run). */
      time: timeOfDay.default(UPDATES_DEFAULTS.reboot.time),
    })
    .default({ ...UPDATES_DEFAULTS.reboot }),
});

export const HOST_BASELINE_DEFAULTS = {
  firewall: { ...FIREWALL_DEFAULTS },
  updates: { time: UPDATES_DEFAULTS.time, reboot: { ...UPDATES_DEFAULTS.reboot } },
};

export const hostBaseline = z.strictObject({
  /**
   * The node's nftables host firewall. Its rules are not configured here: they are rendered from
   * homelab:flows (the same intents as the gateway's rules) and the management path; these keys only set
   * how it is applied.
   */
  firewall: hostFirewall.default({ ...FIREWALL_DEFAULTS }),
  /** Automatic security updates (Debian unattended-upgrades, the security archive only). */
  updates: hostUpdates.default({ time: UPDATES_DEFAULTS.time, reboot: { ...UPDATES_DEFAULTS.reboot } }),
});

export type HostBaselineConfig = z.output<typeof hostBaseline>;

/** Minutes an update run is given before a reboot may come (dpkg must never be cut off mid-run). */
export const REBOOT_GAP_MINUTES = 60;

const minutes = (t: string): number => {
  const [h, m] = t.split(":").map(Number) as [number, number];
  return h * 60 + m;
};

/**
 * A reboot scheduled inside the hour after the update run would hit a run that is still installing
 * (the next day's run, when today's finished after the reboot time). Only checked when the node
 * reboots by itself.
 */
export function checkHostBaseline(b: HostBaselineConfig, issues: IssueList): void {
  const u = b.updates;
  if (!u.reboot.automatic) return;
  const gap = (minutes(u.reboot.time) - minutes(u.time) + 1440) % 1440;
  if (gap < REBOOT_GAP_MINUTES)
    issues.add(
      ["hostBaseline", "updates", "reboot", "time"],
      `${u.reboot.time} is within ${REBOOT_GAP_MINUTES} minutes of the update run at ${u.time}: a reboot then could interrupt dpkg; pick a time at least an hour later`,
    );
}
