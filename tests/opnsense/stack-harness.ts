import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wireGuardPublicKey } from "../../analysis/wireguard/keys";
import { NAMESPACE, type StackFile } from "../../model";
import { planMocks } from "../../tools/plan/mocks";
import { networkFile } from "../fixtures/reference";
import type { OpnsenseDouble } from "./double";

/**
 * `pulumi up` of the reference network stack, for the OPNsense part, without the Pulumi CLI: the real
 * program (program.ts) runs under Pulumi's mock monitor, and every OPNsense resource it registers is
 * created through the provider closure Pulumi serialized into its `__provider` input, loaded from that
 * text alone the way the engine's dynamic-provider host loads it (@pulumi/pulumi/cmd/dynamic-provider:
 * require-from-string, one instance per text for the whole run), with check() then create(). The SDK
 * registers a resource only once its inputs and dependsOn are resolved, so creation follows the
 * program's dependency graph. Other resources (Docker, commands, compose) are only recorded.
 *
 * Pulumi's runtime is process-global: one deployment per test file.
 */

export const OBJECT = "pulumi-nodejs:dynamic/opnsense:Object";
export const GATEWAY = "pulumi-nodejs:dynamic/opnsense:Gateway";
export const IDS = "pulumi-nodejs:dynamic/opnsense:Ids";

export interface Provider {
  check(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<{ inputs?: Record<string, unknown>; failures?: { property: string; reason: string }[] }>;
  diff(
    id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<{ changes?: boolean; replaces?: string[] }>;
  create(inputs: Record<string, unknown>): Promise<{ id: string; outs?: Record<string, unknown> }>;
  read(id: string, props: Record<string, unknown>): Promise<{ id?: string; props?: Record<string, unknown> }>;
  update(
    id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<{ outs?: Record<string, unknown> }>;
  delete(id: string, props: Record<string, unknown>): Promise<void>;
}

export interface Created {
  name: string;
  type: string;
  id: string;
  /** The checked inputs, as the engine keeps them for the next diff. */
  inputs: Record<string, unknown>;
  outs: Record<string, unknown>;
  retainOnDelete: boolean;
}

export interface Deployment {
  /** In the order they were created (a valid dependency order; deletes go the other way). */
  created: Created[];
  /** Errors from check or create, by resource name. */
  errors: { name: string; message: string }[];
  /** The one provider instance the run used (loaded from the serialized text). */
  provider: () => Provider;
  peerKeys: Record<string, string>;
}

const wgPrivateKey = (): string =>
  (generateKeyPairSync("x25519").privateKey.export({ format: "der", type: "pkcs8" }) as Buffer)
    .subarray(-32)
    .toString("base64");

export interface StackOptions {
  /** Bind every segment by its description (the segment's name) instead of the keys in the file. */
  bindByDescription?: boolean;
}

/** The reference stack file pointed at the double, with peers whose private keys this test holds. */
export function referenceAgainst(
  double: Pick<OpnsenseDouble, "url" | "apiKey" | "apiSecret">,
  opts: StackOptions = {},
): { file: StackFile; secrets: Record<string, string> } {
  const file = networkFile();
  const all = structuredClone(file.all) as Record<string, unknown>;
  if (opts.bindByDescription)
    for (const s of all[`${NAMESPACE}:segments`] as Record<string, unknown>[]) delete s["interface"];
  const opnsense = { ...(all[`${NAMESPACE}:opnsense`] as Record<string, unknown>), url: double.url };
  all[`${NAMESPACE}:opnsense`] = opnsense;
  const wireguard = structuredClone(all[`${NAMESPACE}:wireguard`]) as {
    peers: { name: string; publicKey: string; privateKey: { secret: string } }[];
  };
  const secrets: Record<string, string> = {
    opnsenseApiKey: double.apiKey,
    opnsenseApiSecret: double.apiSecret,
    wireguardServerPrivateKey: wgPrivateKey(),
    // Ingress only checks the PEM framing; these blocks are placeholders, not a certificate.
    ingressTlsCertificate: "-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n",
    ingressTlsKey: "-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----\n",
  };
  for (const p of wireguard.peers) {
    const key = wgPrivateKey();
    secrets[p.privateKey.secret] = key;
    p.publicKey = wireGuardPublicKey(key);
  }
  all[`${NAMESPACE}:wireguard`] = wireguard;
  const raw = Object.fromEntries(
    Object.entries(all)
      .filter(([k]) => k.startsWith(`${NAMESPACE}:`))
      .map(([k, v]) => [k.slice(NAMESPACE.length + 1), v]),
  );
  return { file: { ...file, all, raw }, secrets };
}

/** The engine hands a dynamic provider plain values: secrets unwrapped (their secrecy stays in state). */
const SIG = "4dabf18193072939515e22adb298388d";
function unwrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrap);
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  if (SIG in o && "value" in o) return unwrap(o["value"]);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
}

/** Loads serialized provider text as the dynamic-provider host does (a module whose `handler` builds it). */
function loadProvider(text: string): Provider {
  const module = { exports: {} as Record<string, () => Provider> };
  new Function("module", "exports", "require", text)(module, module.exports, require);
  return module.exports["handler"]!();
}

export async function deployNetworkStack(
  double: Pick<OpnsenseDouble, "url" | "apiKey" | "apiSecret">,
  opts: StackOptions = {},
): Promise<Deployment> {
  const { file, secrets } = referenceAgainst(double, opts);
  // The provider's default backup directory, decided when it runs: a scratch one for the test.
  process.env["HOMELAB_OPNSENSE_BACKUP_DIR"] = mkdtempSync(join(tmpdir(), "opnsense-stack-backups-"));
  const pulumi = await import("@pulumi/pulumi");
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(file.all)) {
    if (file.secureKeys.has(key)) {
      secretKeys.push(key);
      config[key] = secrets[key.slice(NAMESPACE.length + 1)] ?? `test-value-${key}`;
    } else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(config, secretKeys);

  const providers = new Map<string, Provider>();
  let used: Provider | undefined;
  const created: Created[] = [];
  const errors: Deployment["errors"] = [];
  const retained = new Set<string>();

  // Everything but OPNsense answered as the offline plan does (image digests, ids).
  const plan = planMocks({});
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        if (args.type !== OBJECT && args.type !== GATEWAY && args.type !== IDS) return plan.newResource(args);
        const text = String(args.inputs["__provider"]);
        let provider = providers.get(text);
        if (!provider) providers.set(text, (provider = loadProvider(text)));
        used = provider;
        const news = unwrap({ ...args.inputs }) as Record<string, unknown>;
        delete news["__provider"];
        try {
          const checked = await provider.check({}, news);
          if ((checked.failures ?? []).length > 0)
            throw new Error(checked.failures!.map((f) => `${f.property}: ${f.reason}`).join("; "));
          const inputs = checked.inputs ?? news;
          const result = await provider.create(inputs);
          const outs = result.outs ?? inputs;
          created.push({
            name: args.name,
            type: args.type,
            id: result.id,
            inputs,
            outs,
            retainOnDelete: retained.has(args.name),
          });
          return { id: result.id, state: { ...outs, __provider: text } };
        } catch (e) {
          errors.push({ name: args.name, message: (e as Error).message });
          throw e;
        }
      },
      call: (args) => plan.call(args),
    },
    "homelab",
    "network",
    false,
  );
  // retainOnDelete is part of the registration request, not of the mock's arguments.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: { getName(): string; getRetainondelete?(): boolean }, cb: unknown): Promise<void>;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    if (req.getRetainondelete?.()) retained.add(req.getName());
    return register(req, cb);
  };

  // A failed resource rejects every Output that depends on it; the engine reports those as one failed
  // update. Here they are collected instead of ending the test process.
  const rejected = (e: unknown) =>
    void errors.push({ name: "<output>", message: String((e as Error)?.message ?? e) });
  // Jest's own listener would turn those into test failures: it is set aside for the run.
  const others = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", rejected);
  const { main } = await import("../../program");
  // As in the plan (tools/plan/evaluate.ts): the SDK captures a stack trace for every promise it tracks,
  // and under jest each frame is source-mapped, a fifth of a deployment's time. Only messages are kept.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    await pulumi.runtime.runInPulumiStack(async () => (await main()) as unknown as Record<string, unknown>);
  } catch (e) {
    errors.push({ name: "<program>", message: (e as Error).message });
  }
  try {
    // Every registration still in flight (the SDK counts them as RPCs) finishes before the run ends.
    await pulumi.runtime.disconnect();
  } catch (e) {
    errors.push({ name: "<disconnect>", message: (e as Error).message });
  }
  await new Promise((r) => setTimeout(r, 200));
  Error.stackTraceLimit = stackTraceLimit;
  process.off("unhandledRejection", rejected);
  for (const l of others) process.on("unhandledRejection", l);
  const peerKeys = Object.fromEntries(Object.entries(secrets).filter(([k]) => k.startsWith("wireguardPeer")));
  return {
    created,
    errors,
    peerKeys,
    provider: () => {
      if (!used) throw new Error("no OPNsense resource was registered");
      return used;
    },
  };
}
