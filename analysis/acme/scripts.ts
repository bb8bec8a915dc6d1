import { shellQuote as q } from "../text/shell";
import { FORCE_DAYS, legoFileStem, legoGlobalArgs } from "./lego";
import { METRIC_EXPIRY, METRIC_HELP, METRIC_LAST_RUN, METRIC_LAST_SUCCESS, METRIC_OK } from "./metrics";
import { ACME_UNIT, type AcmeSpec } from "./spec";

/**
 * The files of the renewal job on the network node: renew.sh (what the systemd service runs, and what
 * an operator runs to force a renewal), the systemd service and timer, and lego's environment file; the
 * root helper installs them (components/network/Certificates.ts acmeJobFiles). Pure renderers; tests run
 * the very same scripts against Debian's pebble and lego and a real HAProxy.
 *
 * Certificates reach HAProxy without a restart through its runtime API (haproxy/haproxy doc/management.txt
 * and src/ssl_ckch.c at v2.6.0 and v3.0.0, same behaviour in both):
 * - `set ssl cert <file> <<` + PEM payload + an empty line opens a transaction on a certificate the
 *   configuration references ("Transaction created for certificate <file>!", or "updated" when one is
 *   open); the payload must not contain empty lines (the empty line ends it), and the whole command must
 *   fit in tune.bufsize (16 kB by default);
 * - `commit ssl cert <file>` swaps it in for new handshakes ("Success!"); established connections keep
 *   their session; `abort ssl cert <file>` drops a transaction;
 * - `show ssl cert <file>` prints "SHA1 FingerPrint: <HEX>" and "notAfter: <date>" of what is loaded.
 */

const scriptHeader = (what: string) => [
  "#!/bin/sh",
  `# Rendered by homelab (analysis/acme/scripts.ts): ${what}`,
  "# Do not edit on the host: the next deploy rewrites it. See docs/certificates.md.",
];

/** Bytes a runtime API command may carry (HAProxy's default tune.bufsize is 16384; headroom for the command). */
export const MAX_RUNTIME_PAYLOAD = 15000;

export function renderRenewScript(spec: AcmeSpec): string {
  const p = spec.paths;
  const lego = legoGlobalArgs(spec.lego).map(q).join(" ");
  const stem = legoFileStem(spec.lego.domains[0]!);
  const label = `certificate="${spec.name}"`;
  const help = (m: string) => [`# HELP ${m} ${METRIC_HELP[m]}`, `# TYPE ${m} gauge`];
  return [
    ...scriptHeader("renews the ingress certificate (ACME DNS-01 through lego) and hands it to HAProxy."),
    "#   renew.sh           renew when fewer than the configured days remain (what the timer runs)",
    "#   renew.sh --force   renew now, whatever the expiry",
    "set -eu",
    "umask 077",
    `CONFIG_DIR=${q(p.configDir)}`,
    `STATE_DIR=${q(p.stateDir)}`,
    `CERT=${q(p.certificate)}`,
    `HAPROXY_CERT=${q(p.haproxyCertificate)}`,
    `SOCKET=${q(p.socket)}`,
    `CERT_GROUP=${spec.certGroup}`,
    `METRICS=${q(p.metricsFile)}`,
    `CRT="$STATE_DIR/certificates/"${q(`${stem}.crt`)}`,
    `KEY="$STATE_DIR/certificates/"${q(`${stem}.key`)}`,
    "",
    "force=0",
    'case "${1:-}" in',
    "  --force) force=1 ;;",
    '  "") ;;',
    '  *) echo "usage: $0 [--force]" >&2; exit 64 ;;',
    "esac",
    "",
    "log() { printf 'homelab-acme: %s\\n' \"$*\" >&2; }",
    "",
    'mkdir -p "$STATE_DIR"',
    "# One run at a time: the timer and an operator's --force must not interleave transactions.",
    'exec 9>"$STATE_DIR/.lock"',
    "if ! flock -n 9; then log 'another renewal is running'; exit 75; fi",
    "",
    "# The DNS provider's credentials (mode 0600, written by the deploy from Pulumi secrets).",
    "set -a",
    "# shellcheck source=/dev/null",
    '. "$CONFIG_DIR/lego.env"',
    "set +a",
    "",
    "haproxy_cmd() {",
    '  printf \'%s\\n\' "$1" | socat -t 10 - "UNIX-CONNECT:$SOCKET"',
    "}",
    "",
    "# A field of `show ssl cert` for the bundle HAProxy has loaded; fails when HAProxy is not reachable.",
    "served() {",
    '  [ -S "$SOCKET" ] || return 1',
    '  out=$(haproxy_cmd "show ssl cert $HAPROXY_CERT") || return 1',
    '  v=$(printf \'%s\\n\' "$out" | sed -n "s/^$1: //p" | head -n 1)',
    '  [ -n "$v" ] || return 1',
    "  printf '%s\\n' \"$v\"",
    "}",
    "",
    "fingerprint() {",
    "  openssl x509 -noout -fingerprint -sha1 -in \"$1\" | sed 's/^[^=]*=//; s/://g' | tr 'a-f' 'A-F'",
    "}",
    "",
    "# Writes chain + key as one PEM next to the target, then renames it over: HAProxy (or a restart)",
    "# never sees half a file. Readable by HAProxy's group only.",
    "install_bundle() {",
    '  if [ ! -s "$CRT" ] || [ ! -s "$KEY" ]; then',
    '    log "lego left no certificate in $STATE_DIR/certificates"',
    "    return 1",
    "  fi",
    '  dir=$(dirname "$CERT")',
    '  mkdir -p "$dir"',
    '  tmp=$(mktemp "$dir/.acme.pem.XXXXXX")',
    '  cat "$CRT" "$KEY" | sed \'/^[[:space:]]*$/d\' > "$tmp"',
    '  if ! openssl x509 -noout -checkend 0 -in "$tmp" >/dev/null; then',
    '    rm -f "$tmp"; log "the new certificate has already expired"; return 1',
    "  fi",
    '  if [ -f "$CERT" ] && cmp -s "$tmp" "$CERT"; then rm -f "$tmp"; return 0; fi',
    '  chgrp "$CERT_GROUP" "$tmp"',
    '  chmod 0640 "$tmp"',
    '  mv -f "$tmp" "$CERT"',
    '  log "installed a new bundle at $CERT"',
    "}",
    "",
    "# Hands the bundle to the running HAProxy unless it already serves it (a restart reads the file).",
    "push() {",
    '  if [ ! -S "$SOCKET" ]; then',
    '    log "no HAProxy runtime socket at $SOCKET: HAProxy loads the bundle when it starts"',
    "    return 0",
    "  fi",
    '  want=$(fingerprint "$CERT")',
    '  have=$(served "SHA1 FingerPrint" || true)',
    '  [ "$have" = "$want" ] && return 0',
    '  size=$(wc -c < "$CERT")',
    `  if [ "$size" -gt ${MAX_RUNTIME_PAYLOAD} ]; then`,
    '    log "the bundle ($size bytes) does not fit one runtime API command; restart HAProxy to load it"',
    "    return 1",
    "  fi",
    "  out=$({ printf 'set ssl cert %s <<\\n' \"$HAPROXY_CERT\"; cat \"$CERT\"; printf '\\n'; } |",
    '    socat -t 10 - "UNIX-CONNECT:$SOCKET") || { log "HAProxy runtime socket did not answer"; return 1; }',
    '  case "$out" in',
    '    *"Transaction created for certificate"* | *"Transaction updated for certificate"*) ;;',
    '    *) log "HAProxy refused the new certificate: $out"',
    '       haproxy_cmd "abort ssl cert $HAPROXY_CERT" >/dev/null 2>&1 || true',
    "       return 1 ;;",
    "  esac",
    '  out=$(haproxy_cmd "commit ssl cert $HAPROXY_CERT") || { log "commit got no answer"; return 1; }',
    '  case "$out" in',
    "    *Success!*) ;;",
    '    *) log "HAProxy did not commit the new certificate: $out"',
    '       haproxy_cmd "abort ssl cert $HAPROXY_CERT" >/dev/null 2>&1 || true',
    "       return 1 ;;",
    "  esac",
    '  have=$(served "SHA1 FingerPrint" || true)',
    '  if [ "$have" != "$want" ]; then log "HAProxy still serves $have, not $want"; return 1; fi',
    '  log "HAProxy now serves certificate $want"',
    "}",
    "",
    "write_metrics() {",
    "  now=$(date +%s)",
    '  [ "$1" -eq 1 ] && echo "$now" > "$STATE_DIR/last-success"',
    '  last_success=$(cat "$STATE_DIR/last-success" 2>/dev/null || echo 0)',
    '  expiry=""',
    '  origin=""',
    "  if not_after=$(served notAfter); then",
    '    origin="haproxy"',
    '  elif [ -s "$CERT" ]; then',
    "    not_after=$(openssl x509 -noout -enddate -in \"$CERT\" | sed 's/^notAfter=//')",
    '    origin="file"',
    "  fi",
    '  if [ -n "$origin" ]; then expiry=$(date -d "$not_after" +%s); fi',
    '  dir=$(dirname "$METRICS")',
    '  mkdir -p "$dir"',
    "  # The textfile collector reads *.prom only: the temp name keeps a half-written file out.",
    '  tmp=$(mktemp "$dir/.homelab_certificates.XXXXXX")',
    "  {",
    ...[METRIC_EXPIRY, METRIC_LAST_RUN, METRIC_LAST_SUCCESS, METRIC_OK].flatMap((m) =>
      help(m).map((l) => `    echo ${q(l)}`),
    ),
    `    if [ -n "$expiry" ]; then printf '%s{${label},source="%s"} %s\\n' ${q(METRIC_EXPIRY)} "$origin" "$expiry"; fi`,
    `    printf '%s{${label}} %s\\n' ${q(METRIC_LAST_RUN)} "$now"`,
    `    printf '%s{${label}} %s\\n' ${q(METRIC_LAST_SUCCESS)} "$last_success"`,
    `    printf '%s{${label}} %s\\n' ${q(METRIC_OK)} "$1"`,
    '  } > "$tmp"',
    '  chmod 0644 "$tmp"',
    '  mv -f "$tmp" "$METRICS"',
    "}",
    "",
    "rc=0",
    'if [ -s "$CRT" ] && [ -s "$KEY" ]; then',
    `  days=${spec.renewDays}`,
    `  [ "$force" -eq 1 ] && days=${FORCE_DAYS}`,
    `  lego ${lego} renew --days "$days" --no-random-sleep || rc=$?`,
    "else",
    `  lego ${lego} run || rc=$?`,
    "fi",
    "# Deployed after every run, not from lego's hook: a bundle that failed to reach HAProxy last time",
    "# is handed over on the next run.",
    'if [ "$rc" -eq 0 ]; then install_bundle || rc=$?; fi',
    'if [ "$rc" -eq 0 ]; then push || rc=$?; fi',
    'if [ "$rc" -eq 0 ]; then write_metrics 1; else write_metrics 0; log "renewal failed (exit $rc)"; fi',
    'exit "$rc"',
    "",
  ].join("\n");
}

/** lego.env: `export NAME='value'` lines (sourced by renew.sh); secret values included, so mode 0600. */
export function renderEnvFile(env: Record<string, string>): string {
  const lines = Object.keys(env)
    .sort()
    .map((k) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`"${k}" is not an environment variable name`);
      return `export ${k}=${q(env[k]!)}`;
    });
  return `# Generated by homelab: lego's DNS provider settings and credentials. Keep mode 0600.\n${lines.join("\n")}\n`;
}

export interface Units {
  service: string;
  timer: string;
}

export function renderUnits(spec: AcmeSpec): Units {
  const p = spec.paths;
  const service = [
    "# Rendered by homelab (analysis/acme/scripts.ts). See docs/certificates.md.",
    "[Unit]",
    "Description=homelab: renew the ingress certificate (ACME DNS-01) and hand it to HAProxy",
    "Wants=network-online.target",
    "After=network-online.target docker.service",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${p.configDir}/renew.sh`,
    "TimeoutStartSec=15min",
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "ProtectHome=yes",
    // /usr, /boot and /etc read-only: the job writes only its state, the bundle and the metrics file.
    "ProtectSystem=full",
    "",
  ].join("\n");
  const timer = [
    "# Rendered by homelab (analysis/acme/scripts.ts). See docs/certificates.md.",
    "[Unit]",
    "Description=homelab: renew the ingress certificate when it is due",
    "",
    "[Timer]",
    `OnCalendar=${spec.schedule}`,
    // Spreads the load on the CA (and replaces lego's own random sleep, which --no-random-sleep turns off).
    "RandomizedDelaySec=1h",
    "Persistent=true",
    `Unit=${ACME_UNIT}.service`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  return { service, timer };
}
