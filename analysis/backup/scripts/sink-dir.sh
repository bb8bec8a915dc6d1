#!/bin/bash
# The vault's stand-in when it is a local directory (tests, or an external disk): the sink functions of
# common.sh, in the bucket's layout. Parameter: HB_SINK_DIR, the directory.
hb_sink_env() { :; }
hb_sink_exists() { [ -e "$HB_SINK_DIR/$1" ]; }
# A directory has no Object Lock; the export is write-once by the existence check alone.
hb_sink_lock() { :; }
hb_sink_put() {
  local dest="$HB_SINK_DIR/$1"
  mkdir -p -- "$(dirname -- "$dest")"
  cat >"$dest.partial"
  mv -f -- "$dest.partial" "$dest"
}
hb_sync_dir() {
  mkdir -p -- "$HB_SINK_DIR/$2"
  tar -C "$1" --exclude=./lock.exclusive --exclude=./lock.roster -cf - . | tar -C "$HB_SINK_DIR/$2" -xf -
  hb_list_files "$1" | hb_sink_put "$2.files"
}
