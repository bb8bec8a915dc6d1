import type * as pulumi from "@pulumi/pulumi";
import { aliasNameProblems, descriptionProblems } from "../../model/opnsense-names";
import { defaultBackupDir } from "./backups";
import { createClient, type OpnsenseClient } from "./client";
import { diffProps, type ObjectProps } from "./diff";
import { ENDPOINTS, KINDS, isKind } from "./endpoints";
import { checkVersion, ensure, inspect, type GatewayExpectation, type GatewayFacts } from "./gateway";
import { lockRegistry } from "./lock";
import {
  appliedOf,
  disableIdsSettings,
  disableUpdateJob,
  ensureUpdateJob,
  idsDiffers,
  inspectIds,
  readIdsState,
  reconfigureIds,
  rulesetChanges,
  startRuleUpdate,
  writeIdsSettings,
  type IdsApplied,
  type IdsFacts,
} from "./ids";
import type { IdsBody } from "../../model/ids";
import { createOrAdopt, deleteObject, readObject, updateObject } from "./operations";
import { redactor } from "../../analysis/text/redact";
import { project } from "./responses";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry";
import { applyChange, applyGuarded, type ChangeOp } from "./safeApply";
import type { GatewayVersion } from "./version";
import { stableJson } from "../../analysis/text/json";

/**
 * The dynamic provider behind OpnsenseObject and OpnsenseGateway. Pulumi serializes this object's
 * closure into the state, so it only reaches node built-ins and pure modules of this repository (no
 * @pulumi/pulumi at run time, no classes). Everything that depends on the machine running it (the backup
 * directory, the clock) is decided when an operation runs, never captured when the closure is serialized.
 * The engine's dynamic-provider host loads one instance per serialized text and keeps it for the whole
 * run, so the per-gateway write lock and version check below are shared by every resource of a run.
 */

export interface ProviderSettings {
  timeoutMs: number;
  retry: RetryPolicy;
  probeAttempts: number;
  probeTimeoutMs: number;
  probeDelayMs: number;
  /**
   * Where safe apply keeps pre-change configurations: a directory, `null` for none. Absent, it is
   * $HOMELAB_OPNSENSE_BACKUP_DIR or ~/.homelab/opnsense-backups of whoever runs the deployment.
   */
  backupDir?: string | null;
  /** Copies kept per gateway, newest first. */
  backupsKept: number;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
}

const DEFAULTS: ProviderSettings = {
  timeoutMs: 30_000,
  retry: DEFAULT_RETRY,
  probeAttempts: 3,
  probeTimeoutMs: 10_000,
  probeDelayMs: 3_000,
  backupsKept: 20,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  log: (line) => void process.stderr.write(`${line}\n`),
};

/** The resource's `kind` for the gateway preflight (OpnsenseGateway). */
export const GATEWAY_KIND = "gateway";

export interface GatewayProps {
  url: string;
  caCertificate?: string;
  apiKey: string;
  apiSecret: string;
  kind: typeof GATEWAY_KIND;
  key: string;
  body: GatewayExpectation;
}

/** The resource's `kind` for the intrusion detection settings (OpnsenseIds): one per gateway. */
export const IDS_KIND = "ids";

export interface IdsProps {
  url: string;
  caCertificate?: string;
  apiKey: string;
  apiSecret: string;
  kind: typeof IDS_KIND;
  key: string;
  body: IdsBody;
  applied?: IdsApplied;
}

type AnyProps = Partial<ObjectProps> | Partial<GatewayProps> | Partial<IdsProps>;

const asProps = (raw: Record<string, unknown>): ObjectProps => raw as unknown as ObjectProps;
const asGateway = (raw: Record<string, unknown>): GatewayProps => raw as unknown as GatewayProps;
const isGateway = (raw: Record<string, unknown>): boolean => raw["kind"] === GATEWAY_KIND;
const isIds = (raw: Record<string, unknown>): boolean => raw["kind"] === IDS_KIND;
const asIds = (raw: Record<string, unknown>): IdsProps => raw as unknown as IdsProps;

/** The shape of an IDS body (the model built it; this guards state and hand-written inputs). */
function idsBodyProblem(b: unknown): string | undefined {
  const o = b as Partial<IdsBody> | undefined;
  if (typeof o !== "object" || o === null) return "body must describe the intrusion detection settings";
  if (typeof o.enabled !== "boolean") return "body.enabled must be a boolean";
  if (o.mode !== "ids" && o.mode !== "ips") return "body.mode must be ids or ips";
  if (o.ipsUnsupported !== "fail" && o.ipsUnsupported !== "ids")
    return "body.ipsUnsupported must be fail or ids";
  if (!Array.isArray(o.segments)) return "body.segments must be a list";
  if (typeof o.trunk !== "string" || o.trunk === "") return "body.trunk must name the VLAN parent device";
  if (!Array.isArray(o.homenet) || !Array.isArray(o.rulesets))
    return "body.homenet and body.rulesets must be lists";
  if (o.rulesets.some((r) => typeof r !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*\.rules$/.test(r)))
    return "body.rulesets must hold ruleset file names (e.g. emerging-malware.rules)";
  if (typeof o.schedule !== "object" || o.schedule === null) return "body.schedule must be set";
  return undefined;
}

/** Loopback is the only place plain http is accepted: elsewhere the credentials would travel in clear text. */
const LOOPBACK = /^(127(\.\d{1,3}){3}|\[::1\]|localhost)$/i;

export function urlProblem(url: unknown): string | undefined {
  if (typeof url !== "string" || !URL.canParse(url)) return "url must be the gateway's https address";
  const u = new URL(url);
  if (u.protocol === "https:") return undefined;
  if (u.protocol === "http:" && LOOPBACK.test(u.hostname)) return undefined;
  return `url ${u.protocol}//${u.host} would send the API key and secret in clear text; use https:// (plain http only on loopback)`;
}

/** Every value that must never be printed: the credentials and the kind's key material fields. */
function secretsOf(p: AnyProps): string[] {
  const body = (p.body ?? {}) as Record<string, unknown>;
  const fields = p.kind !== undefined && isKind(p.kind) ? (ENDPOINTS[p.kind].secretFields ?? []) : [];
  return [p.apiKey, p.apiSecret, ...fields.map((f) => body[f])].filter(
    (v): v is string => typeof v === "string",
  );
}

/** Values not known during a preview (an output of a resource still to be created). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const hasUnknown = (v: unknown): boolean =>
  v === UNKNOWN || (typeof v === "object" && v !== null && Object.values(v).some(hasUnknown));

const factsChanged = (
  olds: Partial<GatewayFacts>,
  facts: GatewayFacts,
  expect: GatewayExpectation,
): boolean =>
  JSON.stringify(olds.interfaces ?? {}) !== JSON.stringify(facts.interfaces) ||
  JSON.stringify(olds.devices ?? {}) !== JSON.stringify(facts.devices) ||
  olds.version !== facts.version ||
  (expect.wireguard && !facts.wireguardEnabled);

export function makeOpnsenseProvider(
  overrides: Partial<ProviderSettings> = {},
): pulumi.dynamic.ResourceProvider {
  const s: ProviderSettings = { ...DEFAULTS, ...overrides };
  const lockFor = lockRegistry();
  // One version check per gateway and run; a refusal stays a refusal for the rest of the run. A plain
  // object: the closure serializer cannot rebuild a Map.
  const versions: Record<string, Promise<GatewayVersion>> = {};

  /** Runs one provider operation with a client whose logs and errors are scrubbed of secrets. */
  async function guarded<T>(
    p: AnyProps,
    op: (client: OpnsenseClient, log: (l: string) => void) => Promise<T>,
  ): Promise<T> {
    const scrub = redactor(secretsOf(p));
    const log = (line: string) => s.log(scrub(line));
    try {
      const bad = urlProblem(p.url);
      if (bad !== undefined) throw new Error(bad);
      const client = createClient({
        url: String(p.url),
        apiKey: String(p.apiKey),
        apiSecret: String(p.apiSecret),
        ...(p.caCertificate ? { caCertificate: p.caCertificate } : {}),
        timeoutMs: s.timeoutMs,
        retry: s.retry,
        sleep: s.sleep,
        log,
        scrub,
      });
      return await op(client, log);
    } catch (e) {
      // A fresh Error without `cause`: the original's stack and properties could carry what we scrub here.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(scrub(e instanceof Error ? e.message : String(e)));
    }
  }

  const supported = (client: OpnsenseClient): Promise<GatewayVersion> =>
    (versions[client.url] ??= checkVersion(client));

  const safety = (log: (l: string) => void) => ({
    probeAttempts: s.probeAttempts,
    probeTimeoutMs: s.probeTimeoutMs,
    probeDelayMs: s.probeDelayMs,
    backupDir: () => (s.backupDir === null ? undefined : (s.backupDir ?? defaultBackupDir())),
    backupsKept: s.backupsKept,
    sleep: s.sleep,
    log,
  });
  const pacing = (log: (l: string) => void) => ({ retry: s.retry, sleep: s.sleep, log });
  const label = (p: ObjectProps) => `${p.kind} ${JSON.stringify(p.key)}`;
  // The resource id stays the first UUID; when an update had to re-add a vanished object, the current
  // UUID is the `uuid` output.
  const current = (id: string, p: ObjectProps) => (typeof p.uuid === "string" && p.uuid !== "" ? p.uuid : id);

  /** Version first, then the change under the gateway's write lock (see safeApply.ts). */
  const change = async (
    client: OpnsenseClient,
    p: ObjectProps,
    op: ChangeOp,
    fn: () => Promise<boolean>,
    log: (l: string) => void,
  ) => {
    await supported(client);
    await applyChange(client, p.kind, label(p), op, fn, safety(log), lockFor(client.url));
  };

  function checkObject(p: Partial<ObjectProps>, failures: pulumi.dynamic.CheckFailure[]): void {
    if (!isKind(p.kind)) {
      failures.push({
        property: "kind",
        reason: `kind must be one of ${[...KINDS, GATEWAY_KIND].join(", ")}`,
      });
      return;
    }
    const e = ENDPOINTS[p.kind];
    if (typeof p.key !== "string" || p.key.trim() === "") {
      if (p.key !== UNKNOWN) failures.push({ property: "key", reason: "key must be a non-empty string" });
      return;
    }
    const problems =
      p.kind === "alias"
        ? aliasNameProblems(p.key)
        : ["description", "descr"].includes(e.keyField)
          ? descriptionProblems(p.key).map((x) => `${e.keyField} ${x}`)
          : [];
    for (const reason of problems)
      failures.push({ property: "key", reason: `${p.kind} key ${JSON.stringify(p.key)}: ${reason}` });
  }

  async function gatewayCheck(p: GatewayProps, failures: pulumi.dynamic.CheckFailure[]): Promise<void> {
    const b = p.body as Partial<GatewayExpectation> | undefined;
    if (typeof b !== "object" || b === null || !Array.isArray(b.segments) || typeof b.wan !== "string") {
      failures.push({ property: "body", reason: "body must hold segments, wan and wireguard" });
      return;
    }
    // The read-only lookup of a preview: a wrong version or a missing interface fails here, before any write.
    if (hasUnknown(p) || urlProblem(p.url) !== undefined) return;
    try {
      await guarded(p, (client) => inspect(client, p.body));
    } catch (e) {
      failures.push({ property: "body", reason: (e as Error).message });
    }
  }

  async function idsCheck(p: IdsProps, failures: pulumi.dynamic.CheckFailure[]): Promise<void> {
    const bad = idsBodyProblem(p.body);
    if (bad !== undefined) {
      failures.push({ property: "body", reason: bad });
      return;
    }
    // The read-only inspection of a preview: an interface the gateway does not offer, IPS without a
    // netmap driver (with ipsUnsupported: fail) or an unknown ruleset fails here, before any write.
    if (hasUnknown(p) || urlProblem(p.url) !== undefined) return;
    try {
      await guarded(p, async (client) => {
        await supported(client);
        await inspectIds(client, p.body);
      });
    } catch (e) {
      failures.push({ property: "body", reason: (e as Error).message });
    }
  }

  /**
   * Settings and rulesets, then reconfigure; the update job; a rule download when rulesets were switched
   * on or never downloaded. Netmap (IPS) on the trunk puts the device that carries the management VLAN
   * into netmap mode: a change to or from it is guarded like a firewall change (backup, probe, revert).
   * Detection (pcap) only copies packets and is applied under the shared lock.
   */
  async function ensureIds(
    client: OpnsenseClient,
    body: IdsBody,
    op: ChangeOp,
    log: (l: string) => void,
  ): Promise<IdsFacts> {
    await supported(client);
    const { state, resolution, target } = await inspectIds(client, body);
    if (resolution.ipsUnsupported.length > 0)
      log(
        `opnsense: IPS asked for, but ${resolution.ipsUnsupported.join(", ")} has no native netmap driver: ` +
          `running detection only (homelab:ids.ipsUnsupported: ids)`,
      );
    const netmap = target.mode === "netmap" || state.general.mode === "netmap";
    await applyGuarded(
      client,
      { firewall: netmap, apply: () => reconfigureIds(client) },
      "intrusion detection",
      op,
      async () => (await writeIdsSettings(client, state, target, log)) || state.general.updateCron === "",
      safety(log),
      lockFor(client.url),
    );
    await lockFor(client.url).shared(async () => {
      await ensureUpdateJob(client, target, log);
      const switchedOn = rulesetChanges(target.rulesets, state.rulesets).enable;
      const neverDownloaded = state.rulesets.filter(
        (r) => target.rulesets.includes(r.filename) && r.modifiedLocal === null,
      );
      if (body.enabled && (switchedOn.length > 0 || neverDownloaded.length > 0))
        await startRuleUpdate(client, log);
    });
    return {
      effectiveMode: resolution.effectiveMode,
      ipsUnsupported: resolution.ipsUnsupported,
      applied: target,
    };
  }

  async function disableIds(client: OpnsenseClient, p: IdsProps, log: (l: string) => void): Promise<void> {
    await supported(client);
    const state = await readIdsState(client);
    const managed = p.applied?.rulesets ?? p.body.rulesets;
    await applyGuarded(
      client,
      { firewall: state.general.mode === "netmap", apply: () => reconfigureIds(client) },
      "intrusion detection",
      "delete",
      () => disableIdsSettings(client, state, managed),
      safety(log),
      lockFor(client.url),
    );
    await lockFor(client.url).shared(() => disableUpdateJob(client, state));
    log(`opnsense: intrusion detection switched off at ${client.url}`);
  }

  return {
    async check(_olds, news) {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const p = news as Record<string, unknown>;
      if (p["url"] !== UNKNOWN) {
        const bad = urlProblem(p["url"]);
        if (bad !== undefined) failures.push({ property: "url", reason: bad });
      }
      const body = p["body"];
      if (body !== UNKNOWN && (typeof body !== "object" || body === null || Array.isArray(body)))
        failures.push({ property: "body", reason: "body must be an object of the API's fields" });
      if (isGateway(p)) await gatewayCheck(asGateway(p), failures);
      else if (isIds(p)) await idsCheck(asIds(p), failures);
      else checkObject(p as Partial<ObjectProps>, failures);
      return { inputs: news, failures };
    },

    async diff(_id, olds, news) {
      if (isIds(news)) {
        const n = asIds(news);
        if (stableJson(olds["body"]) !== stableJson(n.body) || olds["url"] !== n.url)
          return { changes: true, replaces: [], deleteBeforeReplace: false };
        // Same intent: compare what the gateway has (read back by a refresh) with what it should have
        // now (the NIC facts can change the mode); a hand edit or a new NIC shows as a change.
        const { target } = await guarded(n, async (client) => {
          await supported(client);
          return inspectIds(client, n.body);
        });
        const applied = (olds["applied"] ?? null) as IdsApplied | null;
        return {
          changes: applied === null || idsDiffers(applied, target),
          replaces: [],
          deleteBeforeReplace: false,
        };
      }
      if (isGateway(news)) {
        // The lookup runs on every preview and update: a changed assignment reaches the rules.
        const n = asGateway(news);
        const facts = await guarded(n, (client) => inspect(client, n.body));
        const changes =
          JSON.stringify(olds["body"]) !== JSON.stringify(n.body) ||
          olds["url"] !== n.url ||
          factsChanged(olds as Partial<GatewayFacts>, facts, n.body);
        return { changes, replaces: [], deleteBeforeReplace: false };
      }
      const d = diffProps(asProps(olds), asProps(news));
      return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    },

    async create(inputs) {
      if (isIds(inputs)) {
        const p = asIds(inputs);
        const facts = await guarded(p, (client, log) => ensureIds(client, p.body, "create", log));
        return { id: `ids-${new URL(p.url).host}`, outs: { ...inputs, ...facts } };
      }
      if (isGateway(inputs)) {
        const g = asGateway(inputs);
        const facts = await guarded(g, (client, log) =>
          lockFor(client.url).shared(() => ensure(client, g.body, log)),
        );
        return { id: `gateway-${new URL(g.url).host}`, outs: { ...inputs, ...facts } };
      }
      const p = asProps(inputs);
      return guarded(p, async (client, log) => {
        let uuid = "";
        await change(
          client,
          p,
          "create",
          async () => {
            uuid = (await createOrAdopt(client, p.kind, p.key, p.body, pacing(log))).uuid;
            return true;
          },
          log,
        );
        return { id: uuid, outs: { ...inputs, uuid } };
      });
    },

    async read(id, props) {
      if (isIds(props)) {
        const p = asIds(props);
        const applied = await guarded(p, async (client) => {
          await supported(client);
          return appliedOf(await readIdsState(client));
        });
        return { id, props: { ...props, applied } };
      }
      if (isGateway(props)) {
        const g = asGateway(props);
        const facts = await guarded(g, (client) => inspect(client, g.body));
        return { id, props: { ...props, ...facts } };
      }
      const p = asProps(props);
      return guarded(p, async (client) => {
        await supported(client);
        const uuid = current(id, p);
        const fields = await readObject(client, p.kind, uuid);
        // An empty id tells the engine the object is gone (deleted on the firewall).
        if (fields === undefined) return { id: "", props };
        const e = ENDPOINTS[p.kind];
        const body = p.body ? project(fields, p.body) : fields;
        const raw = fields[e.keyField];
        const key = typeof raw === "string" ? raw : p.key;
        return { id, props: { ...props, key, body, uuid } };
      });
    },

    async update(id, olds, news) {
      if (isIds(news)) {
        const p = asIds(news);
        const facts = await guarded(p, (client, log) => ensureIds(client, p.body, "update", log));
        return { outs: { ...news, ...facts } };
      }
      if (isGateway(news)) {
        const g = asGateway(news);
        const facts = await guarded(g, (client, log) =>
          lockFor(client.url).shared(() => ensure(client, g.body, log)),
        );
        return { outs: { ...news, ...facts } };
      }
      const o = asProps(olds);
      const n = asProps(news);
      return guarded(n, async (client, log) => {
        let uuid = current(id, o);
        // Credential or CA rotation only refreshes state; no call, no filter reload.
        if (diffProps(o, n).remote.length > 0)
          await change(
            client,
            n,
            "update",
            async () => {
              uuid = await updateObject(client, n.kind, uuid, n.key, n.body, pacing(log));
              return true;
            },
            log,
          );
        return { outs: { ...news, uuid } };
      });
    },

    async delete(id, props) {
      // The preflight owns nothing on the gateway; WireGuard stays switched on.
      if (isGateway(props)) return;
      if (isIds(props)) {
        const p = asIds(props);
        await guarded(p, (client, log) => disableIds(client, p, log));
        return;
      }
      const p = asProps(props);
      await guarded(p, (client, log) =>
        change(client, p, "delete", () => deleteObject(client, p.kind, current(id, p)), log),
      );
    },
  };
}

/** The one provider instance every OpnsenseObject shares, so its closure is serialized once per run. */
export const opnsenseProvider = makeOpnsenseProvider();
