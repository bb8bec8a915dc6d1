#!/bin/bash
# Shared functions of the homelab Borg jobs: /usr/local/lib/homelab-backup/common.sh on the storage node,
# sourced by every job script. analysis/backup/borg-scripts.ts renders it: this file with its parameters
# set in front of it, then the sink's functions (sink-s3.sh or sink-dir.sh). Parameters:
#   HB_METRICS_DIR       node-exporter's textfile collector directory
#   HB_STATE_DIR         locks, stamps and Borg's security dir
#   HB_CACHE_DIR         Borg's cache lives in $HB_CACHE_DIR/borg
#   HB_SCRATCH_ROOT      where restore drills extract (unless HB_SCRATCH is set)
#   HB_KNOWN_HOSTS       the pulls' only known_hosts file
#   HB_SNAPSHOT          the name of the ZFS snapshot a backup reads
#   HB_MANIFEST_PATH     where the manifest of every file sits in an archive
#   HB_METRIC_SUCCESS, HB_METRIC_RUN, HB_METRIC_OK   the metric names alerts watch
set -euo pipefail
umask 077
export LC_ALL=C
# Borg's security dir (nonce, key-type memory) must persist across runs: keep it out of /root and /tmp.
export BORG_BASE_DIR="$HB_STATE_DIR/borg"
export BORG_CACHE_DIR="$HB_CACHE_DIR/borg"
export BORG_RELOCATED_REPO_ACCESS_IS_OK=no
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no
mkdir -p -- "$HB_STATE_DIR" "$BORG_BASE_DIR" "$BORG_CACHE_DIR"
hb_passphrase() {
  # Borg reads the passphrase from the root-only credential file itself (BORG_PASSCOMMAND holds a path):
  # the secret is never in argv, a unit file or this script. A BORG_PASSPHRASE already in the
  # environment (EnvironmentFile= of a 0600 file) is respected.
  if [ -n "${BORG_PASSPHRASE:-}" ] || [ -n "${BORG_PASSCOMMAND:-}" ]; then return 0; fi
  local cred="${CREDENTIALS_DIRECTORY:?no credentials: run through systemd (LoadCredential) or set CREDENTIALS_DIRECTORY}/borg-passphrase"
  [ -r "$cred" ] || { echo "missing credential $cred" >&2; return 1; }
  export BORG_PASSCOMMAND="cat -- '$cred'"
}

hb_encrypt() {
  # gpg reads the passphrase from the credential file, or from a pipe fed by the printf builtin: the
  # secret never appears in an argument list.
  local home rc=0
  home=$(mktemp -d)
  if [ -n "${CREDENTIALS_DIRECTORY:-}" ] && [ -r "$CREDENTIALS_DIRECTORY/borg-passphrase" ]; then
    GNUPGHOME="$home" gpg --batch --quiet --no-tty --pinentry-mode loopback \
      --passphrase-file "$CREDENTIALS_DIRECTORY/borg-passphrase" \
      --symmetric --cipher-algo AES256 --compress-algo none -o - || rc=$?
  else
    GNUPGHOME="$home" gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase-fd 3 \
      --symmetric --cipher-algo AES256 --compress-algo none -o - 3< <(printf '%s' "${BORG_PASSPHRASE:?}") || rc=$?
  fi
  rm -rf -- "$home"
  return "$rc"
}

hb_lock() {
  # One run per job at a time, also against a manual run next to the timer.
  exec 9>"$HB_STATE_DIR/$1.lock"
  flock -w 3600 9
}

hb_write_atomic() {
  # Same directory + rename: the collector never reads a half-written file. The temporary name does not
  # end in .prom, so it is never collected either.
  local dest=$1 tmp
  tmp=$(mktemp "$dest.XXXXXX.tmp")
  cat >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$dest"
}

hb_metric() {
  local task=$1 dataset=$2 ok=$3 now base labels
  now=$(date +%s)
  base="$HB_METRICS_DIR/homelab_backup_${task}_$(echo "$dataset" | tr -c 'A-Za-z0-9_.\n-' '-')"
  # "task", not "job": a "job" label would clash with the scrape job's label (exported_job).
  labels="dataset=\"$dataset\",class=\"$HB_CLASS\",task=\"$task\""
  mkdir -p -- "$HB_METRICS_DIR"
  if [ "$ok" = 1 ]; then
    printf '# HELP %s Unix time of the last successful backup job.\n# TYPE %s gauge\n%s{%s} %s\n' \
      "$HB_METRIC_SUCCESS" "$HB_METRIC_SUCCESS" "$HB_METRIC_SUCCESS" "$labels" "$now" |
      hb_write_atomic "$base.success.prom"
  fi
  {
    printf '# HELP %s Unix time of the last finished run.\n# TYPE %s gauge\n%s{%s} %s\n' \
      "$HB_METRIC_RUN" "$HB_METRIC_RUN" "$HB_METRIC_RUN" "$labels" "$now"
    printf '# HELP %s 1 if the last run succeeded.\n# TYPE %s gauge\n%s{%s} %s\n' \
      "$HB_METRIC_OK" "$HB_METRIC_OK" "$HB_METRIC_OK" "$labels" "$ok"
  } | hb_write_atomic "$base.run.prom"
}

HB_FAILED=0
hb_run() {
  # hb_run "<task> [task...]" "<dataset> [dataset...]" <function> [args...]
  # The function runs in a subshell with errexit on (bash ignores errexit inside functions called from
  # a condition, so they are never called from one); the outcome becomes metrics, not an early exit.
  local tasks=$1 datasets=$2 rc t d
  shift 2
  set +e
  ("$@")
  rc=$?
  set -e
  for t in $tasks; do
    for d in $datasets; do hb_metric "$t" "$d" "$([ "$rc" = 0 ] && echo 1 || echo 0)"; done
  done
  if [ "$rc" != 0 ]; then
    echo "homelab-backup: $tasks failed (exit $rc) for: $datasets" >&2
    HB_FAILED=1
  fi
}
hb_exit() { exit "$HB_FAILED"; }

hb_member_datasets() {
  local pair out=""
  for pair in $HB_MEMBERS; do out="$out ${pair%%=*}"; done
  echo "$out"
}

hb_latest_archive() {
  local a
  a=$(borg list --lock-wait 3600 --short --glob-archives "$1@*" --last 1)
  [ -n "$a" ] || { echo "no archive matching $1@* in $BORG_REPO" >&2; return 1; }
  echo "$a"
}

hb_snapshot() {
  # Prints the snapshot's .zfs/snapshot path. A snapshot left by a crashed run is replaced.
  local ds=$1 mnt
  zfs destroy "$ds@$HB_SNAPSHOT" >/dev/null 2>&1 || true
  zfs snapshot "$ds@$HB_SNAPSHOT"
  mnt=$(zfs get -H -o value mountpoint "$ds")
  [ -d "$mnt/.zfs/snapshot/$HB_SNAPSHOT" ] || { echo "snapshot of $ds not visible under $mnt" >&2; return 1; }
  echo "$mnt/.zfs/snapshot/$HB_SNAPSHOT"
}
hb_snapshot_destroy() { zfs destroy "$1@$HB_SNAPSHOT" || echo "warning: could not destroy $1@$HB_SNAPSHOT" >&2; }

hb_pull() {
  # Network-node dataset: snapshot it there, mirror the snapshot into a local dataset, drop the snapshot.
  local user=$1 host=$2 port=$3 remote=$4 local_ds=$5 rmnt lmnt
  local ssh_cmd=(ssh -i "${CREDENTIALS_DIRECTORY:?}/pull-ssh-key" -p "$port" -o BatchMode=yes
    -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$HB_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null)
  # The remote commands are one string on purpose: ssh hands it to the remote shell, which expands it there.
  "${ssh_cmd[@]}" "$user@$host" "sudo -n zfs destroy $remote@$HB_SNAPSHOT 2>/dev/null; sudo -n zfs snapshot $remote@$HB_SNAPSHOT"
  rmnt=$("${ssh_cmd[@]}" "$user@$host" "zfs get -H -o value mountpoint $remote")
  zfs list -H -o name "$local_ds" >/dev/null 2>&1 || zfs create -p "$local_ds"
  lmnt=$(zfs get -H -o value mountpoint "$local_ds")
  # rsync -e takes the ssh command as one string and splits it at spaces (no path here has one).
  rsync -aHAX --numeric-ids --delete -e "${ssh_cmd[*]}" --rsync-path="sudo -n rsync" \
    "$user@$host:$rmnt/.zfs/snapshot/$HB_SNAPSHOT/" "$lmnt/"
  "${ssh_cmd[@]}" "$user@$host" "sudo -n zfs destroy $remote@$HB_SNAPSHOT"
}

hb_manifest() {
  # sha256 of every regular file under the current directory, byte-sorted; the manifest's own
  # directory is reserved. The drill regenerates it the same way and compares.
  find . -path "./${HB_MANIFEST_PATH%%/*}" -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum --
}

hb_list_files() { (cd "$1" && find . -path ./lock.exclusive -prune -o -type f ! -name lock.roster -print | sort); }

hb_check_restore() {
  local dir=$1 actual
  [ -f "$dir/$HB_MANIFEST_PATH" ] || { echo "restore drill: archive has no $HB_MANIFEST_PATH" >&2; return 1; }
  actual=$(mktemp)
  (cd "$dir" && hb_manifest) >"$actual"
  if ! diff -u --label manifest --label restored "$dir/$HB_MANIFEST_PATH" "$actual" >&2; then
    echo "restore drill: MISMATCH between the archive's manifest and the restored files" >&2
    rm -f -- "$actual"
    return 1
  fi
  echo "restore drill: ok, $(wc -l <"$actual") files match the manifest"
  rm -f -- "$actual"
}
