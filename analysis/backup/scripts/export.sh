#!/bin/bash
# Monthly write-once export of the latest archive of every dataset of one class into archive/ (moves to
# Deep Archive). `borg export-tar` gives a plain tar, readable without Borg; it is encrypted with gpg and
# the class passphrase before it leaves the node. An archive already exported is never written again.
# analysis/backup/borg-scripts.ts renders it: after `. common.sh`, the class's parameters (HB_CLASS,
# BORG_REPO, HB_MEMBERS).

export_one() {
  local slug=$1 archive key
  hb_passphrase
  hb_sink_env
  archive=$(hb_latest_archive "$slug")
  key="archive/borg/$HB_CLASS/$slug/$archive.tar.gpg"
  # Sizes the multipart upload (S3 allows 10,000 parts); 10 % headroom for tar and gpg framing.
  HB_EXPECTED_SIZE=$(borg info --lock-wait 3600 --json "::$archive" |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["archives"][0]["stats"]["original_size"]*1.1)+2**20)')
  export HB_EXPECTED_SIZE
  if hb_sink_exists "$key"; then
    echo "export: $key already exists (write-once), nothing to do"
    # An earlier run may have stopped between the upload and the lock.
    hb_sink_lock "$key"
    return 0
  fi
  borg export-tar --lock-wait 3600 "::$archive" - | hb_encrypt | hb_sink_put "$key"
  hb_sink_lock "$key"
  echo "export: wrote $key"
}

for pair in $HB_MEMBERS; do
  hb_run export "${pair%%=*}" export_one "${pair#*=}"
done
hb_exit
