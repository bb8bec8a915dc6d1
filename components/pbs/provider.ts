import type * as pulumi from "@pulumi/pulumi";
import { PBS_KINDS, type PbsKind } from "../../analysis/pbs/objects";
import {
  createClient,
  DEFAULT_RETRY,
  isTransient,
  withRetry,
  type PbsClient,
  type RetryPolicy,
} from "./client";
import {
  atLeast,
  certificate,
  ensure,
  modifiedMeanwhile,
  read,
  remove,
  sameValue,
  version,
  type CertificateFacts,
  type PbsVersion,
} from "./operations";
import { redactor } from "../../analysis/text/redact";

/**
 * The dynamic provider behind PbsObject. Pulumi serializes this closure into the state, so it reaches
 * only node built-ins and pure modules of this repository. Secrets (the program's token, the objects'
 * secret fields, generated token values) travel as Pulumi secrets and are scrubbed from every error and
 * log line; the diff reports field names, never values.
 */

type Obj = Record<string, unknown>;

export const CERTIFICATE_KIND = "certificate";
export type ObjectKind = PbsKind | typeof CERTIFICATE_KIND;

export interface PbsObjectProps {
  url: string;
  /** SHA-256 fingerprint pinned for this program's own connection. */
  fingerprint: string;
  authId: string;
  tokenSecret: string;
  minVersion: { major: number; minor: number; release: number };
  kind: ObjectKind;
  key: string;
  body: Obj;
  /** API field -> value, for fields PBS never returns (token, password, secret-key). */
  secrets: Obj;
  /** Output of a token: its secret (shown by PBS once, at creation or regeneration). */
  tokenValue?: string;
  /** Output of the certificate lookup. */
  certificate?: CertificateFacts;
}

export interface ProviderSettings {
  timeoutMs: number;
  retry: RetryPolicy;
  taskPollMs: number;
  taskTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
}

const DEFAULTS: ProviderSettings = {
  timeoutMs: 30_000,
  retry: DEFAULT_RETRY,
  taskPollMs: 1_000,
  taskTimeoutMs: 600_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  log: (line) => void process.stderr.write(`${line}\n`),
};

/** Values not known during a preview (an output of a resource still to be created). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const FINGERPRINT = /^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$/;
/** Inputs that only say how to reach PBS: a change is recorded, not applied to any object. */
const CONNECTION = ["url", "fingerprint", "authId", "tokenSecret", "minVersion"] as const;

const props = (raw: Record<string, unknown>): PbsObjectProps => raw as unknown as PbsObjectProps;
const isKind = (k: unknown): k is ObjectKind =>
  k === CERTIFICATE_KIND || (PBS_KINDS as readonly unknown[]).includes(k);

export function makePbsProvider(overrides: Partial<ProviderSettings> = {}): pulumi.dynamic.ResourceProvider {
  const s: ProviderSettings = { ...DEFAULTS, ...overrides };
  // One version check per server and run; a plain object, since the closure serializer cannot rebuild a Map.
  const versions: Record<string, Promise<PbsVersion>> = {};

  async function guarded<T>(
    p: PbsObjectProps,
    op: (client: PbsClient, log: (l: string) => void) => Promise<T>,
  ): Promise<T> {
    const secretValues = [p.tokenSecret, p.tokenValue, ...Object.values(p.secrets ?? {})].filter(
      (v): v is string => typeof v === "string",
    );
    const scrub = redactor(secretValues);
    const log = (line: string) => s.log(scrub(line));
    try {
      const client = createClient({
        url: p.url,
        fingerprint: p.fingerprint,
        tokenId: p.authId,
        tokenSecret: p.tokenSecret,
        timeoutMs: s.timeoutMs,
        retry: s.retry,
        sleep: s.sleep,
        log,
        taskPollMs: s.taskPollMs,
        taskTimeoutMs: s.taskTimeoutMs,
      });
      // The whole operation is repeated on a transient failure or a concurrent config change: it
      // re-reads first, so a write that landed before its answer was lost is not made twice.
      return await withRetry(
        () => op(client, log),
        s.retry,
        s.sleep,
        log,
        `${p.kind} ${p.key}`,
        (e) => isTransient(e) || modifiedMeanwhile(e),
      );
    } catch (e) {
      // A fresh Error without `cause`: the original's properties could carry what is scrubbed here.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(scrub(e instanceof Error ? e.message : String(e)));
    }
  }

  async function gate(client: PbsClient, p: PbsObjectProps): Promise<void> {
    // A failed lookup is not remembered: the retry asks again.
    const v = await (versions[client.url] ??= version(client).catch((e: unknown) => {
      delete versions[client.url];
      throw e;
    }));
    const m = p.minVersion;
    if (!atLeast(v, m))
      throw new Error(
        `${client.url} runs Proxmox Backup Server ${v.text}; this program needs ${m.major}.${m.minor}.${m.release} or later (S3-backed datastores left technology preview in 4.1.9). Nothing was changed.`,
      );
  }

  return {
    async check(_olds, news) {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const p = news as Record<string, unknown>;
      if (!isKind(p["kind"]))
        failures.push({
          property: "kind",
          reason: `kind must be one of ${[...PBS_KINDS, CERTIFICATE_KIND].join(", ")}`,
        });
      if ((typeof p["key"] !== "string" || p["key"] === "") && p["key"] !== UNKNOWN)
        failures.push({ property: "key", reason: "key must be a non-empty string" });
      const url = p["url"];
      if (
        url !== UNKNOWN &&
        (typeof url !== "string" || !URL.canParse(url) || new URL(url).protocol !== "https:")
      )
        failures.push({ property: "url", reason: "url must be the PBS API's https:// address" });
      const fp = p["fingerprint"];
      if (fp !== UNKNOWN && (typeof fp !== "string" || !FINGERPRINT.test(fp)))
        failures.push({
          property: "fingerprint",
          reason: "fingerprint must be a SHA-256 fingerprint (32 hex pairs separated by ':')",
        });
      const body = p["body"];
      if (body !== UNKNOWN && (typeof body !== "object" || body === null || Array.isArray(body)))
        failures.push({ property: "body", reason: "body must be an object of the API's fields" });
      return { inputs: news, failures };
    },

    async diff(_id, olds, news) {
      const o = props(olds);
      const n = props(news);
      const replaces = (["kind", "key"] as const).filter((k) => !sameValue(o[k], n[k]));
      const changed = (["body", "secrets", ...CONNECTION] as const).filter((k) => !sameValue(o[k], n[k]));
      if (n.kind === CERTIFICATE_KIND && replaces.length === 0 && !changed.includes("url")) {
        // The certificate is looked up on every preview and update: a replaced certificate reaches PVE.
        const facts = await guarded(n, (c) => certificate(c));
        if (!sameValue(facts, o.certificate)) changed.push("body");
      }
      return {
        changes: replaces.length + changed.length > 0,
        replaces: [...replaces],
        deleteBeforeReplace: false,
      };
    },

    async create(inputs) {
      const p = props(inputs);
      return guarded(p, async (client, log) => {
        await gate(client, p);
        if (p.kind === CERTIFICATE_KIND) {
          const facts = await certificate(client);
          return { id: `certificate:${p.key}`, outs: { ...inputs, certificate: facts } };
        }
        const r = await ensure(client, p.kind, p.key, p.body, p.secrets ?? {}, {
          sendSecrets: true,
          knownSecret: false,
          log,
        });
        log(`${p.kind} ${p.key}: ${r.created ? "created" : r.updated ? "adopted and updated" : "adopted"}`);
        return {
          id: `${p.kind}:${p.key}`,
          outs: { ...inputs, ...(r.tokenValue !== undefined ? { tokenValue: r.tokenValue } : {}) },
        };
      });
    },

    async read(id, raw) {
      const p = props(raw);
      return guarded(p, async (client) => {
        if (p.kind === CERTIFICATE_KIND)
          return { id, props: { ...raw, certificate: await certificate(client) } };
        const body = await read(client, p.kind, p.key, p.body);
        // An empty id tells the engine the object is gone (removed on PBS).
        if (body === undefined) return { id: "", props: raw };
        return { id, props: { ...raw, body } };
      });
    },

    async update(_id, olds, news) {
      const o = props(olds);
      const n = props(news);
      const remote = !sameValue(o.body, n.body) || !sameValue(o.secrets, n.secrets);
      return guarded(n, async (client, log) => {
        if (n.kind === CERTIFICATE_KIND) return { outs: { ...news, certificate: await certificate(client) } };
        // Credential or address changes only refresh the state: no object changes.
        if (!remote)
          return { outs: { ...news, ...(o.tokenValue !== undefined ? { tokenValue: o.tokenValue } : {}) } };
        await gate(client, n);
        const r = await ensure(client, n.kind, n.key, n.body, n.secrets ?? {}, {
          previous: o.body,
          sendSecrets: !sameValue(o.secrets, n.secrets),
          knownSecret: o.tokenValue !== undefined,
          log,
        });
        const tokenValue = r.tokenValue ?? o.tokenValue;
        return { outs: { ...news, ...(tokenValue !== undefined ? { tokenValue } : {}) } };
      });
    },

    async delete(_id, raw) {
      const p = props(raw);
      if (p.kind === CERTIFICATE_KIND) return;
      await guarded(p, (client) => remove(client, p.kind as PbsKind, p.key));
    },
  };
}

/** The one provider instance every PbsObject shares, so its closure is serialized once per run. */
export const pbsProvider = makePbsProvider();
