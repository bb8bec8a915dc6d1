import * as pulumi from "@pulumi/pulumi";
import { MIN_PBS, pbsPlan, type PbsObjectSpec } from "../../analysis/pbs/objects";
import { makePbsProvider } from "../../components/pbs/provider";
import { resolveStorage } from "../../model";
import { allSecretsSet, rawOf, referenceContract, storageFile } from "../fixtures/reference";
import type { PbsDouble } from "./double/server";

export type Provider = Required<
  Pick<pulumi.dynamic.ResourceProvider, "check" | "diff" | "create" | "read" | "update" | "delete">
>;

/**
 * The PBS provider as the Pulumi engine runs it: closure-serialized by the SDK, then loaded from that
 * text alone, with short deadlines so failure paths run in milliseconds. Logs go to stderr (spy on it).
 */
export async function serializedPbsProvider(): Promise<Provider> {
  const sf = await pulumi.runtime.serializeFunction(() =>
    makePbsProvider({
      timeoutMs: 5_000,
      retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
      taskPollMs: 5,
      taskTimeoutMs: 5_000,
    }),
  );
  const exports: Record<string, () => Provider> = {};
  new Function("exports", "require", sf.text)(exports, require);
  return exports[sf.exportName]!();
}

export const referenceModel = () => resolveStorage(rawOf(storageFile()), allSecretsSet, referenceContract());

/** The reference stack's PBS objects, with a value for every secret field. */
export function referencePlan() {
  const plan = pbsPlan(referenceModel().config);
  return plan;
}

/** The connection inputs every object carries, pointed at the double. */
export const connectionOf = (d: PbsDouble, over: Partial<Record<string, unknown>> = {}) => ({
  url: d.url,
  fingerprint: d.fingerprint.toUpperCase(),
  authId: d.adminTokenId,
  tokenSecret: d.adminSecret,
  minVersion: MIN_PBS,
  ...over,
});

/** Provider inputs for one spec; secret fields get recognizable test values. */
export function inputsOf(d: PbsDouble, spec: PbsObjectSpec, over: Partial<Record<string, unknown>> = {}) {
  const secrets: Record<string, string> = {};
  for (const f of Object.keys(spec.secrets ?? {})) secrets[f] = `test-${spec.key}-${f}-value`;
  if (spec.kind === "s3Endpoint") secrets["secret-key"] = "test-s3-secret-key-value";
  const body = spec.kind === "s3Endpoint" ? { ...spec.body, "access-key": "AKIATESTVALUE" } : spec.body;
  return {
    ...connectionOf(d),
    kind: spec.kind,
    key: spec.key,
    body,
    secrets,
    ...over,
  } as Record<string, unknown>;
}

/** A raw API call to the double with a given token (for what PVE or the metrics job would do). */
export async function api(
  d: PbsDouble,
  method: string,
  path: string,
  token: { id: string; secret: string },
  body?: Record<string, unknown>,
): Promise<{ status: number; text: string; json?: { data: unknown } }> {
  const { pinnedRequest } = await import("../../components/pbs/transport");
  const r = await pinnedRequest({
    method,
    url: `${d.url}/api2/json${path}`,
    headers: {
      Authorization: `PBSAPIToken=${token.id}:${token.secret}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    timeoutMs: 5000,
    fingerprint: d.fingerprint,
  });
  let json: { data: unknown } | undefined;
  try {
    json = JSON.parse(r.text) as { data: unknown };
  } catch {
    json = undefined;
  }
  return { ...r, ...(json ? { json } : {}) };
}

export const admin = (d: PbsDouble) => ({ id: d.adminTokenId, secret: d.adminSecret });
