import type * as pulumi from "@pulumi/pulumi";
import type { Body, UnifiKind } from "../../components/unifi/kinds";
import { makeUnifiProvider, type ProviderSettings } from "../../components/unifi/provider";
import type { Fields, UnifiDouble } from "./double";

export interface TestProvider {
  provider: Required<
    Pick<pulumi.dynamic.ResourceProvider, "check" | "diff" | "create" | "read" | "update" | "delete">
  >;
  logs: string[];
}

/** The real provider with short deadlines and no real waiting. */
export function testProvider(overrides: Partial<ProviderSettings> = {}): TestProvider {
  const logs: string[] = [];
  const provider = makeUnifiProvider({
    timeoutMs: 500,
    retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
    log: (line) => void logs.push(line),
    ...overrides,
  }) as TestProvider["provider"];
  return { provider, logs };
}

export const PASSPHRASE = "correct horse battery staple";

/** Provider inputs addressing the double, as UnifiObject passes them. */
export function inputs(d: UnifiDouble, kind: UnifiKind, key: string, body: Body, passphrase?: string) {
  return {
    url: d.url,
    site: "default",
    username: d.username,
    password: d.password,
    kind,
    key,
    body,
    ...(passphrase !== undefined ? { passphrase } : {}),
  };
}

export const network = (name: string, vlan: number): Body => ({ name, vlan });
export const wlan = (ssid: string, net: string, over: Partial<Record<string, unknown>> = {}): Body =>
  ({
    ssid,
    network: net,
    security: "wpa2-wpa3",
    band: "both",
    purpose: "general",
    hidden: false,
    ...over,
  }) as Body;

/** The double's objects of a collection whose `field` equals `value`. */
export const where = (d: UnifiDouble, coll: string, field: string, value: unknown): Fields[] =>
  Object.values(d.objects(coll)).filter((o) => o[field] === value);

export const idOfName = (d: UnifiDouble, coll: string, name: string): string =>
  String(where(d, coll, "name", name)[0]?.["_id"]);

/** Logs in to the double and calls it directly: the requests a careless client would send. */
export async function rawSession(d: UnifiDouble) {
  const login = await fetch(`${d.url}/api/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: d.username, password: d.password }),
    redirect: "manual",
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${d.url}/api/s/default/${path}`, {
      method,
      headers: { "Content-Type": "application/json", Cookie: cookie },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: res.status,
      json: (await res.json()) as { meta: { rc: string; msg?: string }; data: Fields[] },
    };
  };
}
