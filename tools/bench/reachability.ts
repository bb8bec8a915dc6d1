// `npm run bench` runs this in its own process per homelab size: the reachability analysis alone, as the
// plan's default-deny policy and report section share it, without the Pulumi program around it.
// With the storage stack file too, also both nodes' host firewall analyses (analysis/host/), as the
// host-firewall policy runs them.
// Usage: node tools/run.js tools/bench/reachability.ts <Pulumi.network.yaml> [<Pulumi.storage.yaml>]
// Prints one JSON line: phase times in ms, the evaluation counts and the peak RSS.
import { compileFirewall } from "../../analysis/firewall/compile";
import { analyzeReachability } from "../../analysis/reachability/analyze";
import { renderMarkdown, renderText, toJson } from "../../analysis/reachability/render";
import { analyzeBaseline, networkNodeBaseline, storageNodeBaseline } from "../../analysis/host/baseline";
import { readStackFile, resolveNetwork, resolveStorage, stackFileSecrets, toContract } from "../../model";

export interface AnalysisStats {
  segments: number;
  evaluations: number;
  resolveMs: number;
  compileMs: number;
  analyzeMs: number;
  renderMs: number;
  markdownChars: number;
  textChars: number;
  jsonChars: number;
  maxRssKiB: number;
  /** CPU time of the analysis alone (analyzeMs is its wall time). */
  analyzeCpuMs: number;
  /** Both nodes' host firewall analyses (with a storage stack file): decisions, wall and CPU time. */
  host?: { evaluations: number; analyzeMs: number; analyzeCpuMs: number };
}

/** Both nodes' host baselines analysed as the host-firewall policy does (the intents for the gateway). */
function hostAnalyses(network: ReturnType<typeof resolveNetwork>, storagePath: string) {
  const file = readStackFile(storagePath);
  const storage = resolveStorage(file.raw, stackFileSecrets(file), toContract(network));
  const baselines = [networkNodeBaseline(network), storageNodeBaseline(storage)];
  const cpu = process.cpuUsage();
  const t = performance.now();
  const evaluations = baselines.reduce((n, b) => n + analyzeBaseline(b.facts).evaluations, 0);
  const used = process.cpuUsage(cpu);
  return { evaluations, analyzeMs: performance.now() - t, analyzeCpuMs: (used.user + used.system) / 1000 };
}

function main(): void {
  const path = process.argv[2];
  if (!path)
    throw new Error("usage: tools/bench/reachability.ts <Pulumi.network.yaml> [<Pulumi.storage.yaml>]");
  const storagePath = process.argv[3];
  const file = readStackFile(path);
  const clock = () => performance.now();
  let t = clock();
  const model = resolveNetwork(file.raw, stackFileSecrets(file));
  const resolveMs = clock() - t;
  t = clock();
  const firewall = compileFirewall(model);
  const compileMs = clock() - t;
  t = clock();
  const cpu = process.cpuUsage();
  const report = analyzeReachability(model, firewall);
  const analyzeMs = clock() - t;
  const used = process.cpuUsage(cpu);
  t = clock();
  const markdown = renderMarkdown(report);
  const text = renderText(report);
  const json = JSON.stringify(toJson(report), null, 2);
  const renderMs = clock() - t;
  const host = storagePath ? hostAnalyses(model, storagePath) : undefined;
  const stats: AnalysisStats = {
    segments: model.segments.length,
    evaluations: report.evaluations,
    resolveMs,
    compileMs,
    analyzeMs,
    renderMs,
    markdownChars: markdown.length,
    textChars: text.length,
    jsonChars: json.length,
    maxRssKiB: process.resourceUsage().maxRSS,
    analyzeCpuMs: (used.user + used.system) / 1000,
    ...(host ? { host } : {}),
  };
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

main();
