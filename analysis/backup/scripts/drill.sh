#!/bin/bash
# Restore drill of one dataset: the same steps as `npm run restore-drill` (tools/restore-drill.ts).
# Usage: drill-<slug>.sh [archive]   (default: the latest archive of this dataset)
# analysis/backup/borg-scripts.ts renders it: after `. common.sh`, the class's parameters (HB_CLASS,
# BORG_REPO, HB_MEMBERS) and HB_DATASET, HB_SLUG (the dataset and its archive-prefix slug).

drill() {
  hb_passphrase
  local archive=${1:-}
  [ -n "$archive" ] || archive=$(hb_latest_archive "$HB_SLUG")
  # Global, not local: the EXIT trap runs after this function has returned.
  HB_DRILL_DIR="${HB_SCRATCH:-$HB_SCRATCH_ROOT}/$HB_SLUG"
  rm -rf -- "$HB_DRILL_DIR"
  mkdir -p -- "$HB_DRILL_DIR"
  trap 'rm -rf -- "$HB_DRILL_DIR"' EXIT
  echo "restore drill: extracting $archive into $HB_DRILL_DIR"
  (cd "$HB_DRILL_DIR" && borg extract --lock-wait 3600 "::$archive")
  hb_check_restore "$HB_DRILL_DIR"
}

hb_run restore_drill "$HB_DATASET" drill "$@"
hb_exit
