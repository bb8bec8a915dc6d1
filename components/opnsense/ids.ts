import type { IdsBody } from "../../model/ids";
import type { OpnsenseClient } from "./client";
import { interfacesInfoRequest, type ApiRequest } from "./requests";
import { parseApplied } from "./responses";
import { stableJson } from "../../analysis/text/json";

/**
 * Intrusion detection (Suricata) on the gateway, read from opnsense/core at 26.1.11 and 26.7.2 (paths
 * relative to src/opnsense/; the IDS controllers and model are the same at both):
 *
 * - mvc/app/controllers/OPNsense/IDS/Api/SettingsController.php: `ids/settings/get` answers
 *   `{ids: {general: {...}}}` (getModelNodes exposes only `general`); `ids/settings/set` takes
 *   `{ids: {general: {...}}}` and validates the changed fields (validations keyed `ids.general.<field>`);
 *   `list_rulesets` lists the installable ruleset files with their enabled state and download time;
 *   `toggle_ruleset/<files>/<0|1>` sets each known file and answers `{status: "error"}` for an unknown
 *   one while still saving the known ones, so every name is checked against the list first.
 * - mvc/app/models/OPNsense/IDS/IDS.xml `general`: enabled, mode (pcap | netmap | divert), promisc,
 *   interfaces (InterfaceField: enabled non-group interfaces plus unassigned VLAN parents by device
 *   name), homenet (network list), UpdateCron (relation to the cron job with origin IDS).
 * - mvc/app/controllers/OPNsense/IDS/Api/ServiceController.php: `ids/service/reconfigure` creates the
 *   disabled daily update job when UpdateCron is empty (Cron::newDailyJob("IDS", "ids update", ...)),
 *   renders the templates, installs the rules and (re)starts Suricata; it answers `{status: "OK"}` or a
 *   text naming the failure. `update_rules/<x>` runs configd "ids update" (download, install, SIGUSR2)
 *   detached: any argument makes it answer the configd message id at once.
 * - mvc/app/controllers/OPNsense/Cron/Api/SettingsController.php: `cron/settings/set_job/<uuid>` on a job
 *   another service registered must repeat its command and parameters unchanged; the schedule fields
 *   are Cron.xml's; `cron/service/reconfigure` answers `{status: "ok"}`.
 * - IPS: the suricata.yaml template puts every selected interface's device into netmap mode
 *   (service/templates/OPNsense/IDS/suricata.yaml `netmap:`), and the OPNsense manual says VLANs get IPS
 *   on their parent. Native netmap drivers list the NETMAP capability, which interfaces_info reports
 *   in `capabilities` (src/etc/inc/interfaces.lib.inc legacy_interfaces_details, `ifconfig -m`).
 *
 * ACL: every `api/ids/*` endpoint needs Services: Intrusion Detection (page-services-ids); `api/cron/*`
 * needs System: Settings: Cron (page-system-cron).
 */

/** What the gateway has (read back) or should have: all lists sorted, booleans as "0"/"1". */
export interface IdsApplied {
  enabled: string;
  mode: string;
  promisc: string;
  interfaces: string[];
  homenet: string[];
  rulesets: string[];
  schedule: { enabled: string; minutes: string; hours: string; weekdays: string } | null;
}

export interface IdsFacts {
  /** The capture mode that will be (or was) applied: pcap (IDS) or netmap (IPS). */
  effectiveMode: "pcap" | "netmap";
  /** Devices that would carry IPS but lack native netmap (why IPS fell back to IDS). */
  ipsUnsupported: string[];
  applied: IdsApplied;
}

// ------------------------------------------------------------------ requests

export const IDS = {
  get: "ids/settings/get",
  set: "ids/settings/set",
  listRulesets: "ids/settings/list_rulesets",
  toggleRuleset: "ids/settings/toggle_ruleset",
  reconfigure: "ids/service/reconfigure",
  updateRules: "ids/service/update_rules",
  status: "ids/service/status",
  queryAlerts: "ids/service/query_alerts",
  getJob: "cron/settings/get_job",
  setJob: "cron/settings/set_job",
  cronReconfigure: "cron/service/reconfigure",
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ruleset file names go into a URL path (toggle_ruleset/<a,b>/1): only the characters model/ids.ts allows. */
const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*\.rules$/;

export const idsGetRequest = (): ApiRequest => ({ method: "GET", path: IDS.get });

export const idsSetRequest = (general: Record<string, string>): ApiRequest => ({
  method: "POST",
  path: IDS.set,
  body: { ids: { general } },
});

export const listRulesetsRequest = (): ApiRequest => ({
  method: "POST",
  path: IDS.listRulesets,
  body: { current: 1, rowCount: -1, searchPhrase: "" },
});

export function toggleRulesetsRequest(files: string[], enabled: boolean): ApiRequest {
  for (const f of files) if (!FILE.test(f)) throw new Error(`not a ruleset file name: ${JSON.stringify(f)}`);
  return { method: "POST", path: `${IDS.toggleRuleset}/${files.join(",")}/${enabled ? "1" : "0"}`, body: {} };
}

export const idsReconfigureRequest = (): ApiRequest => ({ method: "POST", path: IDS.reconfigure, body: {} });

/** Detached ("1"): the download can outlast configd's own 120 s wait and the client's deadline. */
export const updateRulesRequest = (): ApiRequest => ({
  method: "POST",
  path: `${IDS.updateRules}/1`,
  body: {},
});

function uuidSegment(uuid: string): string {
  if (!UUID.test(uuid)) throw new Error(`not an OPNsense UUID: ${JSON.stringify(uuid)}`);
  return uuid.toLowerCase();
}

export const getJobRequest = (uuid: string): ApiRequest => ({
  method: "GET",
  path: `${IDS.getJob}/${uuidSegment(uuid)}`,
});

export const setJobRequest = (uuid: string, job: Record<string, string>): ApiRequest => ({
  method: "POST",
  path: `${IDS.setJob}/${uuidSegment(uuid)}`,
  body: { job },
});

export const cronReconfigureRequest = (): ApiRequest => ({
  method: "POST",
  path: IDS.cronReconfigure,
  body: {},
});

// ------------------------------------------------------------------ responses

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An option map's selected keys; a plain string is taken as a comma list. */
function selectedOf(v: unknown): string[] {
  if (typeof v === "string") return v === "" ? [] : v.split(",");
  if (!isRecord(v)) return [];
  return Object.entries(v)
    .filter(([k, o]) => k !== "" && isRecord(o) && [1, "1", true].includes(o["selected"] as never))
    .map(([k]) => k);
}

export interface IdsGeneral {
  enabled: string;
  mode: string;
  promisc: string;
  interfaces: string[];
  /** Every interface the field accepts (its option map), key -> label. */
  interfaceOptions: Record<string, string>;
  homenet: string[];
  updateCron: string;
}

export function parseIdsGeneral(json: unknown): IdsGeneral {
  const g = isRecord(json) && isRecord(json["ids"]) ? json["ids"]["general"] : undefined;
  if (!isRecord(g)) throw new Error(`${IDS.get} answered ${JSON.stringify(json).slice(0, 200)}`);
  const options = isRecord(g["interfaces"])
    ? Object.fromEntries(
        Object.entries(g["interfaces"]).map(([k, o]) => [k, isRecord(o) ? String(o["value"] ?? k) : k]),
      )
    : {};
  return {
    enabled: String(g["enabled"] ?? "0"),
    mode: selectedOf(g["mode"])[0] ?? "",
    promisc: String(g["promisc"] ?? "0"),
    interfaces: selectedOf(g["interfaces"]).sort(),
    interfaceOptions: options,
    homenet: (isRecord(g["homenet"]) ? Object.keys(g["homenet"]) : selectedOf(g["homenet"])).sort(),
    updateCron: selectedOf(g["UpdateCron"])[0] ?? "",
  };
}

export interface RulesetRow {
  filename: string;
  description: string;
  enabled: boolean;
  /** `Y/m/d G:i` in the gateway's time zone, null when never downloaded. */
  modifiedLocal: string | null;
}

export function parseRulesets(json: unknown): RulesetRow[] {
  if (!isRecord(json) || !Array.isArray(json["rows"]))
    throw new Error(`${IDS.listRulesets} answered no rows`);
  return json["rows"].filter(isRecord).map((r) => ({
    filename: String(r["filename"] ?? ""),
    description: String(r["description"] ?? ""),
    enabled: String(r["enabled"]) === "1",
    modifiedLocal: typeof r["modified_local"] === "string" ? r["modified_local"] : null,
  }));
}

export interface CronJob {
  origin: string;
  enabled: string;
  minutes: string;
  hours: string;
  days: string;
  months: string;
  weekdays: string;
  command: string;
  parameters: string;
  description: string;
}

export function parseCronJob(json: unknown): CronJob | undefined {
  const j = isRecord(json) ? json["job"] : undefined;
  if (!isRecord(j)) return undefined;
  const s = (k: string) => {
    const v = j[k];
    return typeof v === "string" ? v : (selectedOf(v)[0] ?? "");
  };
  return {
    origin: s("origin"),
    enabled: s("enabled"),
    minutes: s("minutes"),
    hours: s("hours"),
    days: s("days"),
    months: s("months"),
    weekdays: s("weekdays"),
    command: s("command"),
    parameters: s("parameters"),
    description: s("description"),
  };
}

function parseResult(what: string, json: unknown): void {
  if (isRecord(json) && json["result"] === "saved") return;
  const v = isRecord(json) && isRecord(json["validations"]) ? json["validations"] : {};
  const detail = Object.entries(v)
    .map(([k, m]) => `${k}: ${Array.isArray(m) ? m.join("; ") : String(m)}`)
    .join(", ");
  throw Object.assign(
    new Error(`${what} was refused${detail ? `: ${detail}` : `: ${JSON.stringify(json)}`}`),
    {
      rejected: true,
    },
  );
}

// ------------------------------------------------------------------ resolution (pure)

export interface InterfaceRow {
  identifier: string;
  device: string;
  capabilities: string[];
}

export function parseInterfaceRows(json: unknown): InterfaceRow[] {
  if (!isRecord(json) || !Array.isArray(json["rows"])) throw new Error("interfaces_info reply has no rows");
  return json["rows"].filter(isRecord).map((r) => ({
    identifier: typeof r["identifier"] === "string" ? r["identifier"] : "",
    device: String(r["device"] ?? ""),
    capabilities: Array.isArray(r["capabilities"])
      ? r["capabilities"].map((c) => String(c).toLowerCase())
      : [],
  }));
}

export interface Resolution {
  target: Omit<IdsApplied, "rulesets" | "schedule">;
  effectiveMode: "pcap" | "netmap";
  ipsUnsupported: string[];
  /** Problems that stop the run (interfaces the field does not offer, IPS impossible with `fail`). */
  problems: string[];
}

const flag = (b: boolean) => (b ? "1" : "0");

/**
 * The settings the gateway should have. IDS: pcap on each segment's interface (and the WAN's). IPS:
 * netmap on the trunk device (the VLANs' parent, as the OPNsense manual says to) and on the WAN device,
 * promiscuous so the parent sees every VLAN's frames; each of those devices must have a native netmap
 * driver, else `ipsUnsupported` decides: stop, or detection only.
 */
export function resolveIdsSettings(
  body: IdsBody,
  rows: InterfaceRow[],
  options: Record<string, string>,
): Resolution {
  const problems: string[] = [];
  const wanRow = body.wan !== undefined ? rows.find((r) => r.identifier === body.wan) : undefined;
  const trunkRow = rows.find((r) => r.device === body.trunk);
  const idsInterfaces = [...body.segments.map((s) => s.key), ...(body.wan !== undefined ? [body.wan] : [])];
  let effectiveMode: "pcap" | "netmap" = "pcap";
  let ipsUnsupported: string[] = [];
  let interfaces = idsInterfaces;
  if (body.mode === "ips") {
    const devices = [
      {
        device: body.trunk,
        row: trunkRow,
        what: `the trunk ${body.trunk} (homelab:opnsense.trunkInterface)`,
      },
      ...(body.wan !== undefined
        ? [{ device: wanRow?.device ?? body.wan, row: wanRow, what: `the WAN interface ${body.wan}` }]
        : []),
    ];
    ipsUnsupported = devices.filter((d) => !d.row?.capabilities.includes("netmap")).map((d) => d.device);
    if (ipsUnsupported.length === 0) {
      effectiveMode = "netmap";
      // The trunk's key: its assignment when it has one, else the device itself (InterfaceField
      // AddParentDevices offers an unassigned VLAN parent under its device name).
      const trunkKey = trunkRow && trunkRow.identifier !== "" ? trunkRow.identifier : body.trunk;
      interfaces = [trunkKey, ...(body.wan !== undefined ? [body.wan] : [])];
    } else if (body.ipsUnsupported === "fail")
      problems.push(
        `IPS (homelab:ids.mode ips) needs a driver with native netmap support on ${devices
          .filter((d) => ipsUnsupported.includes(d.device))
          .map((d) => `${d.what}, device ${d.device}`)
          .join(" and ")}; the gateway does not list the netmap capability for it. Use mode ids, set ` +
          `homelab:ids.ipsUnsupported to ids for detection only, or move the trunk to a NIC with a native ` +
          `netmap driver (e.g. igc, igb, em, ix, ixl, vtnet).`,
      );
  }
  for (const key of interfaces)
    if (!(key in options))
      problems.push(
        `interface "${key}" is not among those Intrusion Detection offers (${Object.keys(options).join(", ") || "none"}): ` +
          `it must be assigned and enabled (a VLAN parent is offered when one of its VLANs is assigned to an enabled interface)`,
      );
  return {
    target: {
      enabled: flag(body.enabled),
      mode: effectiveMode,
      promisc: flag(effectiveMode === "netmap"),
      interfaces: [...new Set(interfaces)].sort(),
      homenet: [...body.homenet].sort(),
    },
    effectiveMode,
    ipsUnsupported,
    problems,
  };
}

/** The rulesets to switch on and off, and names the gateway does not offer. */
export function rulesetChanges(
  wanted: string[],
  rows: RulesetRow[],
): { enable: string[]; disable: string[]; unknown: string[] } {
  const known = rows.map((r) => r.filename);
  const unknown = wanted.filter((f) => !known.includes(f));
  const enable = rows.filter((r) => wanted.includes(r.filename) && !r.enabled).map((r) => r.filename);
  const disable = rows.filter((r) => !wanted.includes(r.filename) && r.enabled).map((r) => r.filename);
  return { enable, disable, unknown };
}

const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
};

export function unknownRulesetProblem(unknown: string[], wanted: string[], rows: RulesetRow[]): string {
  const hints = unknown.map((f) => {
    const close = rows.map((r) => r.filename).filter((k) => editDistance(k, f) <= 3);
    const i = wanted.indexOf(f);
    return `${f} (homelab:ids.rulesets[${i}])${close.length > 0 ? `: did you mean ${close.join(" or ")}?` : ""}`;
  });
  return (
    `the gateway's download list has no ruleset ${hints.join("; ")}. Services > Intrusion Detection > ` +
    `Download lists the files this gateway offers (${rows.length} here; plugins add more).`
  );
}

// ------------------------------------------------------------------ operations

export interface IdsState {
  general: IdsGeneral;
  rulesets: RulesetRow[];
  job: (CronJob & { uuid: string }) | undefined;
}

/** Reads the settings, the ruleset list and the update job. */
export async function readIdsState(client: OpnsenseClient): Promise<IdsState> {
  const general = parseIdsGeneral(await client.call(idsGetRequest()));
  const rulesets = parseRulesets(await client.call(listRulesetsRequest()));
  let job: IdsState["job"];
  if (general.updateCron !== "") {
    const parsed = parseCronJob(await client.call(getJobRequest(general.updateCron)));
    if (parsed) job = { ...parsed, uuid: general.updateCron };
  } else {
    // No job yet (the first reconfigure registers it). A read of a blank job (getJobAction without a
    // UUID answers the defaults) proves the cron privilege before anything is written.
    await client.call({ method: "GET", path: IDS.getJob });
  }
  return { general, rulesets, job };
}

export function appliedOf(s: IdsState): IdsApplied {
  return {
    enabled: s.general.enabled,
    mode: s.general.mode,
    promisc: s.general.promisc,
    interfaces: s.general.interfaces,
    homenet: s.general.homenet,
    rulesets: s.rulesets
      .filter((r) => r.enabled)
      .map((r) => r.filename)
      .sort(),
    schedule: s.job
      ? { enabled: s.job.enabled, minutes: s.job.minutes, hours: s.job.hours, weekdays: s.job.weekdays }
      : null,
  };
}

export function targetOf(body: IdsBody, r: Resolution): IdsApplied {
  return {
    ...r.target,
    rulesets: [...body.rulesets].sort(),
    schedule: { enabled: flag(body.enabled), ...body.schedule },
  };
}

/** Whether what the gateway has differs from the target (the resource's diff after a refresh). */
export const idsDiffers = (a: IdsApplied, b: IdsApplied): boolean => stableJson(a) !== stableJson(b);

/** Writes the settings and the ruleset switches; true when anything was written. */
export async function writeIdsSettings(
  client: OpnsenseClient,
  state: IdsState,
  target: IdsApplied,
  log: (l: string) => void,
): Promise<boolean> {
  let changed = false;
  const g = state.general;
  const fields: Record<string, string> = {};
  if (g.enabled !== target.enabled) fields["enabled"] = target.enabled;
  if (g.mode !== target.mode) fields["mode"] = target.mode;
  if (g.promisc !== target.promisc) fields["promisc"] = target.promisc;
  if (g.interfaces.join(",") !== target.interfaces.join(","))
    fields["interfaces"] = target.interfaces.join(",");
  if (g.homenet.join(",") !== target.homenet.join(",")) fields["homenet"] = target.homenet.join(",");
  if (Object.keys(fields).length > 0) {
    parseResult(
      "the intrusion detection settings (ids/settings/set)",
      await client.call(idsSetRequest(fields)),
    );
    log(`opnsense: intrusion detection settings set (${Object.keys(fields).join(", ")})`);
    changed = true;
  }
  const { enable, disable } = rulesetChanges(target.rulesets, state.rulesets);
  for (const [files, on] of [
    [enable, true],
    [disable, false],
  ] as const) {
    if (files.length === 0) continue;
    const r = (await client.call(toggleRulesetsRequest(files, on))) as { status?: unknown };
    if (String(r?.status) !== (on ? "1" : "0"))
      throw new Error(
        `switching ${on ? "on" : "off"} rulesets ${files.join(", ")} failed: answered ${JSON.stringify(r)}`,
      );
    log(`opnsense: rulesets ${on ? "enabled" : "disabled"}: ${files.join(", ")}`);
    changed = true;
  }
  return changed;
}

/** ids/service/reconfigure: `{status: "OK"}`; any other text ("error installing ids rules (...)") fails. */
export async function reconfigureIds(client: OpnsenseClient): Promise<void> {
  const json = await client.call(idsReconfigureRequest());
  parseApplied(IDS.reconfigure, "status", json);
  const status = String((json as { status?: unknown }).status ?? "").trim();
  if (status.toUpperCase() !== "OK")
    throw new Error(`${IDS.reconfigure} did not apply: answered ${JSON.stringify(json)}`);
}

/**
 * The update job reconfigure registered: enabled with the IDS, at the configured time. Its command and
 * parameters are sent back unchanged (setJobAction refuses anything else for a service's job).
 */
export async function ensureUpdateJob(
  client: OpnsenseClient,
  target: IdsApplied,
  log: (l: string) => void,
): Promise<void> {
  const general = parseIdsGeneral(await client.call(idsGetRequest()));
  if (general.updateCron === "")
    throw new Error(
      `${IDS.reconfigure} did not register the rule update job (general.UpdateCron is empty); ` +
        `check System > Settings > Cron on the gateway`,
    );
  const job = parseCronJob(await client.call(getJobRequest(general.updateCron)));
  if (!job)
    throw new Error(
      `the rule update job ${general.updateCron} that intrusion detection names is missing; ` +
        `clear Update Cron under Services > Intrusion Detection (or run again after re-adding it)`,
    );
  const want = target.schedule!;
  if (
    job.enabled === want.enabled &&
    job.minutes === want.minutes &&
    job.hours === want.hours &&
    job.weekdays === want.weekdays &&
    job.days === "*" &&
    job.months === "*"
  )
    return;
  parseResult(
    `the rule update job (cron/settings/set_job/${general.updateCron})`,
    await client.call(
      setJobRequest(general.updateCron, {
        enabled: want.enabled,
        minutes: want.minutes,
        hours: want.hours,
        days: "*",
        months: "*",
        weekdays: want.weekdays,
        command: job.command,
        parameters: job.parameters,
        description: job.description,
      }),
    ),
  );
  parseApplied(IDS.cronReconfigure, "status", await client.call(cronReconfigureRequest()));
  log(
    `opnsense: rule update job ${want.enabled === "1" ? `at ${want.hours}:${want.minutes.padStart(2, "0")} (weekdays ${want.weekdays})` : "disabled"}`,
  );
}

/** Starts a detached download of the enabled rulesets (configd "ids update"); answers a message id. */
export async function startRuleUpdate(client: OpnsenseClient, log: (l: string) => void): Promise<void> {
  const json = (await client.call(updateRulesRequest())) as { status?: unknown };
  const status = String(json?.status ?? "").trim();
  if (status === "" || /fail|error/i.test(status))
    throw new Error(`${IDS.updateRules} did not start: answered ${JSON.stringify(json)}`);
  log(`opnsense: rule download started (configd message ${status})`);
}

export interface Inspection {
  state: IdsState;
  resolution: Resolution;
  target: IdsApplied;
}

/**
 * Read-only: the devices and their capabilities, the current settings, the ruleset list and the update
 * job; then what the gateway should have. Stops with every problem listed (an interface the field does
 * not offer, IPS without a netmap driver under `fail`, a ruleset the gateway does not offer) before
 * anything is written: toggle_ruleset would otherwise save the known half of a list.
 */
export async function inspectIds(client: OpnsenseClient, body: IdsBody): Promise<Inspection> {
  const rows = parseInterfaceRows(await client.call(interfacesInfoRequest()));
  const state = await readIdsState(client);
  const resolution = resolveIdsSettings(body, rows, state.general.interfaceOptions);
  const problems = [...resolution.problems];
  const { unknown } = rulesetChanges(body.rulesets, state.rulesets);
  if (unknown.length > 0) problems.push(unknownRulesetProblem(unknown, body.rulesets, state.rulesets));
  if (problems.length > 0)
    throw new Error(
      `intrusion detection on the gateway at ${client.url} cannot be set up as homelab:ids says; nothing was changed:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  return { state, resolution, target: targetOf(body, resolution) };
}

/** Switches the update job off (destroy); its command stays, the job belongs to the IDS. */
export async function disableUpdateJob(client: OpnsenseClient, state: IdsState): Promise<void> {
  const job = state.job;
  if (!job || job.enabled !== "1") return;
  parseResult(
    `the rule update job (cron/settings/set_job/${job.uuid})`,
    await client.call(
      setJobRequest(job.uuid, {
        enabled: "0",
        minutes: job.minutes,
        hours: job.hours,
        days: job.days,
        months: job.months,
        weekdays: job.weekdays,
        command: job.command,
        parameters: job.parameters,
        description: job.description,
      }),
    ),
  );
  parseApplied(IDS.cronReconfigure, "status", await client.call(cronReconfigureRequest()));
}

/** Destroy: Suricata off, in pcap mode, the rulesets this program enabled off. Other settings stay. */
export async function disableIdsSettings(
  client: OpnsenseClient,
  state: IdsState,
  managedRulesets: string[],
): Promise<boolean> {
  let changed = false;
  const fields: Record<string, string> = {};
  if (state.general.enabled !== "0") fields["enabled"] = "0";
  if (state.general.mode !== "pcap") fields["mode"] = "pcap";
  if (state.general.promisc !== "0") fields["promisc"] = "0";
  if (Object.keys(fields).length > 0) {
    parseResult(
      "the intrusion detection settings (ids/settings/set)",
      await client.call(idsSetRequest(fields)),
    );
    changed = true;
  }
  const off = state.rulesets
    .filter((r) => r.enabled && managedRulesets.includes(r.filename))
    .map((r) => r.filename);
  if (off.length > 0) {
    const r = (await client.call(toggleRulesetsRequest(off, false))) as { status?: unknown };
    if (String(r?.status) !== "0")
      throw new Error(`switching off rulesets ${off.join(", ")} failed: answered ${JSON.stringify(r)}`);
    changed = true;
  }
  return changed;
}
