import type * as pulumi from "@pulumi/pulumi";
import { checkBody, isKind, KINDS, keyOf, type Body, type UnifiKind } from "./kinds";
import { createOrAdopt, deleteObject, readObject, updateObject } from "./operations";
import { DEFAULT_RETRY, openSession, type RetryPolicy, type UnifiSession } from "./session";
import { stableJson } from "../../analysis/text/json";
import { redactor } from "../../analysis/text/redact";

/**
 * The dynamic provider behind UnifiObject. Pulumi serializes this closure into the state, so it reaches
 * only node built-ins and this folder's modules. Same discipline as the OPNsense provider: adopt by key,
 * safe under retries, secrets (the controller password, Wi-Fi passphrases, session cookies) never in
 * diffs, errors or logs.
 */

export interface ObjectProps {
  url: string;
  site: string;
  username: string;
  password: string;
  caCertificate?: string;
  kind: UnifiKind;
  key: string;
  body: Body;
  /** A WLAN's passphrase: its own (secret) input, so `body` stays readable in every diff. */
  passphrase?: string;
  objectId?: string;
}

export interface ProviderSettings {
  timeoutMs: number;
  retry: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
}

const DEFAULTS: ProviderSettings = {
  timeoutMs: 30_000,
  retry: DEFAULT_RETRY,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  log: (line) => void process.stderr.write(`${line}\n`),
};

export interface ObjectDiff {
  changes: boolean;
  replaces: string[];
  /** Changes that reach the controller (as opposed to credential rotation, state only). */
  remote: string[];
}

/**
 * Kind and site are other objects: replace. A switch's key is its MAC, another device: replace. Every
 * other change (name, body, passphrase, url) is written in place; rotated credentials or a new CA only
 * update state.
 */
export function diffProps(o: Partial<ObjectProps>, n: ObjectProps): ObjectDiff {
  const replaces: string[] = [];
  if (o.kind !== undefined && o.kind !== n.kind) replaces.push("kind");
  if (o.site !== undefined && o.site !== n.site) replaces.push("site");
  if (n.kind === "switchPorts" && o.key !== undefined && o.key !== n.key) replaces.push("key");
  const remote: string[] = [];
  if (o.key !== n.key) remote.push("key");
  if (stableJson(o.body) !== stableJson(n.body)) remote.push("body");
  if ((o.passphrase ?? "") !== (n.passphrase ?? "")) remote.push("passphrase");
  if (o.url !== n.url) remote.push("url");
  const local =
    o.username !== n.username ||
    o.password !== n.password ||
    (o.caCertificate ?? "") !== (n.caCertificate ?? "");
  return { changes: replaces.length > 0 || remote.length > 0 || local, replaces, remote };
}

export function makeUnifiProvider(
  overrides: Partial<ProviderSettings> = {},
): pulumi.dynamic.ResourceProvider {
  const s: ProviderSettings = { ...DEFAULTS, ...overrides };

  async function guarded<T>(
    p: Partial<ObjectProps>,
    op: (session: UnifiSession, log: (l: string) => void) => Promise<T>,
  ): Promise<T> {
    let scrub = redactor([p.password, p.passphrase]);
    let session: UnifiSession | undefined;
    const fullScrub = (t: string) => {
      if (session) scrub = redactor([p.password, p.passphrase, ...session.sessionSecrets()]);
      return scrub(t);
    };
    const log = (line: string) => s.log(fullScrub(line));
    try {
      session = await openSession({
        url: String(p.url),
        site: String(p.site),
        username: String(p.username),
        password: String(p.password),
        ...(p.caCertificate ? { caCertificate: p.caCertificate } : {}),
        timeoutMs: s.timeoutMs,
        retry: s.retry,
        sleep: s.sleep,
        log,
        scrub: fullScrub,
      });
      return await op(session, log);
    } catch (e) {
      // A fresh Error without `cause`: the original could carry what is scrubbed here.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(fullScrub(e instanceof Error ? e.message : String(e)));
    }
  }

  const pacing = (log: (l: string) => void) => ({ retry: s.retry, sleep: s.sleep, log });
  const current = (id: string, p: Partial<ObjectProps>) =>
    typeof p.objectId === "string" && p.objectId !== "" ? p.objectId : id;

  return {
    async check(_olds, news) {
      const p = news as Partial<ObjectProps>;
      const failures: pulumi.dynamic.CheckFailure[] = [];
      if (!isKind(p.kind))
        failures.push({ property: "kind", reason: `kind must be one of ${KINDS.join(", ")}` });
      else {
        for (const reason of checkBody(p.kind, p.body, p.passphrase))
          failures.push({ property: "body", reason });
        if (failures.length === 0 && keyOf(p.kind, p.body as Body) !== p.key)
          failures.push({ property: "key", reason: "key must be the body's SSID, name or MAC" });
      }
      if (typeof p.url !== "string" || !/^https?:\/\//.test(p.url))
        failures.push({ property: "url", reason: "url must be the controller's http(s) base URL" });
      if (typeof p.site !== "string" || p.site === "")
        failures.push({ property: "site", reason: "site must be set" });
      return { inputs: news, failures };
    },

    async diff(_id, olds, news) {
      const d = diffProps(olds as Partial<ObjectProps>, news as ObjectProps);
      return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
    },

    async create(inputs) {
      const p = inputs as ObjectProps;
      return guarded(p, async (session, log) => {
        const made = await createOrAdopt(session, p.kind, p.key, p.body, p.passphrase, pacing(log));
        return { id: made.id, outs: { ...inputs, objectId: made.id } };
      });
    },

    async read(id, props) {
      const p = props as ObjectProps;
      return guarded(p, async (session) => {
        const objectId = current(id, p);
        const seen = await readObject(session, p.kind, objectId, p.body);
        // An empty id tells the engine the object is gone (deleted on the controller).
        if (!seen) return { id: "", props };
        return {
          id,
          props: {
            ...props,
            key: keyOf(p.kind, seen.body),
            body: seen.body,
            ...(seen.passphrase !== undefined && p.kind === "wlan" ? { passphrase: seen.passphrase } : {}),
            objectId,
          },
        };
      });
    },

    async update(id, olds, news) {
      const o = olds as ObjectProps;
      const n = news as ObjectProps;
      return guarded(n, async (session, log) => {
        let objectId = current(id, o);
        if (diffProps(o, n).remote.length > 0)
          objectId = await updateObject(
            session,
            n.kind,
            objectId,
            n.key,
            o.body,
            n.body,
            n.passphrase,
            pacing(log),
          );
        return { outs: { ...news, objectId } };
      });
    },

    async delete(id, props) {
      const p = props as ObjectProps;
      await guarded(p, (session) => deleteObject(session, p.kind, current(id, p), p.body));
    },
  };
}

/** The one provider instance every UnifiObject shares, so its closure is serialized once per run. */
export const unifiProvider = makeUnifiProvider();
