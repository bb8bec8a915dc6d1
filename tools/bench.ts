// `npm run bench [-- --runs N] [-- --only reference,10x,100x,1000]`: wall time and peak memory of the
// offline plan for the reference homelab and generated homelabs 10x and 100x larger, the network plan
// of a homelab with 1000 segments, and the reachability analysis alone at each size with its evaluation
// count. Each measurement runs in its own process, as `npm run plan` does; each prints a line as it
// finishes. With --runs N every measurement is repeated N times and the table shows the best run and
// the spread (slowest minus fastest): the machine is shared, so one run says little.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { scaleHomelab } from "./bench/generate";
import type { AnalysisStats } from "./bench/reachability";

// tools/run.js runs a bundle from .cache/, so the project root comes from it, not from __dirname.
const ROOT = process.env["HOMELAB_ROOT"] ?? join(__dirname, "..");
const NODE = process.execPath;
const PLAN_TIMEOUT_MS = Number(process.env["BENCH_TIMEOUT_S"] ?? 180) * 1000;
const RUN = join(ROOT, "tools", "run.js");
type Doc = { config: Record<string, unknown> };

/** The sizes benchmarked: k copies of the reference homelab (167 copies of its 6 segments: 1002). */
const SCALES = [
  { name: "reference", k: 1, stacks: ["network", "storage"] },
  { name: "10x", k: 10, stacks: ["network", "storage"] },
  { name: "100x", k: 100, stacks: ["network", "storage"] },
  // The storage plan does not depend on segments; at this size only the network is of interest.
  { name: "1000", k: 167, stacks: ["network"] },
] as const;

/** The issue's targets, checked against the best run. */
const TARGETS = {
  referencePlanS: 1,
  x10NetworkPlanS: 2.5,
  x100NetworkPlanS: 20,
  x100NetworkPeakMiB: 1536,
  x100Evaluations: 250_000,
  analysis1000S: 10,
};

const load = (stack: string): Doc => parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as Doc;

/** Splits homelab:* keys out of a stack document and puts scaled values back. */
function withHomelab(doc: Doc, raw: Record<string, unknown>): Doc {
  const config = { ...doc.config };
  for (const [k, v] of Object.entries(raw)) config[`homelab:${k}`] = v;
  return { config };
}
const homelabOf = (doc: Doc): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(doc.config)
      .filter(([k]) => k.startsWith("homelab:"))
      .map(([k, v]) => [k.slice(8), v]),
  );
// The generator shares unchanged sub-objects between copies; written as YAML anchors, a thousand
// segments' worth exceeds the parser's alias limit (a guard against alias bombs). Write plain copies.
const toYaml = (doc: Doc) => stringify(doc, { aliasDuplicateObjects: false });

interface Measurement {
  wallMs: number;
  cpuMs: number;
  peakMiB: number;
  resources: number;
  evaluations: number;
  ok: boolean;
}

function runPlan(stack: string, config: string, networkConfig: string): Measurement {
  const start = process.hrtime.bigint();
  const r = spawnSync(
    NODE,
    [
      RUN,
      "tools/plan.ts",
      "--stack",
      stack,
      "--config",
      config,
      // The plan refuses --network-config for the network stack (it names the storage stack's input).
      ...(stack === "storage" ? ["--network-config", networkConfig] : []),
      "--json",
    ],
    {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 1 << 30,
      // Report a plan that runs away instead of hanging the bench.
      timeout: PLAN_TIMEOUT_MS,
      killSignal: "SIGKILL",
      env: { ...process.env, HOMELAB_PLAN_STATS: "1" },
    },
  );
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const match = /plan-stats (\{.*\})/.exec(r.stderr ?? "");
  const stats = match ? (JSON.parse(match[1]!) as { maxRssKiB: number; cpuMs: number }) : null;
  const peakMiB = stats ? stats.maxRssKiB / 1024 : NaN;
  const cpuMs = stats?.cpuMs ?? NaN;
  try {
    const json = JSON.parse(r.stdout) as { resources: unknown[]; reachability?: { evaluations?: number } };
    return {
      wallMs,
      cpuMs,
      peakMiB,
      resources: json.resources.length,
      evaluations: json.reachability?.evaluations ?? NaN,
      ok: true,
    };
  } catch {
    if (r.signal === "SIGKILL")
      process.stderr.write(`plan of ${config} timed out after ${PLAN_TIMEOUT_MS / 1000} s\n`);
    else process.stderr.write(`plan of ${config} failed (exit ${r.status}):\n${r.stderr}\n`);
    return { wallMs, cpuMs, peakMiB, resources: NaN, evaluations: NaN, ok: false };
  }
}

function runAnalysis(networkConfig: string, storageConfig: string): AnalysisStats | null {
  const r = spawnSync(NODE, [RUN, "tools/bench/reachability.ts", networkConfig, storageConfig], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 28,
    timeout: PLAN_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  try {
    return JSON.parse(r.stdout) as AnalysisStats;
  } catch {
    process.stderr.write(`reachability analysis of ${networkConfig} failed:\n${r.stderr}\n`);
    return null;
  }
}

interface Row {
  scale: string;
  what: string;
  segments: number;
  services: number;
  flows: number;
  resources: number;
  evaluations: number;
  /** Wall seconds of every run, in the order they ran. */
  runs: number[];
  /** CPU seconds of every run (user + system, all threads). */
  cpu: number[];
  peakMiB: number;
  ok: boolean;
}

const best = (r: Row) => Math.min(...r.runs);
const bestCpu = (r: Row) => Math.min(...r.cpu);
const spread = (r: Row) => Math.max(...r.runs) - Math.min(...r.runs);
const seconds = (s: number) => s.toFixed(2);

function line(r: Row, run: number, of: number): string {
  const runs = of > 1 ? ` (run ${run}/${of})` : "";
  return `${r.scale.padEnd(9)} ${r.what.padEnd(22)} ${String(r.segments).padStart(5)} segments  ${
    Number.isNaN(r.resources) ? "" : `${r.resources} resources  `
  }${seconds(r.runs[r.runs.length - 1]!)} s (cpu ${seconds(r.cpu[r.cpu.length - 1]!)} s)  ${r.peakMiB.toFixed(0)} MiB${
    Number.isNaN(r.evaluations) ? "" : `  ${r.evaluations} evaluations`
  }${runs}${r.ok ? "" : "  FAILED"}`;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: process.env["BENCH_RUNS"] ?? "1" },
      only: { type: "string" },
    },
  });
  const runs = Math.max(1, Number(values.runs));
  const only = values.only ? new Set(values.only.split(",")) : null;
  const dir = mkdtempSync(join(tmpdir(), "homelab-bench-"));
  const netDoc = load("network");
  const stoDoc = load("storage");
  // One untimed plan first: it writes the bundle and Node's compile cache, as any earlier plan would.
  runPlan("network", join(ROOT, "Pulumi.network.yaml"), join(ROOT, "Pulumi.network.yaml"));
  runAnalysis(join(ROOT, "Pulumi.network.yaml"), join(ROOT, "Pulumi.storage.yaml"));
  console.log(`${runs} run${runs > 1 ? "s" : ""} per measurement; one line per run as it finishes`);
  const rows: Row[] = [];
  for (const scale of SCALES) {
    if (only && !only.has(scale.name)) continue;
    const scaled = scaleHomelab(homelabOf(netDoc), homelabOf(stoDoc), scale.k);
    const netPath = join(dir, `Pulumi.network.${scale.name}.yaml`);
    const stoPath = join(dir, `Pulumi.storage.${scale.name}.yaml`);
    writeFileSync(netPath, toYaml(withHomelab(netDoc, scaled.network)));
    writeFileSync(stoPath, toYaml(withHomelab(stoDoc, scaled.storage)));
    const size = {
      segments: (scaled.network["segments"] as unknown[]).length,
      flows: (scaled.network["flows"] as unknown[]).length,
      services: (scaled.storage["stacks"] as { services: unknown[] }[]).reduce(
        (n, s) => n + s.services.length,
        0,
      ),
    };
    const analysis: Row = {
      scale: scale.name,
      what: "reachability analysis",
      ...size,
      resources: NaN,
      evaluations: NaN,
      runs: [],
      cpu: [],
      peakMiB: NaN,
      ok: true,
    };
    // Both nodes' host firewall analyses, measured in the same process.
    const hostAnalysis: Row = { ...analysis, what: "host firewall analysis", runs: [], cpu: [] };
    rows.push(analysis, hostAnalysis);
    for (let i = 1; i <= runs; i++) {
      const a = runAnalysis(netPath, stoPath);
      analysis.ok &&= a !== null;
      analysis.runs.push(a ? a.analyzeMs / 1000 : NaN);
      analysis.cpu.push(a ? a.analyzeCpuMs / 1000 : NaN);
      analysis.evaluations = a?.evaluations ?? NaN;
      analysis.peakMiB = Math.max(
        Number.isNaN(analysis.peakMiB) ? 0 : analysis.peakMiB,
        (a?.maxRssKiB ?? NaN) / 1024,
      );
      console.log(
        line(analysis, i, runs) +
          (a
            ? `  (compile ${seconds(a.compileMs / 1000)} s, render ${seconds(a.renderMs / 1000)} s; markdown ${a.markdownChars} chars, json ${(a.jsonChars / 2 ** 20).toFixed(1)} MiB)`
            : ""),
      );
      hostAnalysis.ok &&= a?.host !== undefined;
      hostAnalysis.runs.push(a?.host ? a.host.analyzeMs / 1000 : NaN);
      hostAnalysis.cpu.push(a?.host ? a.host.analyzeCpuMs / 1000 : NaN);
      hostAnalysis.evaluations = a?.host?.evaluations ?? NaN;
      hostAnalysis.peakMiB = analysis.peakMiB;
      console.log(line(hostAnalysis, i, runs));
    }
    for (const stack of scale.stacks) {
      const row: Row = {
        scale: scale.name,
        what: `${stack} plan`,
        ...size,
        resources: NaN,
        evaluations: NaN,
        runs: [],
        cpu: [],
        peakMiB: NaN,
        ok: true,
      };
      rows.push(row);
      for (let i = 1; i <= runs; i++) {
        const m = runPlan(stack, stack === "network" ? netPath : stoPath, netPath);
        row.ok &&= m.ok;
        row.runs.push(m.ok ? m.wallMs / 1000 : NaN);
        row.cpu.push(m.cpuMs / 1000);
        row.resources = m.resources;
        row.evaluations = m.evaluations;
        row.peakMiB = Math.max(Number.isNaN(row.peakMiB) ? 0 : row.peakMiB, m.peakMiB);
        console.log(line(row, i, runs));
      }
    }
  }
  summary(rows, runs);
}

function summary(rows: Row[], runs: number): void {
  const header = ["scale", "measured", "segments", "services", "flows", "resources", "evaluations", "best s"];
  if (runs > 1) header.push("spread s");
  header.push("best cpu s", "peak MiB");
  const lines = rows.map((r) => {
    const cells = [
      r.scale,
      r.what,
      String(r.segments),
      String(r.services),
      String(r.flows),
      Number.isNaN(r.resources) ? "–" : String(r.resources),
      Number.isNaN(r.evaluations) ? "–" : String(r.evaluations),
      r.ok ? seconds(best(r)) : "failed",
    ];
    if (runs > 1) cells.push(r.ok ? seconds(spread(r)) : "–");
    cells.push(r.ok ? seconds(bestCpu(r)) : "–", Number.isNaN(r.peakMiB) ? "–" : r.peakMiB.toFixed(0));
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log("");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));

  const find = (scale: string, what: string) => rows.find((r) => r.scale === scale && r.what === what);
  const check = (
    label: string,
    row: Row | undefined,
    value: (r: Row) => number,
    limit: number,
    unit: string,
  ) => {
    if (!row) return;
    const v = row.ok ? value(row) : NaN;
    const ok = v <= limit;
    console.log(
      `${ok ? "✓" : "✗"} ${label}: ${Number.isNaN(v) ? "did not finish" : `${v.toFixed(unit === "" ? 0 : 2)}${unit}`} (target ≤ ${limit}${unit})`,
    );
  };
  console.log("");
  check("reference network plan", find("reference", "network plan"), best, TARGETS.referencePlanS, " s");
  check("reference storage plan", find("reference", "storage plan"), best, TARGETS.referencePlanS, " s");
  check("10x network plan", find("10x", "network plan"), best, TARGETS.x10NetworkPlanS, " s");
  check("100x network plan", find("100x", "network plan"), best, TARGETS.x100NetworkPlanS, " s");
  check(
    "100x network plan peak memory",
    find("100x", "network plan"),
    (r) => r.peakMiB,
    TARGETS.x100NetworkPeakMiB,
    " MiB",
  );
  check(
    "100x evaluations",
    find("100x", "reachability analysis"),
    (r) => r.evaluations,
    TARGETS.x100Evaluations,
    "",
  );
  check(
    "1000-segment reachability analysis",
    find("1000", "reachability analysis"),
    best,
    TARGETS.analysis1000S,
    " s",
  );
}

main();
