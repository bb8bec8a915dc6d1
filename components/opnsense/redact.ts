/**
 * Scrubs credentials from text before it leaves the provider (errors become Pulumi diagnostics, log lines
 * go to the engine's logs). Covers the raw values, their URL encoding and the basic-auth token.
 */
export const REDACTED = "[secret]";

export function redactor(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const values = new Set<string>();
  const plain = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  for (const s of plain) {
    values.add(s);
    values.add(encodeURIComponent(s));
  }
  // The Authorization header value, should a client library ever echo it.
  if (plain.length >= 2) values.add(Buffer.from(`${plain[0]}:${plain[1]}`, "utf8").toString("base64"));
  // Longest first so a secret containing another is replaced whole.
  const ordered = [...values].sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((t, v) => t.split(v).join(REDACTED), text);
}
