import { homedir } from "node:os";
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { createClient, type OpnsenseClient } from "./client";
import { diffProps, type ObjectProps } from "./diff";
import { ENDPOINTS, KINDS, isKind } from "./endpoints";
import { createOrAdopt, deleteObject, readObject, updateObject } from "./operations";
import { redactor } from "./redact";
import { project } from "./responses";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry";
import { applyChange, type ChangeLock } from "./safeApply";

/**
 * The dynamic provider behind OpnsenseObject. Pulumi serializes this object's closure into the state,
 * so it only reaches node built-ins and this folder's modules (no @pulumi/pulumi at run time, no
 * classes, no module state beyond the settings captured below).
 */

export interface ProviderSettings {
  timeoutMs: number;
  retry: RetryPolicy;
  probeAttempts: number;
  probeTimeoutMs: number;
  probeDelayMs: number;
  /** Where safe apply keeps pre-change configurations; `null` keeps none. */
  backupDir: string | null;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
}

const DEFAULTS: ProviderSettings = {
  timeoutMs: 30_000,
  retry: DEFAULT_RETRY,
  probeAttempts: 3,
  probeTimeoutMs: 10_000,
  probeDelayMs: 3_000,
  backupDir: join(homedir(), ".homelab", "opnsense-backups"),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  log: (line) => void process.stderr.write(`${line}\n`),
};

function asProps(raw: Record<string, unknown>): ObjectProps {
  return raw as unknown as ObjectProps;
}

/** Every value that must never be printed: the credentials and the kind's key material fields. */
function secretsOf(p: Partial<ObjectProps>): string[] {
  const body = p.body ?? {};
  const fields = p.kind !== undefined && isKind(p.kind) ? (ENDPOINTS[p.kind].secretFields ?? []) : [];
  return [p.apiKey, p.apiSecret, ...fields.map((f) => body[f])].filter(
    (v): v is string => typeof v === "string",
  );
}

export function makeOpnsenseProvider(
  overrides: Partial<ProviderSettings> = {},
): pulumi.dynamic.ResourceProvider {
  const s: ProviderSettings = { ...DEFAULTS, ...overrides };
  const lock: ChangeLock = {};

  /** Runs one provider operation with a client whose logs and errors are scrubbed of secrets. */
  async function guarded<T>(
    p: Partial<ObjectProps>,
    op: (client: OpnsenseClient, log: (l: string) => void) => Promise<T>,
  ): Promise<T> {
    const scrub = redactor(secretsOf(p));
    const log = (line: string) => s.log(scrub(line));
    try {
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

  const safety = (log: (l: string) => void) => ({
    probeAttempts: s.probeAttempts,
    probeTimeoutMs: s.probeTimeoutMs,
    probeDelayMs: s.probeDelayMs,
    backupDir: s.backupDir ?? undefined,
    sleep: s.sleep,
    log,
  });
  const pacing = (log: (l: string) => void) => ({ retry: s.retry, sleep: s.sleep, log });
  const label = (p: ObjectProps) => `${p.kind} ${JSON.stringify(p.key)}`;
  // The resource id stays the first UUID; when an update had to re-add a vanished object, the current
  // UUID is the `uuid` output.
  const current = (id: string, p: ObjectProps) => (typeof p.uuid === "string" && p.uuid !== "" ? p.uuid : id);

  return {
    async check(_olds, news) {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const p = news as Partial<ObjectProps>;
      if (!isKind(p.kind))
        failures.push({ property: "kind", reason: `kind must be one of ${KINDS.join(", ")}` });
      if (typeof p.key !== "string" || p.key.trim() === "")
        failures.push({ property: "key", reason: "key must be a non-empty string" });
      else if (isKind(p.kind) && ENDPOINTS[p.kind].keyPattern && !ENDPOINTS[p.kind].keyPattern!.test(p.key))
        failures.push({
          property: "key",
          reason: `${p.kind} key ${JSON.stringify(p.key)} must match ${String(ENDPOINTS[p.kind].keyPattern)} (it is the object's ${ENDPOINTS[p.kind].keyField})`,
        });
      if (typeof p.body !== "object" || p.body === null || Array.isArray(p.body))
        failures.push({ property: "body", reason: "body must be an object of the API's fields" });
      if (typeof p.url !== "string" || !/^https?:\/\//.test(p.url))
        failures.push({ property: "url", reason: "url must be the gateway's http(s) address" });
      return { inputs: news, failures };
    },

    async diff(_id, olds, news) {
      const d = diffProps(asProps(olds), asProps(news));
      return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    },

    async create(inputs) {
      const p = asProps(inputs);
      return guarded(p, async (client, log) => {
        let uuid = "";
        await applyChange(
          client,
          p.kind,
          label(p),
          async () => {
            uuid = (await createOrAdopt(client, p.kind, p.key, p.body, pacing(log))).uuid;
            return true;
          },
          safety(log),
          lock,
        );
        return { id: uuid, outs: { ...inputs, uuid } };
      });
    },

    async read(id, props) {
      const p = asProps(props);
      return guarded(p, async (client) => {
        const uuid = current(id, p);
        const fields = await readObject(client, p.kind, uuid);
        // An empty id tells the engine the object is gone (deleted on the firewall).
        if (fields === undefined) return { id: "", props };
        const keyField = ENDPOINTS[p.kind].keyField;
        const body = p.body ? project(fields, p.body) : fields;
        const key = typeof fields[keyField] === "string" ? fields[keyField] : p.key;
        return { id, props: { ...props, key, body, uuid } };
      });
    },

    async update(id, olds, news) {
      const o = asProps(olds);
      const n = asProps(news);
      return guarded(n, async (client, log) => {
        let uuid = current(id, o);
        // Credential or CA rotation only refreshes state; no call, no filter reload.
        if (diffProps(o, n).remote.length > 0)
          await applyChange(
            client,
            n.kind,
            label(n),
            async () => {
              uuid = await updateObject(client, n.kind, uuid, n.key, n.body, pacing(log));
              return true;
            },
            safety(log),
            lock,
          );
        return { outs: { ...news, uuid } };
      });
    },

    async delete(id, props) {
      const p = asProps(props);
      await guarded(p, (client, log) =>
        applyChange(
          client,
          p.kind,
          label(p),
          () => deleteObject(client, p.kind, current(id, p)),
          safety(log),
          lock,
        ),
      );
    },
  };
}

/** The one provider instance every OpnsenseObject shares, so its closure is serialized once per run. */
export const opnsenseProvider = makeOpnsenseProvider();
