#!/bin/bash
# Borg backup of one dataset (homelab-borg-backup-<slug>.service). analysis/backup/borg-scripts.ts renders
# it: after `. common.sh`, the class's parameters (HB_CLASS, BORG_REPO, HB_MEMBERS) and these:
#   HB_DATASET, HB_SLUG     the dataset and its unit-name and archive-prefix slug
#   HB_LOCAL                the local dataset backed up (the mirror of a pulled one)
#   HB_KEEP_DAILY, HB_KEEP_WEEKLY, HB_KEEP_MONTHLY   what `borg prune` keeps
#   HB_PULL_USER, HB_PULL_HOST, HB_PULL_PORT, HB_PULL_REMOTE   a network-node dataset's source; empty
#                           for a dataset of the storage node

backup() {
  hb_lock "backup-$HB_SLUG"
  hb_passphrase
  if [ -n "$HB_PULL_HOST" ]; then
    # shellcheck disable=SC2153 # HB_PULL_PORT is a parameter the renderer sets, not a misspelt HB_PULL_HOST
    hb_pull "$HB_PULL_USER" "$HB_PULL_HOST" "$HB_PULL_PORT" "$HB_PULL_REMOTE" "$HB_LOCAL"
  fi
  # Back up a ZFS snapshot, not the live files: one consistent point in time. The snapshot name is
  # fixed so the path (and with it Borg's files cache) stays the same from run to run.
  local src
  src=$(hb_snapshot "$HB_LOCAL")
  trap 'hb_snapshot_destroy "$HB_LOCAL"' EXIT
  local manifest
  manifest=$(mktemp)
  (cd "$src" && hb_manifest) >"$manifest"
  # The manifest goes into the archive itself (from stdin), so a drill needs only the archive. "@" never
  # occurs in a slug, so "<slug>@*" cannot match another dataset's archives (immich vs immich-library).
  (cd "$src" && borg create --lock-wait 3600 --compression auto,zstd,3 \
    --stdin-name "$HB_MANIFEST_PATH" --stdin-mode 0444 \
    "::$HB_SLUG@{now:%Y-%m-%dT%H:%M:%S}" - . <"$manifest")
  rm -f -- "$manifest"
  borg prune --lock-wait 3600 --glob-archives "$HB_SLUG@*" \
    --keep-daily "$HB_KEEP_DAILY" --keep-weekly "$HB_KEEP_WEEKLY" --keep-monthly "$HB_KEEP_MONTHLY"
  # prune only marks space free; compact returns it (Borg 1.2+).
  borg compact --lock-wait 3600
}

hb_run backup "$HB_DATASET" backup
hb_exit
