#!/bin/bash
# Copies the live repository of one class to the vault's hot/ prefix (stays in S3 Standard: Borg must be
# able to read it back). Runs under `borg with-lock` so no backup writes while files are copied.
# analysis/backup/borg-scripts.ts renders it: after `. common.sh`, the class's parameters (HB_CLASS,
# BORG_REPO, HB_MEMBERS) and HB_LIB (the path of common.sh, which the locked shell sources again).

sync_repo() {
  hb_passphrase
  hb_sink_env
  # shellcheck disable=SC2016 # "$1".."$3" are the inner shell's arguments, expanded there
  borg with-lock --lock-wait 3600 "$BORG_REPO" bash -c '. "$1"; hb_sync_dir "$2" "$3"' _ "$HB_LIB" "$BORG_REPO" "hot/borg/$HB_CLASS"
}

hb_run sync "$(hb_member_datasets)" sync_repo
hb_exit
