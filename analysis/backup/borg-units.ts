/** The systemd units of the Borg jobs: a oneshot service per job, a timer per scheduled one. */

/** A job's service: `creds` are LoadCredential id/file pairs, `extra` more [Unit] lines. */
export function renderService(
  description: string,
  exec: string,
  creds: [string, string][],
  extra: string[],
): string {
  return `# Rendered by homelab (analysis/backup/borg-units.ts); edits on the host are overwritten.
[Unit]
Description=${description}
Wants=network-online.target
After=network-online.target zfs-mount.service
${extra.join("\n")}${extra.length ? "\n" : ""}
[Service]
Type=oneshot
ExecStart=${exec}
# Secrets arrive as root-only files under $CREDENTIALS_DIRECTORY, never in this file or on a command line.
${creds.map(([id, file]) => `LoadCredential=${id}:${file}`).join("\n")}
Nice=10
IOSchedulingClass=idle
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ProtectHome=read-only
`;
}

export function renderTimer(description: string, onCalendar: string, delay: string): string {
  return `# Rendered by homelab (analysis/backup/borg-units.ts); edits on the host are overwritten.
[Unit]
Description=${description}

[Timer]
OnCalendar=${onCalendar}
# A node that was off at the scheduled time runs the job at boot instead of skipping it.
Persistent=true
# Spread jobs sharing a calendar; they also serialize on the repository lock.
RandomizedDelaySec=${delay}

[Install]
WantedBy=timers.target
`;
}
