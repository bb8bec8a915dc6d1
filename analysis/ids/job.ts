import { shellQuote as q } from "../text/shell";
import {
  METRIC_ALERTS,
  METRIC_HELP,
  METRIC_LAST_ALERT,
  METRIC_LAST_RUN,
  METRIC_LAST_SUCCESS,
  METRIC_MISSED,
  METRIC_POLL_OK,
  METRIC_RULES_UPDATED,
  METRIC_RULESETS,
  METRIC_RUNNING,
} from "./metrics";
import type { IdsJobSpec } from "./spec";

/**
 * The alert job on the network node: a systemd timer runs poll.sh, which reads the gateway's API with
 * curl and jq (Debian packages) and writes node-exporter metrics. OPNsense's own exporter plugin has no
 * Suricata metrics, and a textfile on the gateway would need a shell there; the API has what is needed:
 *
 * - `POST ids/service/query_alerts` (IDS/Api/ServiceController::queryAlertsAction → scripts/suricata/
 *   queryAlertLog.py): eve.json's alert records, newest first, `alert` replaced by the signature text,
 *   plus `alert_sid`, `alert_action` (allowed | blocked) and `filepos`. `rowCount` must be positive (-1
 *   returns nothing), and `total` stops counting one row past the page.
 * - `GET ids/service/status` (ApiMutableServiceControllerBase::statusAction): running | stopped | disabled.
 * - `POST ids/settings/list_rulesets`: each file's `enabled` and `modified_local` (`Y/m/d G:i`, the
 *   gateway's local time).
 *
 * Between runs the job keeps a watermark (the newest alert's identity) and cumulative counters; alerts
 * newer than the watermark are counted. If the watermark is not among one page of rows (the log rotated,
 * or more alerts came than a page holds) the whole page is counted and, when the page was full, the run
 * is counted as missed. The first run only sets the watermark: old alerts are not news.
 */

const header = (what: string) => [
  "#!/bin/sh",
  `# Rendered by homelab (analysis/ids/job.ts): ${what}`,
  "# Do not edit on the host: the next deploy rewrites it. See docs/ids.md.",
];

/** Merges the API answers into the next state and the metric values ($state, $status, $alerts, $rulesets). */
export const POLL_JQ = [
  "def epoch:",
  '  (capture("^(?<b>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})([.][0-9]+)?(?<z>Z|[+-][0-9]{2}:?[0-9]{2})?$") // null) as $c',
  "  | if $c == null then null",
  '    else ($c.b + "Z" | fromdateiso8601) as $t',
  '    | if ($c.z // "Z") == "Z" then $t',
  '      else ($c.z | capture("(?<s>[+-])(?<h>[0-9]{2}):?(?<m>[0-9]{2})")) as $o',
  '      | $t - (if $o.s == "-" then -1 else 1 end) * (($o.h | tonumber) * 3600 + ($o.m | tonumber) * 60)',
  "      end",
  "    end;",
  'def key: "\\(.timestamp)|\\(.alert_sid)|\\(.src_ip)|\\(.src_port)|\\(.dest_ip)|\\(.dest_port)|\\(.flow_id)";',
  "($state[0] // {}) as $s",
  "| ($alerts[0].rows // []) as $rows",
  "| ($rows | map(key)) as $keys",
  "| $s.watermark as $w",
  "| (if $w == null then {new: [], missed: false}",
  '   else (if $w == "" then null else ($keys | index($w)) end) as $i',
  "   | if $i == null then {new: $rows, missed: (($rows | length) >= $page)} else {new: $rows[:$i], missed: false} end",
  "   end) as $r",
  '| ($r.new | map(.alert_action // "unknown" | tostring | gsub("[^a-z_]"; "_")) | group_by(.) | map({key: .[0], value: length}) | from_entries) as $inc',
  "| (reduce ($inc | to_entries[]) as $e ({allowed: 0, blocked: 0} + ($s.counts // {}); .[$e.key] = ((.[$e.key] // 0) + $e.value))) as $counts",
  "| ([$rows[0].timestamp | select(. != null) | epoch] | first // $s.lastAlert // 0) as $last",
  '| ($rulesets[0].rows // [] | map(select(.enabled == "1"))) as $on',
  '| ([$on[] | .modified_local | select(type == "string") | strptime("%Y/%m/%d %H:%M") | mktime] | max // 0) as $updated',
  "| {",
  '    state: {watermark: (if ($keys | length) > 0 then $keys[0] else ($w // "") end), counts: $counts, lastAlert: $last,',
  "            missed: (($s.missed // 0) + (if $r.missed then 1 else 0 end)), lastSuccess: $now},",
  '    running: (if $status[0].status == "running" then 1 else 0 end),',
  "    rulesets: ($on | length),",
  "    updated: $updated",
  "  }",
].join("\n");

const help = (m: string, type: "gauge" | "counter") => [
  `# HELP ${m} ${METRIC_HELP[m]}`,
  `# TYPE ${m} ${type}`,
];

const helpExpr = (m: string, type: "gauge" | "counter") => JSON.stringify(help(m, type).join("\n"));

/** The textfile from a result ({state, running?, rulesets?, updated?}); $ok and $now from the run. */
export const METRICS_JQ = `[
${[
  helpExpr(METRIC_ALERTS, "counter"),
  `(.state.counts // {allowed: 0, blocked: 0} | to_entries[] | "${METRIC_ALERTS}{action=\\"\\(.key)\\"} \\(.value)")`,
  helpExpr(METRIC_MISSED, "counter"),
  `"${METRIC_MISSED} \\(.state.missed // 0)"`,
  helpExpr(METRIC_LAST_ALERT, "gauge"),
  `"${METRIC_LAST_ALERT} \\(.state.lastAlert // 0)"`,
  `(if .running == null then empty else (${helpExpr(METRIC_RUNNING, "gauge")}, "${METRIC_RUNNING} \\(.running)") end)`,
  `(if .rulesets == null then empty else (${helpExpr(METRIC_RULESETS, "gauge")}, "${METRIC_RULESETS} \\(.rulesets)") end)`,
  `(if .updated == null then empty else (${helpExpr(METRIC_RULES_UPDATED, "gauge")}, "${METRIC_RULES_UPDATED} \\(.updated)") end)`,
  helpExpr(METRIC_POLL_OK, "gauge"),
  `"${METRIC_POLL_OK} \\($ok)"`,
  helpExpr(METRIC_LAST_RUN, "gauge"),
  `"${METRIC_LAST_RUN} \\($now)"`,
  helpExpr(METRIC_LAST_SUCCESS, "gauge"),
  `"${METRIC_LAST_SUCCESS} \\(.state.lastSuccess // 0)"`,
].join(",\n")}
] | join("\\n")`;

export function renderPollScript(spec: IdsJobSpec): string {
  const p = spec.paths;
  return [
    ...header("reads Suricata's alerts from the gateway's API and writes node-exporter metrics."),
    "set -eu",
    "umask 077",
    `URL=${q(spec.url.replace(/\/+$/, "").replace(/\/api$/, ""))}`,
    `CONFIG_DIR=${q(p.configDir)}`,
    `STATE_DIR=${q(p.stateDir)}`,
    `METRICS=${q(p.metricsFile)}`,
    `PAGE=${spec.page}`,
    "# shellcheck disable=SC2016 # jq programs: their $ is jq's, not the shell's",
    `POLL_JQ=${q(POLL_JQ)}`,
    "# shellcheck disable=SC2016",
    `METRICS_JQ=${q(METRICS_JQ)}`,
    "",
    "log() { printf 'homelab-ids-alerts: %s\\n' \"$*\" >&2; }",
    "",
    'mkdir -p "$STATE_DIR"',
    "# One run at a time: the state file is read and replaced.",
    'exec 9>"$STATE_DIR/.lock"',
    "if ! flock -n 9; then log 'another run is active'; exit 75; fi",
    'work=$(mktemp -d "$STATE_DIR/run.XXXXXX")',
    "trap 'rm -rf \"$work\"' EXIT",
    "",
    "# curl.conf holds the API key and secret (`user = ...`) and the CA: never on the command line.",
    "api() {",
    '  if [ "$#" -gt 1 ]; then',
    '    curl -sS --fail --max-time 30 -K "$CONFIG_DIR/curl.conf" -H \'Content-Type: application/json\' --data "$2" "$URL/api/$1"',
    "  else",
    '    curl -sS --fail --max-time 30 -K "$CONFIG_DIR/curl.conf" "$URL/api/$1"',
    "  fi",
    "}",
    "",
    "write_metrics() {",
    '  jq -r --argjson ok "$1" --argjson now "$now" "$METRICS_JQ" "$2" > "$METRICS.$$"',
    "  # umask 077 above: node-exporter (its own user) must still read the metrics.",
    '  chmod 0644 "$METRICS.$$"',
    '  mv -f "$METRICS.$$" "$METRICS"',
    "}",
    "",
    "now=$(date +%s)",
    '[ -s "$STATE_DIR/state.json" ] || echo \'{}\' > "$STATE_DIR/state.json"',
    "ok=1",
    'api ids/service/status > "$work/status.json" || ok=0',
    '[ "$ok" = 0 ] || api ids/service/query_alerts "{\\"current\\":1,\\"rowCount\\":$PAGE,\\"searchPhrase\\":\\"\\"}" > "$work/alerts.json" || ok=0',
    '[ "$ok" = 0 ] || api ids/settings/list_rulesets \'{"current":1,"rowCount":-1,"searchPhrase":""}\' > "$work/rulesets.json" || ok=0',
    'if [ "$ok" = 1 ]; then',
    '  jq -n --argjson page "$PAGE" --argjson now "$now" --slurpfile state "$STATE_DIR/state.json" \\',
    '    --slurpfile status "$work/status.json" --slurpfile alerts "$work/alerts.json" \\',
    '    --slurpfile rulesets "$work/rulesets.json" "$POLL_JQ" > "$work/result.json" || ok=0',
    "fi",
    'if [ "$ok" = 0 ]; then',
    "  # Counters stay as they were; the failure is a metric of its own.",
    '  jq \'{state: .}\' "$STATE_DIR/state.json" > "$work/result.json"',
    '  write_metrics 0 "$work/result.json"',
    "  log \"could not read the gateway's API at $URL (see curl's message above)\"",
    "  exit 1",
    "fi",
    'jq \'.state\' "$work/result.json" > "$work/state.json"',
    'mv -f "$work/state.json" "$STATE_DIR/state.json"',
    'write_metrics 1 "$work/result.json"',
    "",
  ].join("\n");
}

/** `user = "<key>:<secret>"` (+ the CA) for curl -K; rendered at deploy time, delivered on stdin. */
export function renderCurlConfig(apiKey: string, apiSecret: string, caFile?: string): string {
  const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  for (const [what, v] of [
    ["API key", apiKey],
    ["API secret", apiSecret],
  ] as const)
    if (/[\r\n]/.test(v)) throw new Error(`the IDS alert job's ${what} contains a line break`);
  return [
    `user = ${quote(`${apiKey}:${apiSecret}`)}`,
    ...(caFile ? [`cacert = ${quote(caFile)}`] : []),
    "",
  ].join("\n");
}

export const caFileOf = (spec: IdsJobSpec) => `${spec.paths.configDir}/gateway-ca.pem`;

export interface Units {
  service: string;
  timer: string;
}

export function renderUnits(spec: IdsJobSpec): Units {
  const service = [
    "# Rendered by homelab (analysis/ids/job.ts). See docs/ids.md.",
    "[Unit]",
    "Description=homelab: read Suricata alerts from the gateway into node-exporter metrics",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${spec.paths.configDir}/poll.sh`,
    "TimeoutStartSec=2min",
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "ProtectHome=yes",
    // /usr, /boot and /etc read-only: the job writes only its state and the metrics file.
    "ProtectSystem=full",
    "",
  ].join("\n");
  const timer = [
    "# Rendered by homelab (analysis/ids/job.ts). See docs/ids.md.",
    "[Unit]",
    "Description=homelab: read Suricata alerts from the gateway",
    "",
    "[Timer]",
    `OnCalendar=${spec.schedule}`,
    "AccuracySec=15s",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  return { service, timer };
}
