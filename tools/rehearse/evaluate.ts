// node tools/run.js tools/rehearse/evaluate.ts --stack <network|storage> --config <file>
//   [--network-config <file>] --secrets <file.json> --out <graph.json> [--rewrites <file.json>]
// The deploy rehearsal's first step: evaluates the real program offline (as `npm run plan` does) with
// the test-only stack file and its secrets, dynamic providers serialized as the engine serializes
// them, and writes the recorded graph with real input values (secrets included, so mode 0600) for
// tools/rehearse/engine.ts to apply. One stack per process: Pulumi's runtime is process-global.
// --rewrites: TEST-ONLY edits of the files a compose project delivers ([{file: path suffix, from: regex,
// to: replacement}]), e.g. shorter Prometheus intervals for the alert proof; each must match, so a
// renderer that changes its output fails the rehearsal instead of silently skipping the edit.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { assertStackName, readStackFile, resolveNetwork, resolveStorage, toContract } from "../../model";
import { evaluateProgram } from "../plan/evaluate";
import type { RecordedGraph } from "./engine";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      config: { type: "string" },
      "network-config": { type: "string" },
      secrets: { type: "string" },
      out: { type: "string" },
      rewrites: { type: "string" },
    },
  });
  const rewrites = values.rewrites
    ? (JSON.parse(readFileSync(values.rewrites, "utf8")) as { file: string; from: string; to: string }[])
    : [];
  const stack = assertStackName(values.stack ?? "");
  const file = readStackFile(values.config!);
  const secrets = JSON.parse(readFileSync(values.secrets!, "utf8")) as Record<string, string>;
  const source = { has: (k: string) => k in secrets, isSecret: () => true };
  const network =
    stack === "storage"
      ? toContract(resolveNetwork(readStackFile(values["network-config"]!).raw, source))
      : undefined;
  const model =
    stack === "network" ? resolveNetwork(file.raw, source) : resolveStorage(file.raw, source, network!);
  const evaluation = await evaluateProgram({
    stack,
    file,
    ...(network ? { networkContract: network } : {}),
    treatAsSecret: model.secrets.map((s) => s.key),
    secretValue: (key) => {
      const v = secrets[key];
      if (v === undefined) throw new Error(`the rehearsal's secrets file has no value for ${key}`);
      return v;
    },
    serializeDynamicProviders: true,
    // Resources the rehearsal does not run (AWS, Proxmox, PBS) answer with their inputs, as in the plan; the
    // vault's writer key needs a value for the Borg credentials file (never used: no S3 here).
    mocks: (plan) => ({
      ...plan,
      async newResource(args) {
        const r = await plan.newResource(args);
        if (args.type === "aws:iam/accessKey:AccessKey")
          return { id: "AKIAREHEARSAL", state: { ...r.state, secret: "rehearsal-not-an-aws-key" } };
        // No PBS here either: its objects answer what the real provider computes (a token's secret, the
        // proxy certificate's pin), so the jobs that use them on the storage node can be installed.
        const pbs = args.inputs as { kind?: string; authId?: string };
        const kind = pbs.authId !== undefined ? pbs.kind : undefined;
        if (kind === "token") return { id: r.id, state: { ...r.state, tokenValue: "rehearsal-pbs-token" } };
        if (kind === "certificate")
          return {
            id: r.id,
            state: {
              ...r.state,
              certificate: {
                fingerprint: String((args.inputs as { fingerprint?: string }).fingerprint ?? ""),
                publicKeyPin: "sha256//cmVoZWFyc2FsLXBicy1jZXJ0aWZpY2F0ZS1waW4=",
                notAfter: 4102444800,
              },
            },
          };
        return r;
      },
    }),
  });
  const used = new Set<number>();
  const graph: RecordedGraph = {
    stack,
    resources: evaluation.resources.map((r) => {
      const engine = evaluation.engine.get(r.urn);
      return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        parent: r.parent,
        custom: r.custom,
        dependencies: r.dependencies,
        inputs: rewrite(r.type, evaluation.policyInputs.get(r.urn) ?? {}, rewrites, used),
        retainOnDelete: engine?.retainOnDelete ?? false,
        ...(engine?.provider !== undefined ? { provider: engine.provider } : {}),
      };
    }),
  };
  const unused = rewrites.filter((_, i) => !used.has(i));
  if (stack === "storage" && unused.length > 0)
    throw new Error(`test-only rewrites that matched no rendered file: ${JSON.stringify(unused)}`);
  writeFileSync(values.out!, JSON.stringify(graph), { mode: 0o600 });
}

/** Applies the rewrites to the `files` input of a compose project (a copy); records which matched. */
function rewrite(
  type: string,
  inputs: Record<string, unknown>,
  rewrites: { file: string; from: string; to: string }[],
  used: Set<number>,
): Record<string, unknown> {
  const files = inputs["files"] as Record<string, string> | undefined;
  if (!type.includes("dynamic/compose") || !files || rewrites.length === 0) return inputs;
  const out: Record<string, string> = { ...files };
  for (const [path, content] of Object.entries(files))
    rewrites.forEach((w, i) => {
      if (!path.endsWith(w.file)) return;
      const re = new RegExp(w.from, "g");
      if (!re.test(content)) return;
      used.add(i);
      out[path] = out[path]!.replace(new RegExp(w.from, "g"), w.to);
    });
  return { ...inputs, files: out };
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`rehearsal evaluate failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(2);
  },
);
