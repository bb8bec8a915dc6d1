// Prints the policy table of docs/policies.md from the pack itself, so the documentation cannot drift from the
// rules (tests/policies/readme.test.ts compares the two). `npm run policy-table`.
import { policies } from "../policies/registry";
import { SECRETS_POLICY } from "../policies/rules/secrets";
import { markdownCell } from "../analysis/text/markdown";

// Escaped so markdown (and prettier) never reads `"*"` or `s3:*` as emphasis.
/** A table cell that also keeps a `*` in a description from starting emphasis. */
const cell = (s: string): string => markdownCell(s).replace(/\*/g, "\\*");

export function policyTable(): string {
  const rows = policies.map((p) => {
    const props = Object.keys((p.configSchema?.properties ?? {}) as Record<string, unknown>);
    const configure = [`enforcement level`, ...props.map((k) => `\`${k}\``)].join(", ");
    const where = p.stacks ? p.stacks.join(", ") : "both";
    return `| \`${p.name}\` | ${p.enforcementLevel ?? "mandatory"} | ${p.severity ?? ""} | ${where} | ${cell(p.description)} | ${cell(p.remediationSteps)} | ${configure} |`;
  });
  rows.push(
    `| \`${SECRETS_POLICY}\` | mandatory | critical | both | The schema decides what is secret, never a key's name: a field typed as a secret reference holds \`{ secret: <key> }\`, every key used as a secret reference is \`secure:\` in \`Pulumi.<stack>.yaml\`, no private key or token is in plain text anywhere, and every secret reaches resources as a Pulumi secret (checked through the mocks; CrossGuard cannot see secrecy). A secret-looking name in plain text is reported on top where the schema allows text (env values). Runs in \`npm run plan\` and CI. | \`pulumi config set --secret <key>\`; reference it as \`{ secret: <key> }\`; build inputs from secret Outputs. | not configurable |`,
  );
  return [
    "| id | default | severity | stacks | why | how to fix | configure |",
    "|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

if (require.main === module) process.stdout.write(policyTable() + "\n");
