#!/bin/bash
# Verification of one class's repository. A plain `borg check` (CRC32 of every segment entry, archive
# metadata consistency) runs on every verify slot; `--verify-data` (decrypt and authenticate every chunk:
# reads the whole repository) runs when the last one is HB_VERIFY_DATA_EVERY seconds old, or when
# HB_VERIFY_DATA=1. analysis/backup/borg-scripts.ts renders it: after `. common.sh`, the class's
# parameters (HB_CLASS, BORG_REPO, HB_MEMBERS) and HB_VERIFY_DATA_EVERY.
HB_STAMP="$HB_STATE_DIR/verify-data-$HB_CLASS.stamp"

check() {
  hb_passphrase
  borg check --lock-wait 3600 "$@"
}

check_data() {
  check --verify-data
  date +%s | hb_write_atomic "$HB_STAMP"
}

last=0
[ -f "$HB_STAMP" ] && last=$(cat "$HB_STAMP")
if [ "${HB_VERIFY_DATA:-0}" = 1 ] || [ "$(($(date +%s) - last))" -ge "$HB_VERIFY_DATA_EVERY" ]; then
  # A --verify-data check includes everything the plain check does: it counts for both.
  hb_run "verify verify_data" "$(hb_member_datasets)" check_data
else
  hb_run verify "$(hb_member_datasets)" check
fi
hb_exit
