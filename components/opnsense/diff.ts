import type { OpnsenseKind } from "./endpoints";
import { toApiFields } from "./requests";
import { stableJson } from "../../analysis/text/json";

/** What the dynamic resource stores: its inputs plus the object's UUID. */
export interface ObjectProps {
  url: string;
  caCertificate?: string;
  apiKey: string;
  apiSecret: string;
  kind: OpnsenseKind;
  key: string;
  body: Record<string, unknown>;
  uuid?: string;
}

export interface ObjectDiff {
  changes: boolean;
  replaces: string[];
  /** Properties whose change reaches the firewall (an API set), as opposed to state-only changes. */
  remote: string[];
}

/** Deterministic JSON of the body as the API sees it ("1" and true are the same value). */
export function canonicalBody(body: Record<string, unknown> | undefined): string {
  return stableJson(toApiFields(body ?? {}));
}

/**
 * Only a change of kind replaces (the object lives under another endpoint). Key, body and endpoint
 * changes are updates in place. Rotated credentials or a new CA are an update too, so state holds what
 * the next delete needs, without any call to the firewall.
 */
export function diffProps(olds: Partial<ObjectProps>, news: ObjectProps): ObjectDiff {
  const replaces = olds.kind !== undefined && olds.kind !== news.kind ? ["kind"] : [];
  const remote: string[] = [];
  if (olds.key !== news.key) remote.push("key");
  if (canonicalBody(olds.body) !== canonicalBody(news.body)) remote.push("body");
  if (olds.url !== news.url) remote.push("url");
  const local =
    olds.apiKey !== news.apiKey ||
    olds.apiSecret !== news.apiSecret ||
    (olds.caCertificate ?? "") !== (news.caCertificate ?? "");
  return { changes: replaces.length > 0 || remote.length > 0 || local, replaces, remote };
}
