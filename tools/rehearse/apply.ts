// node tools/run.js tools/rehearse/apply.ts --graph <graph.json> --state <state.json> --op up|destroy|refresh
// Runs one engine operation of the deploy rehearsal (tools/rehearse/engine.ts) and prints its report as
// JSON: { ok, ops, unverified }. Started inside the rehearsal's admin namespace, so every SSH session
// goes to the rehearsal hosts and nowhere else.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Engine, unverifiedSessions, type RecordedGraph } from "./engine";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { graph: { type: "string" }, state: { type: "string" }, op: { type: "string" } },
  });
  const engine = Engine.load(values.state!);
  let ok: boolean;
  if (values.op === "up") {
    const graph = JSON.parse(readFileSync(values.graph!, "utf8")) as RecordedGraph;
    ok = await engine.up(graph);
  } else if (values.op === "destroy") ok = await engine.destroy();
  else if (values.op === "refresh") ok = await engine.refresh();
  else throw new Error(`unknown --op ${values.op}`);
  const report = JSON.stringify({ ok, ops: engine.ops, unverified: unverifiedSessions });
  await new Promise<void>((resolve) => process.stdout.write(report, () => resolve()));
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`rehearsal apply failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(3);
  },
);
