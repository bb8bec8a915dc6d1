import { createPrivateKey, createPublicKey } from "node:crypto";

/** PKCS#8 DER prefix for an X25519 private key; the 32 raw key bytes follow it. */
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const KEY_TEXT = /^[A-Za-z0-9+/]{43}=$/;

/** True for the base64 form of a 32-byte WireGuard key (as `wg genkey` / `wg pubkey` print it). */
export const isWireGuardKey = (text: string): boolean =>
  KEY_TEXT.test(text) && Buffer.from(text, "base64").length === 32;

/**
 * `wg pubkey` in Node: X25519 public key of a base64 private key. Deriving the server's public key from
 * its private key (instead of a second config value) means the two can never disagree. Errors never
 * quote the key.
 */
export function wireGuardPublicKey(privateKey: string): string {
  if (!isWireGuardKey(privateKey.trim()))
    throw new Error("not a WireGuard private key (44 base64 characters)");
  const der = Buffer.concat([X25519_PKCS8_PREFIX, Buffer.from(privateKey.trim(), "base64")]);
  const spki = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" })).export({
    format: "der",
    type: "spki",
  });
  return spki.subarray(spki.length - 32).toString("base64");
}
