#!/usr/bin/env bash
# A real S3 API server for the offsite tests (tests/borg/offsite.integration.test.ts): moto from Debian trixie, in a
# debootstrap chroot so the bookworm system's packages stay as they are. Built once and cached: a
# second run with the same package list only checks that the server imports and returns.
#
#   sudo bash .ci/moto-chroot.sh            # builds /var/cache/homelab-ci/moto-trixie
#   HOMELAB_MOTO_CHROOT=/some/dir bash .ci/moto-chroot.sh
#
# Needs root (debootstrap, chroot) and the debootstrap package. The tests start and stop the server
# themselves (tests/support/moto.ts), on 127.0.0.1 only.
set -euo pipefail

DIR=${HOMELAB_MOTO_CHROOT:-/var/cache/homelab-ci/moto-trixie}
# python3-moto 5.1.1 in trixie; its server needs flask and flask-cors, which it only recommends.
# (Passing them to debootstrap --include fails on a virtual dependency: install them afterwards.)
PACKAGES="python3-moto python3-flask python3-flask-cors"

# The machine's own Debian mirror (deb822 or one-line format), so no other source is ever contacted.
mirror() {
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -v -- '-security' | head -n1 || true)
  [ -n "$uri" ] || uri=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' \
    /etc/apt/sources.list 2>/dev/null | grep -v -- '-security' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# shellcheck disable=SC2016 # ${Version} is dpkg-query's format, not the shell's
moto_version() { chroot "$1" dpkg-query -W -f '${Version}' python3-moto; }

ready() {
  [ -f "$DIR/.homelab-packages" ] && [ "$(cat "$DIR/.homelab-packages")" = "$PACKAGES" ] &&
    chroot "$DIR" python3 -c 'import moto, flask, flask_cors' 2>/dev/null
}

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9

if ready; then
  echo "moto chroot: $DIR is ready (python3-moto $(moto_version "$DIR"))"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "moto chroot: install debootstrap first" >&2; exit 1; }
tmp="$DIR.new"
if [ -d "$tmp" ]; then
  umount "$tmp/proc" 2>/dev/null || true
  rm -rf --one-file-system "$tmp"
fi
echo "moto chroot: debootstrap trixie into $tmp from $(mirror)"
debootstrap --variant=minbase trixie "$tmp" "$(mirror)" >"$tmp.log" 2>&1 || {
  tail -n 20 "$tmp.log" >&2
  exit 1
}
{
  chroot "$tmp" apt-get update -qq
  # shellcheck disable=SC2086 # the package list is meant to split
  DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get install -y -qq --no-install-recommends $PACKAGES
  chroot "$tmp" apt-get clean
} >"$tmp.log" 2>&1 || {
  tail -n 20 "$tmp.log" >&2
  exit 1
}
echo "$PACKAGES" >"$tmp/.homelab-packages"
rm -f "$tmp.log"

if [ -d "$DIR" ]; then
  umount "$DIR/proc" 2>/dev/null || true
  rm -rf --one-file-system "$DIR"
fi
mv "$tmp" "$DIR"
echo "moto chroot: built $DIR (python3-moto $(moto_version "$DIR"))"
