#!/bin/sh
# Installs Compose v2 (the `docker compose` CLI plugin) on a Debian bookworm machine from Debian trixie's
# docker-compose package (v2.26; a static Go binary that runs on bookworm), without touching the
# system's apt sources: a private apt directory whose only source is the machine's own Debian mirror
# with Suites: trixie, then `apt-get download` + `dpkg -x`, and the binary copied to the plugin path.
# Used by .ci/run, the node runbook (docs/runbooks/node-preparation.md) and the tests' support code (tests/support/compose.ts). Idempotent.
# Usage: install-compose-v2.sh [cache-dir]     (default /var/cache/homelab-compose-v2)
set -eu
PLUGIN=/usr/libexec/docker/cli-plugins/docker-compose
if docker compose version --short 2>/dev/null | grep -Eq '^v?2\.'; then exit 0; fi
dir=${1:-/var/cache/homelab-compose-v2}
mkdir -p "$dir/sources" "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/x"
# The machine's own Debian mirror, as its bookworm sources name it.
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(http[^ ]*\/debian\)\/\{0,1\} bookworm .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || { echo "install-compose-v2: no Debian mirror found in the apt sources" >&2; exit 1; }
cat >"$dir/sources/trixie.sources" <<SRC
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_private() {
  apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$dir/sources" \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o APT::Get::List-Cleanup=0 "$@"
}
apt_private update >/dev/null
(cd "$dir" && rm -f docker-compose_*.deb && apt_private download docker-compose >/dev/null)
rm -rf "$dir/x" && mkdir -p "$dir/x"
dpkg -x "$dir"/docker-compose_*.deb "$dir/x"
install -D -m 0755 "$dir/x/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN"
docker compose version
