// node tools/run.js tests/shellcheck/rendered.ts --stack <network|storage>
// Prints (JSON: name -> text) every shell script the program renders for the reference stack: each
// resource input that is a script (starts with "#!"), and each script inside a root-helper install bundle
// (`<mode> <path> <base64>` lines): a file starting with "#!", or a `.sh` file without one (the root
// helper runs setup scripts with `sh`). Secrets are markers, as in the plan. One stack per process: Pulumi's
// runtime is process-global. Used by tests/shellcheck/shellcheck.integration.test.ts.
import { parseArgs } from "node:util";
import { assertStackName, readStackFile } from "../../model";
import { resolveModel } from "../../tools/plan/build";
import { evaluateProgram } from "../../tools/plan/evaluate";

const BUNDLE_LINE = /^(0[0-7]{3}) (\/\S+) ([A-Za-z0-9+/=]+)$/;

/** The scripts in one input value, named by resource and input path. */
function scriptsIn(value: unknown, name: string, out: Record<string, string>): void {
  if (typeof value === "string") {
    if (value.startsWith("#!")) out[name] = value;
    const lines = value.split("\n").filter((l) => l !== "");
    if (lines.length > 0 && lines.every((l) => BUNDLE_LINE.test(l)))
      for (const line of lines) {
        const [, , path, b64] = BUNDLE_LINE.exec(line)!;
        const text = Buffer.from(b64!, "base64").toString("utf8");
        if (text.startsWith("#!") || path!.endsWith(".sh")) out[`${name} ${path}`] = text;
      }
  } else if (Array.isArray(value)) value.forEach((v, i) => scriptsIn(v, `${name}[${i}]`, out));
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) scriptsIn(v, `${name}.${k}`, out);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { stack: { type: "string" } } });
  const stack = assertStackName(values.stack ?? "");
  const file = readStackFile(`Pulumi.${stack}.yaml`);
  const networkFile = stack === "storage" ? readStackFile("Pulumi.network.yaml") : undefined;
  const model = resolveModel({ stack, file, ...(networkFile ? { networkFile } : {}) });
  const evaluation = await evaluateProgram({
    stack,
    file,
    ...(model.stack === "storage" ? { networkContract: model.network } : {}),
    treatAsSecret: model.secrets.map((s) => s.key),
    secretValue: (key) => `shellcheck-secret-${key}`,
  });
  const out: Record<string, string> = {};
  for (const r of evaluation.resources)
    scriptsIn(evaluation.policyInputs.get(r.urn) ?? {}, `${r.type}::${r.name}`, out);
  process.stdout.write(JSON.stringify(out));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
