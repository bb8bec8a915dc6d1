import type { StackFile } from "../../model";
import type { Violation } from "../run";

export const SECRETS_POLICY = "encrypted-secrets";

/** Names that hold credentials. "publicKey" and "keep" are not secrets; "apiKey", "DB_PASSWORD" are. */
const SECRET_NAME =
  /(password|passwd|passphrase|secret|token|credential|private_?key|api_?key|access_?key|(^|_)pass($|_)|[_-]key$)/i;
// A bare "key" is an identity (OPNsense adoption key, map keys), not a credential.
const NOT_SECRET_NAME = /(public|fingerprint|^keep$|_file$|_FILE$|header)/i;
export const looksSecretName = (name: string): boolean =>
  SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name);

/** Credential shapes that must never appear in plain text, whatever key holds them. */
const SECRET_VALUES: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
  [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
  [/\bPVEAPIToken=[^=\s]+=[0-9a-f-]{36}\b/, "a Proxmox API token"],
  [/\bpul-[0-9a-f]{40}\b/, "a Pulumi access token"],
];

const isSecretRef = (v: unknown): boolean =>
  typeof v === "object" &&
  v !== null &&
  Object.keys(v).length === 1 &&
  typeof (v as { secret?: unknown }).secret === "string";

/** Visits every value; a `{ secret: key }` reference is the safe form and is not descended into. */
function walk(
  value: unknown,
  path: string,
  visit: (path: string, key: string, v: unknown) => void,
  key = "",
): void {
  visit(path, key, value);
  if (isSecretRef(value)) return;
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit, key));
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, visit, k);
}

/**
 * Lint of a Pulumi.<stack>.yaml: secret-looking keys must be `secure:` (top level) or `{ secret: key }`
 * references (nested), and no credential-shaped value may appear anywhere in plain text.
 */
export function lintStackFile(file: StackFile): Violation[] {
  const out: Violation[] = [];
  const file_ = file.path.split("/").pop();
  for (const key of file.plainKeys) {
    const short = key.split(":").pop()!;
    walk(file.all[key], key, (path, name, v) => {
      const leaf = path === key ? short : name;
      if (typeof v === "string" && v !== "" && looksSecretName(leaf))
        out.push({
          policy: SECRETS_POLICY,
          level: "mandatory",
          resource: null,
          message: `${file_}: ${path} looks like a secret but is plain text; ${path === key ? `run \`pulumi config set --secret ${short} <value>\`` : `replace it with { secret: <configKey> } and set that key with \`pulumi config set --secret\``}`,
        });
      if (typeof v === "string")
        for (const [re, what] of SECRET_VALUES)
          if (re.test(v))
            out.push({
              policy: SECRETS_POLICY,
              level: "mandatory",
              resource: null,
              message: `${file_}: ${path} contains ${what} in plain text; store it with \`pulumi config set --secret\``,
            });
    });
  }
  return out;
}

/** What the plan knows about one resource's inputs: redacted values and which paths were secret. */
export interface RecordedInputs {
  urn: string;
  inputs: Record<string, unknown>;
  secretPaths: string[];
}

/**
 * Program check through the mocks (policies cannot see secrecy): every secret-looking input must arrive
 * as a Pulumi secret, and no config secret's value may appear inside a plain input (for example
 * interpolated into a rendered file). The plan feeds each secret a unique marker value to detect that.
 */
export function checkResourceSecrets(resources: RecordedInputs[], markers: Map<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const r of resources) {
    walk(r.inputs, "", (path, name, v) => {
      if (typeof v !== "string") return;
      const p = path.replace(/^\./, "");
      if (v !== "[secret]" && v !== "" && looksSecretName(name) && !/^\$\{|^\{\{/.test(v))
        out.push({
          policy: SECRETS_POLICY,
          level: "mandatory",
          resource: r.urn,
          message: `input ${p} looks like a secret but is not a Pulumi secret; wrap it with pulumi.secret() or read it with config.requireSecret()`,
        });
      for (const [key, marker] of markers)
        if (v.includes(marker))
          out.push({
            policy: SECRETS_POLICY,
            level: "mandatory",
            resource: r.urn,
            message: `the value of secret ${key} appears in plain text in input ${p}; build this input with pulumi.secret()/pulumi.interpolate from the secret Output`,
          });
    });
  }
  return out;
}
