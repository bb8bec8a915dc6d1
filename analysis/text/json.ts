/** Hands JSON.stringify a key-sorted copy of each object it meets; arrays keep their order. */
const sortedKeys = (_key: string, value: unknown): unknown => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const o = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) sorted[k] = o[k];
  return sorted;
};

/**
 * JSON with object keys sorted at every depth, so key order (which neither the engine nor a serialization
 * round trip promises) is never a difference, and equal content always hashes equal. Undefined members
 * are left out as JSON leaves them out; `undefined` itself (a missing value) is spelled "undefined", so it
 * differs from null. The walk is JSON.stringify's own (a hand-written one took ten times as long on the
 * 100x homelab).
 */
export const stableJson = (value: unknown): string => JSON.stringify(value, sortedKeys) ?? "undefined";
