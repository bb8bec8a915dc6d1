export const REDACTED = "[secret]";

export interface RedactOptions {
  /** Values shorter than this are not treated as secrets (default 4: "true", "443" are not secrets). */
  minLength?: number;
}

/**
 * Scrubs secrets from text before it leaves a provider (errors become Pulumi diagnostics, log lines go to
 * the engine's logs): each value as written, URL-encoded and JSON-escaped, and the HTTP basic-auth token
 * of the first two (key and secret), longest first so a secret containing another is replaced whole; and
 * any private key, even one that reached the text only in part.
 */
export function redactor(
  secrets: Iterable<string | undefined>,
  opts: RedactOptions = {},
): (text: string) => string {
  const minLength = opts.minLength ?? 4;
  const plain = [...secrets].filter((s): s is string => typeof s === "string" && s.length >= minLength);
  const values = new Set<string>();
  for (const s of plain) {
    values.add(s);
    values.add(encodeURIComponent(s));
    values.add(JSON.stringify(s).slice(1, -1));
  }
  // The Authorization header value, should a client library ever echo it.
  if (plain.length >= 2) values.add(Buffer.from(`${plain[0]}:${plain[1]}`, "utf8").toString("base64"));
  const ordered = [...values].sort((a, b) => b.length - a.length);
  return (text) =>
    ordered
      .reduce((t, v) => t.split(v).join(REDACTED), text)
      .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED);
}

/** One text, scrubbed of `secrets` (see redactor). */
export const redact = (text: string, secrets: Iterable<string | undefined>, opts?: RedactOptions): string =>
  redactor(secrets, opts)(text);
