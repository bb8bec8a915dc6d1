import type { z } from "zod";
import { formatPath, NAMESPACE, type StackFile, type StackName } from "../../model";
import { networkConfig } from "../../model/network";
import { collectSecretRefs, secretFields, valuesAt } from "../../model/secrets";
import { storageConfig } from "../../model/storage";
import type { Violation } from "../run";

export const SECRETS_POLICY = "encrypted-secrets";

/**
 * Names that usually hold credentials. Only a hint where the schema allows plain text (env values) or
 * does not know the key, and for resource inputs: whether a config value must be secret is decided by
 * the schema (a field typed as a secret reference), never by this.
 */
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

/** Where a value sits: its parent's path and its own step (`.key` or `[i]`); spelled out only on demand. */
interface PathStep {
  parent: PathStep | null;
  step: string;
}
const spell = (p: PathStep | null): string => (p === null ? "" : spell(p.parent) + p.step);

/**
 * Visits every value; a `{ secret: key }` reference is the safe form and is not descended into. The path
 * is a function: plans of thousands of resources visit millions of values and report a handful.
 */
function walk(
  value: unknown,
  visit: (path: () => string, key: string, v: unknown) => void,
  at: PathStep | null,
  key = "",
): void {
  visit(() => spell(at), key, value);
  if (isSecretRef(value)) return;
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, visit, { parent: at, step: `[${i}]` }, key));
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) walk(v, visit, { parent: at, step: `.${k}` }, k);
}

const violation = (message: string): Violation => ({
  policy: SECRETS_POLICY,
  level: "mandatory",
  resource: null,
  message,
});

/** The stack's schema, from `Pulumi.<stack>.yaml`; a file named otherwise is checked against both. */
function schemasFor(file: StackFile, stack?: StackName): z.ZodType[] {
  const named = stack ?? /Pulumi\.([a-z]+)\.yaml$/.exec(file.path)?.[1];
  if (named === "network") return [networkConfig];
  if (named === "storage") return [storageConfig];
  return [networkConfig, storageConfig];
}

/**
 * Lint of a Pulumi.<stack>.yaml. What must be secret is decided by the schema, never by a name:
 *  - a field typed as a secret reference (found by walking the zod schema) holds `{ secret: <key> }`;
 *  - every key used as a secret reference, anywhere, is `secure:`;
 *  - no credential-shaped value (PEM private key, AWS key id, tokens) appears in plain text anywhere.
 * One hint on top, which can only add findings: where the schema allows text or a reference (env
 * values) and for keys the schema does not know, a secret-looking name holding plain text is reported.
 */
export function lintStackFile(file: StackFile, stack?: StackName): Violation[] {
  const out: Violation[] = [];
  const name = file.path.split("/").pop();
  const schemas = schemasFor(file, stack);
  const fields = schemas.flatMap((s) => secretFields(s));
  const prefix = `${NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const key of file.plainKeys) if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = file.all[key];

  // Every `{ secret: key }` in the file, wherever it stands.
  const uses = new Map<string, string[]>();
  for (const u of collectSecretRefs(raw)) uses.set(u.key, [...(uses.get(u.key) ?? []), u.usedAt]);

  // Keys the schema does not know and nothing references: the name hint (a stray credential).
  const known = new Set(schemas.flatMap((s) => Object.keys((s as z.ZodObject).shape ?? {})));
  for (const key of Object.keys(raw))
    if (
      !known.has(key) &&
      !uses.has(key) &&
      typeof raw[key] === "string" &&
      raw[key] !== "" &&
      looksSecretName(key)
    )
      out.push(
        violation(
          `${name}: ${prefix}${key} looks like a secret but is plain text; run \`pulumi config set --secret ${key} <value>\``,
        ),
      );

  // Typed as a secret: only a reference may stand there.
  const seen = new Set<string>();
  for (const f of fields)
    for (const { path, value } of valuesAt(raw, f.segments)) {
      const at = formatPath(path);
      if (seen.has(at) || isSecretRef(value)) continue;
      seen.add(at);
      if (!f.plainAllowed)
        out.push(
          violation(
            `${name}: ${at} is typed as a secret but holds a value in plain text; write { secret: <configKey> } and set that key with \`pulumi config set --secret <configKey> <value>\``,
          ),
        );
      else if (typeof value === "string" && value !== "" && looksSecretName(String(path[path.length - 1])))
        out.push(
          violation(
            `${name}: ${at} looks like a secret but is plain text; replace it with { secret: <configKey> } and set that key with \`pulumi config set --secret\``,
          ),
        );
    }

  // Used as a secret: the key it names is encrypted, whatever it is called.
  for (const [key, usedAt] of uses)
    if (file.plainKeys.has(`${prefix}${key}`))
      out.push(
        violation(
          `${name}: ${prefix}${key} is used as a secret (at ${usedAt.join(", ")}) but is stored in plain text; run \`pulumi config set --secret ${key} <value>\``,
        ),
      );

  // Credential shapes, under any key and any namespace.
  for (const key of file.plainKeys)
    walk(
      file.all[key],
      (path, _name, v) => {
        if (typeof v === "string")
          for (const [re, what] of SECRET_VALUES)
            if (re.test(v))
              out.push(
                violation(
                  `${name}: ${path()} contains ${what} in plain text; store it with \`pulumi config set --secret\``,
                ),
              );
      },
      { parent: null, step: key },
    );
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
    walk(
      r.inputs,
      (path, name, v) => {
        if (typeof v !== "string") return;
        const p = () => path().replace(/^\./, "");
        if (v !== "[secret]" && v !== "" && looksSecretName(name) && !/^\$\{|^\{\{/.test(v))
          out.push({
            policy: SECRETS_POLICY,
            level: "mandatory",
            resource: r.urn,
            message: `input ${p()} looks like a secret but is not a Pulumi secret; wrap it with pulumi.secret() or read it with config.requireSecret()`,
          });
        for (const [key, marker] of markers)
          if (v.includes(marker))
            out.push({
              policy: SECRETS_POLICY,
              level: "mandatory",
              resource: r.urn,
              message: `the value of secret ${key} appears in plain text in input ${p()}; build this input with pulumi.secret()/pulumi.interpolate from the secret Output`,
            });
      },
      null,
    );
  }
  return out;
}
