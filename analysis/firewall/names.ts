import { createHash } from "node:crypto";

const MAX_ALIAS = 31;

/**
 * OPNsense alias names match /^[_a-zA-Z][a-zA-Z0-9][_a-zA-Z0-9]{0,29}$/ and may not be pf keywords or
 * service names. A fixed prefix per kind keeps them clear of both and of each other; names that would be
 * too long keep a readable head and a short hash, so two long names never collide.
 */
export function aliasName(prefix: "net" | "host" | "ports", name: string): string {
  const plain = `${prefix}_${name.replace(/[^a-zA-Z0-9]/g, "_")}`;
  if (plain.length <= MAX_ALIAS) return plain;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 6);
  return `${plain.slice(0, MAX_ALIAS - hash.length - 1)}_${hash}`;
}

/** Fixed aliases: not prefixed like the generated ones, so no segment or host name can produce them. */
export const PRIVATE_ALIAS = "private_nets";
export const TUNNEL_ALIAS = "wg_tunnel";

/** Alias descriptions only accept letters, digits, whitespace and . - , _ (and non-ASCII), up to 255. */
export const aliasDescription = (text: string): string =>
  text
    .replace(/[^\t\n 0-9a-zA-Z.\-,_\u00A0-\uFFFF]/g, " ")
    .replace(/ {2,}/g, " ")
    .trim()
    .slice(0, 255) || "homelab";
