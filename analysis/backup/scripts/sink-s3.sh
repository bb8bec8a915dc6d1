#!/bin/bash
# The sink functions of common.sh for the S3 vault, with the writer credentials (put + list, no get, no
# delete). Parameters:
#   HB_BUCKET, HB_REGION   the vault
#   HB_ENDPOINT_URL        another S3 endpoint (an S3-compatible service, or a test server); empty: AWS
#   HB_LOCK_MODE, HB_LOCK_DAYS   Object Lock retention of every archive/ export; empty: no Object Lock
#   HB_LOCK_MARGIN_DAYS    days added, so S3's count of whole days never falls below the bucket's minimum
hb_aws() {
  if [ -n "$HB_ENDPOINT_URL" ]; then aws --endpoint-url "$HB_ENDPOINT_URL" "$@"; else aws "$@"; fi
}
hb_sink_env() {
  export AWS_SHARED_CREDENTIALS_FILE="${CREDENTIALS_DIRECTORY:?}/aws-credentials"
  export AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION="$HB_REGION"
}
hb_sink_exists() {
  # HeadObject needs GetObject, which the writer does not have; ListBucket is enough.
  # shellcheck disable=SC2016 # the backquotes are JMESPath's literal, not a command substitution
  [ "$(hb_aws s3api list-objects-v2 --bucket "$HB_BUCKET" --prefix "$1" --max-items 1 --query 'length(Contents || `[]`)' --output text)" != 0 ]
}
hb_sink_put() {
  # --expected-size lets the CLI pick parts large enough for multi-TiB streams (10,000-part limit).
  hb_aws s3 cp --only-show-errors --expected-size "${HB_EXPECTED_SIZE:-1099511627776}" - "s3://$HB_BUCKET/$1"
}
hb_sync_dir() {
  # No --delete: the writer cannot delete. Segments freed by compact stay behind until versioned
  # clean-up; the file list uploaded last names the files of the current repository state, and a
  # restore picks, for each listed file, the version that was current when that list was written.
  # The lock with-lock holds right now must not travel: a restored copy would look locked.
  hb_aws s3 sync --only-show-errors --no-progress --exclude 'lock.*' "$1" "s3://$HB_BUCKET/$2"
  hb_list_files "$1" | hb_sink_put "$2.files"
}
if [ -z "$HB_LOCK_MODE" ]; then
  hb_sink_lock() { echo "export: $1 is not locked (the vault has no Object Lock)"; }
else
  hb_sink_lock() {
    # Object Lock on the current version of an export: S3 answers success only once the lock is set.
    # Without s3:BypassGovernanceRetention the writer can set or extend a lock, never shorten or remove
    # it, so setting "now + days" again (a rerun after an interrupted upload) never fails on an existing
    # lock. (The writer has no s3:GetObject, and therefore no HeadObject to read a lock back.)
    local key=$1 until
    until=$(date -u -d "+$((HB_LOCK_DAYS + HB_LOCK_MARGIN_DAYS)) days" +%Y-%m-%dT%H:%M:%SZ)
    hb_aws s3api put-object-retention --bucket "$HB_BUCKET" --key "$key" \
      --retention "Mode=$HB_LOCK_MODE,RetainUntilDate=$until"
    echo "export: $key locked ($HB_LOCK_MODE until $until)"
  }
fi
