import type { FieldSpec, Fields } from "./fields";
import type { ModelSpec } from "./models";

/**
 * Intrusion detection (Suricata) and cron as the double needs them, from opnsense/core at 26.1.11 and
 * 26.7.2 (src/opnsense/... below). The IDS model and controllers are the same at both tags apart from
 * the TLS eve-log field list and one App-detect ruleset; 26.1 introduced `general.mode` (pcap, netmap,
 * divert) in place of the older `ips` boolean (models/OPNsense/IDS/Migrations/M1_1_2.php).
 */

const bool = (d: "0" | "1"): FieldSpec => ({ type: "boolean", default: d, required: true });

/** mvc/app/models/OPNsense/IDS/IDS.xml `general` (only this part is exposed by SettingsController::getModelNodes). */
export const IDS_GENERAL: Record<string, FieldSpec> = {
  enabled: bool("0"),
  mode: {
    type: "option",
    required: true,
    default: "pcap",
    options: { pcap: "PCAP live mode (IDS)", netmap: "Netmap (IPS)", divert: "Divert (IPS)" },
    message: "Please select a valid mode.",
  },
  divert_listeners: { type: "integer", required: true, default: "1", min: 1, max: 256 },
  promisc: bool("0"),
  interfaces: { type: "interface", multiple: true, required: true, default: "wan", ids: true },
  homenet: {
    type: "network",
    asList: true,
    required: true,
    default: "192.168.0.0/16,10.0.0.0/8,172.16.0.0/12",
  },
  defaultPacketSize: { type: "integer", min: 82, max: 65535, message: "Enter a valid packet size." },
  // ModelRelationField to OPNsense.Cron.Cron jobs.job whose origin matches /IDS/, displayed by description.
  UpdateCron: { type: "relation", relation: "idsCron", message: "Related cron not found." },
  AlertLogrotate: {
    type: "option",
    required: true,
    default: "W0D23",
    options: { W0D23: "Weekly", D0: "Daily" },
    message: "Please select a valid rotation.",
  },
  AlertSaveLogs: {
    type: "integer",
    required: true,
    default: "4",
    min: 1,
    max: 1000,
    message: "Enter a valid number of logs to save.",
  },
  MPMAlgo: {
    type: "option",
    blank: "Default",
    options: { ac: "Aho-Corasick", "ac-ks": 'Aho-Corasick, "Ken Steele" variant', hs: "Hyperscan" },
    message: "Please select a valid pattern matcher algorithm.",
  },
  detect: {
    type: "container",
    fields: {
      Profile: {
        type: "option",
        blank: "Default",
        options: { low: "Low", medium: "Medium", high: "High", custom: "Custom" },
        message: "Please select a valid detection profile.",
      },
      toclient_groups: {
        type: "integer",
        min: 0,
        max: 65535,
        message: "Enter a valid toclient-groups size.",
      },
      toserver_groups: {
        type: "integer",
        min: 0,
        max: 65535,
        message: "Enter a valid toserver-groups size.",
      },
    },
  },
  syslog: bool("0"),
  syslog_eve: bool("0"),
  LogPayload: bool("0"),
  verbosity: {
    type: "option",
    blank: "DEFAULT (0)",
    options: { v: "INFO (1)", vv: "PERF (2)", vvv: "CONFIG (3)", vvvv: "DEBUG (4)" },
  },
  eveLog: {
    type: "container",
    fields: {
      http: {
        type: "container",
        fields: {
          enable: bool("0"),
          extended: bool("0"),
          dumpAllHeaders: {
            type: "option",
            options: { request: "Request", response: "Response", both: "Both" },
          },
        },
      },
      tls: {
        type: "container",
        fields: {
          enable: bool("0"),
          extended: bool("0"),
          sessionResumption: bool("0"),
          custom: {
            type: "option",
            multiple: true,
            options: Object.fromEntries(
              [
                "subject",
                "issuer",
                "session_resumed",
                "serial",
                "fingerprint",
                "sni",
                "version",
                "not_before",
                "not_after",
                "certificate",
                "chain",
                "ja3",
                "ja3s",
                "ja4",
              ].map((o) => [o, o]),
            ),
          },
        },
      },
    },
  },
};

const CRON_FIELD = (mask: RegExp, message: string, d: string): FieldSpec => ({
  type: "text",
  required: true,
  default: d,
  mask,
  message,
});

/**
 * A subset of `configd actions json`: the options of Cron.xml's ConfigdActionsField `command`
 * (Base/FieldTypes/ConfigdActionsField.php, label = description or the key), with their descriptions
 * from service/conf/actions.d/actions_ids.conf and actions_cron.conf.
 */
export const CONFIGD_ACTIONS: Record<string, string> = {
  "ids update": "Update and reload intrusion detection rules",
  "ids reload": "Reload intrusion detection rules",
  "ids restart": "Restart Intrusion Detection service",
  "cron restart": "cron restart",
};

/** mvc/app/models/OPNsense/Cron/Cron.xml `jobs.job` (parameters: 1023 characters since 26.1.x, /s). */
export const CRON_JOB: ModelSpec = {
  wrapper: "job",
  fields: {
    origin: CRON_FIELD(
      /^([a-z,A-Z,1-9]){0,30}$/,
      "Origin should be regular text of max 30 characters.",
      "cron",
    ),
    enabled: bool("1"),
    minutes: CRON_FIELD(
      /^((?:\*|[1-5][0-9]|0[0-9]|[0-9])(,{1}|-{1}|\/{1}|$))+$/,
      "Value needs to be between 0 and 59; multiple values, ranges, steps and asterisk are supported (ex. 1,10,20,30 or 1-30).",
      "0",
    ),
    hours: CRON_FIELD(
      /^((?:\*|([1][0-9]|[2][0-3])|0[0-9]|[0-9])(,{1}|-{1}|\/{1}|$))+$/,
      "Value needs to be between 0 and 23; multiple values, ranges, steps and asterisk are supported (ex. 1,2,8 or 0-8).",
      "0",
    ),
    days: CRON_FIELD(
      /^(((?:\*|[1-2][0-9]|0[1-9]|[1-9]|[3][0-1])(,{1}|-{1}|\/{1}|$))+|L)$/,
      "Value needs to be between 1 and 31; multiple values, ranges, L (last day of month), steps and asterisk are supported (ex. 1,2,8 or 1-28).",
      "*",
    ),
    months: CRON_FIELD(
      /^(((?:\*|[1][0-2]|0[1-9]|[1-9]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(,{1}|-{1}|\/{1}|$))+)$/,
      "Value needs to be between 1 and 12 or JAN to DEC, multiple values, ranges, steps and asterisk are supported (ex. JAN,2,10 or 3-8).",
      "*",
    ),
    weekdays: CRON_FIELD(
      /^(((?:\*|[0-7])(,{1}|-{1}|\/{1}|$))+)$/,
      "Value needs to be between 0 and 7 (Sunday to Sunday), multiple values, ranges, steps and asterisk are supported (ex. 1,2,4 or 0-4).",
      "*",
    ),
    who: { type: "text", required: true, default: "root" },
    command: {
      type: "option",
      required: true,
      options: CONFIGD_ACTIONS,
      message: "Select a command from the list.",
    },
    parameters: { type: "text", mask: /^(.){1,1023}$/s, message: "Input too long." },
    description: { type: "description", required: true },
  },
};

/**
 * Cron::newDailyJob("IDS", "ids update", "ids rule updates", "*", "0") as IDS/Api/ServiceController::
 * reconfigureAction calls it when general.UpdateCron is empty: a disabled daily job at 00:00.
 */
export const IDS_UPDATE_JOB: Fields = {
  origin: "IDS",
  enabled: "0",
  minutes: "0",
  hours: "0",
  days: "*",
  months: "*",
  weekdays: "*",
  who: "root",
  command: "ids update",
  parameters: "",
  description: "ids rule updates",
};

export interface Ruleset {
  filename: string;
  description: string;
  documentation_url: string;
}

const ET = "https://community.emergingthreats.net/t/frequently-asked-questions/56";
const et = (name: string): Ruleset => ({
  filename: `${name}.rules`,
  description: `ET open/${name}`,
  documentation_url: ET,
});
const appDetect = (file: string, description: string): Ruleset => ({
  filename: file,
  description: `OPNsense-App-detect/${description}`,
  documentation_url: "https://github.com/opnsense/rules",
});
const abuse = (file: string, description: string, documentation_url: string): Ruleset => ({
  filename: file,
  description: `abuse.ch/${description}`,
  documentation_url,
});

/** scripts/suricata/metadata/rules/et-open.xml (identical at 26.1.11 and 26.7.2; suricata-8.0 rules). */
const ET_OPEN = [
  "botcc.portgrouped",
  "botcc",
  "ciarmy",
  "compromised",
  "drop",
  "dshield",
  "emerging-activex",
  "emerging-adware_pup",
  "emerging-attack_response",
  "emerging-chat",
  "emerging-coinminer",
  "emerging-current_events",
  "emerging-deleted",
  "emerging-dns",
  "emerging-dos",
  "emerging-dyn_dns",
  "emerging-exploit",
  "emerging-exploit_kit",
  "emerging-file_sharing",
  "emerging-ftp",
  "emerging-games",
  "emerging-hunting",
  "emerging-icmp",
  "emerging-icmp_info",
  "emerging-imap",
  "emerging-inappropriate",
  "emerging-info",
  "emerging-ja3",
  "emerging-malware",
  "emerging-misc",
  "emerging-mobile_malware",
  "emerging-netbios",
  "emerging-p2p",
  "emerging-phishing",
  "emerging-policy",
  "emerging-pop3",
  "emerging-remote_access",
  "emerging-retired",
  "emerging-rpc",
  "emerging-scada",
  "emerging-scan",
  "emerging-shellcode",
  "emerging-smtp",
  "emerging-snmp",
  "emerging-sql",
  "emerging-telnet",
  "emerging-ta_abused_services",
  "emerging-tftp",
  "emerging-user_agents",
  "emerging-voip",
  "emerging-web_client",
  "emerging-web_server",
  "emerging-web_specific_apps",
  "emerging-worm",
  "tor",
  "threatview_CS_c2",
].map(et);

/** scripts/suricata/metadata/rules/sslbl.xml (per-file documentation_url). */
const SSLBL = [
  abuse("abuse.ch.sslblacklist.rules", "SSL Fingerprint Blacklist", "https://sslbl.abuse.ch/blacklist/"),
  abuse("abuse.ch.sslipblacklist.rules", "SSL IP Blacklist", "https://sslbl.abuse.ch/blacklist/"),
  abuse("abuse.ch.feodotracker.rules", "Feodo Tracker", "https://feodotracker.abuse.ch/blocklist/"),
  abuse("abuse.ch.urlhaus.rules", "URLhaus", "https://urlhaus.abuse.ch/"),
  abuse("abuse.ch.threatfox.rules", "ThreatFox", "https://threatfox.abuse.ch/"),
];

/** scripts/suricata/metadata/rules/opnsense.xml: 26.1.11 ends with "uncategorized", 26.7.2 with "adult". */
const APP_DETECT = (last: Ruleset) => [
  appDetect("opnsense.test.rules", "test"),
  appDetect("opnsense.file_transfer.rules", "file-transfer"),
  appDetect("opnsense.mail.rules", "mail"),
  appDetect("opnsense.media_streaming.rules", "media-streaming"),
  appDetect("opnsense.messaging.rules", "messaging"),
  appDetect("opnsense.social_media.rules", "social-networking"),
  last,
];

/**
 * What `ids list installablerulesets` (scripts/suricata/listInstallableRulesets.py, lib/metadata.py)
 * offers on a core install: every file of metadata/rules/*.xml that is neither required nor deprecated
 * (none of these is), keyed by filename. Plugins can add more metadata files; core has only these three.
 */
export const RULESETS: Record<"26.1" | "26.7", Ruleset[]> = {
  "26.1": [...ET_OPEN, ...SSLBL, ...APP_DETECT(appDetect("opnsense.uncategorized.rules", "uncategorized"))],
  "26.7": [...ET_OPEN, ...SSLBL, ...APP_DETECT(appDetect("opnsense.adult.rules", "adult"))],
};

/** One record of /var/log/suricata/eve.json with an `alert` (Suricata's eve-log alert output). */
export interface EveAlert {
  timestamp: string;
  flow_id?: number;
  in_iface?: string;
  event_type: "alert";
  src_ip: string;
  src_port?: number;
  dest_ip: string;
  dest_port?: number;
  proto: string;
  alert: {
    action: "allowed" | "blocked";
    gid: number;
    signature_id: number;
    rev: number;
    signature: string;
    category: string;
    severity: number;
  };
}
