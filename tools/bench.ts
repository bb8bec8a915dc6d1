// `npm run bench`: wall time and peak memory of the offline plan for the reference homelab and for
// generated homelabs 10x and 100x larger. Each plan runs in its own process, as `npm run plan` does.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { scaleHomelab } from "./bench/generate";

// tools/run.js runs a bundle from .cache/, so the project root comes from it, not from __dirname.
const ROOT = process.env["HOMELAB_ROOT"] ?? join(__dirname, "..");
const NODE = process.execPath;
const PLAN_TIMEOUT_MS = Number(process.env["BENCH_TIMEOUT_S"] ?? 180) * 1000;
const RUN = join(ROOT, "tools", "run.js");
type Doc = { config: Record<string, unknown> };

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

interface Row {
  scale: string;
  stack: string;
  resources: number;
  segments: number;
  services: number;
  flows: number;
  wallMs: number;
  peakMiB: number;
  exit: number | null;
}

function runPlan(
  stack: string,
  config: string,
  networkConfig: string,
): { wallMs: number; peakMiB: number; resources: number; exit: number | null } {
  const start = process.hrtime.bigint();
  const r = spawnSync(
    NODE,
    [RUN, "tools/plan.ts", "--stack", stack, "--config", config, "--network-config", networkConfig, "--json"],
    {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 1 << 30,
      // The network plan's all-pairs reachability grows with segments squared: report, don't hang.
      timeout: PLAN_TIMEOUT_MS,
      killSignal: "SIGKILL",
      env: { ...process.env, HOMELAB_PLAN_STATS: "1" },
    },
  );
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const stats = /plan-stats (\{.*\})/.exec(r.stderr ?? "");
  const peakMiB = stats ? JSON.parse(stats[1]!).maxRssKiB / 1024 : NaN;
  let resources = NaN;
  try {
    resources = (JSON.parse(r.stdout) as { resources: unknown[] }).resources.length;
  } catch {
    if (r.signal === "SIGKILL")
      process.stderr.write(`plan of ${config} timed out after ${PLAN_TIMEOUT_MS / 1000} s\n`);
    else process.stderr.write(`plan of ${config} failed (exit ${r.status}):\n${r.stderr}\n`);
  }
  return { wallMs, peakMiB, resources, exit: r.status };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), "homelab-bench-"));
  const netDoc = load("network");
  const stoDoc = load("storage");
  // One untimed plan first: it writes the bundle and Node's compile cache, as any earlier plan would.
  runPlan("network", join(ROOT, "Pulumi.network.yaml"), join(ROOT, "Pulumi.network.yaml"));
  const rows: Row[] = [];
  for (const k of [1, 10, 100]) {
    const scaled = scaleHomelab(homelabOf(netDoc), homelabOf(stoDoc), k);
    const netPath = join(dir, `Pulumi.network.x${k}.yaml`);
    const stoPath = join(dir, `Pulumi.storage.x${k}.yaml`);
    writeFileSync(netPath, stringify(withHomelab(netDoc, scaled.network)));
    writeFileSync(stoPath, stringify(withHomelab(stoDoc, scaled.storage)));
    const segments = (scaled.network["segments"] as unknown[]).length;
    const flows = (scaled.network["flows"] as unknown[]).length;
    const services = (scaled.storage["stacks"] as { services: unknown[] }[]).reduce(
      (n, s) => n + s.services.length,
      0,
    );
    for (const stack of ["network", "storage"]) {
      const r = runPlan(stack, stack === "network" ? netPath : stoPath, netPath);
      rows.push({ scale: k === 1 ? "reference" : `${k}x`, stack, segments, services, flows, ...r });
    }
  }
  const header = [
    "scale",
    "stack",
    "segments",
    "services",
    "flows",
    "resources",
    "wall s",
    "peak MiB",
    "ms/resource",
    "exit",
  ];
  const lines = rows.map((r) =>
    [
      r.scale,
      r.stack,
      r.segments,
      r.services,
      r.flows,
      r.resources,
      (r.wallMs / 1000).toFixed(2),
      r.peakMiB.toFixed(0),
      (r.wallMs / r.resources).toFixed(1),
      r.exit,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  for (const stack of ["network", "storage"]) {
    const [ref, x10, x100] = rows.filter((r) => r.stack === stack);
    if (!ref || !x10 || !x100) continue;
    // Module loading is a fixed start-up cost: growth is the time above the reference plan.
    if (Number.isNaN(x100.resources)) {
      console.log(
        `${stack}: reference ${(ref.wallMs / 1000).toFixed(2)} s (target < 2 s); the 100x plan did not finish (see above)`,
      );
      continue;
    }
    const growth = (x100.wallMs - ref.wallMs) / Math.max(1, x10.wallMs - ref.wallMs);
    console.log(
      `${stack}: reference ${(ref.wallMs / 1000).toFixed(2)} s (target < 2 s); time above start-up grows ${growth.toFixed(1)}x from 10x to 100x input (linear = 10x); ${(x100.wallMs / x100.resources).toFixed(1)} ms per resource at 100x`,
    );
  }
}

main();
