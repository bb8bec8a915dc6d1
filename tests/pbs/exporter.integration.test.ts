/**
 * The PBS metrics job, run for real (bash, curl, jq from Debian) against the double of
 * proxmox-backup 4.2.3 over TLS with the public-key pin, with the read-only token the provider created;
 * its output is checked by the real `promtool check metrics`, its script by shellcheck.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  headerLine,
  PBS_METRICS as M,
  renderExporterScript,
  renderExporterUnits,
} from "../../analysis/pbs/exporter";
import { JOB_IDS } from "../../analysis/pbs/objects";
import { startPbsDouble, type PbsDouble } from "./double/server";
import { inputsOf, referencePlan, serializedPbsProvider } from "./helpers";

const need = (tool: string) => {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
    throw new Error(
      `${tool} is not installed: .ci/run installs it (apt-get install ${tool === "promtool" ? "prometheus" : tool})`,
    );
};

let d: PbsDouble;
let dir: string;
let script: string;
const plan = referencePlan();
const NOW = Math.floor(Date.now() / 1000);

const pinOf = (pem: string) =>
  `sha256//${createHash("sha256")
    .update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" }))
    .digest("base64")}`;

/** Asynchronous: the double answers from this same process, so a blocking spawn would deadlock. */
const run = (path = script): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const c = spawn("bash", [path]);
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    c.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    c.on("close", (status) => resolve({ status, stdout, stderr }));
  });
const data = () => readFileSync(join(dir, "metrics", "homelab_pbs.prom"), "utf8");
const status = () => readFileSync(join(dir, "metrics", "homelab_pbs_exporter.prom"), "utf8");

beforeAll(async () => {
  for (const t of ["bash", "curl", "jq", "shellcheck", "promtool"]) need(t);
  d = await startPbsDouble({ reachableBuckets: ["homelab-backups"] });
  const provider = await serializedPbsProvider();
  let metricsSecret = "";
  for (const s of plan.objects) {
    const r = await provider.create(inputsOf(d, s));
    if (s.kind === "token" && s.key === plan.metricsTokenId) metricsSecret = String(r.outs["tokenValue"]);
  }
  // What PBS would have after a few nights: snapshots (one failed verification) and job results.
  d.state.snapshots.set("store", [
    {
      "backup-type": "vm",
      "backup-id": "101",
      "backup-time": NOW - 2 * 86400,
      verification: { state: "ok", upid: "x" },
    },
    { "backup-type": "vm", "backup-id": "101", "backup-time": NOW - 86400 },
    {
      "backup-type": "vm",
      "backup-id": "102",
      "backup-time": NOW - 86400,
      verification: { state: "failed", upid: "y" },
    },
  ]);
  d.state.snapshots.set("pbs-offsite", [
    {
      "backup-type": "vm",
      "backup-id": "101",
      "backup-time": NOW - 2 * 86400,
      verification: { state: "ok", upid: "z" },
    },
  ]);
  d.state.jobRuns.set(`verificationjob/${JOB_IDS.verify}`, { state: "OK", endtime: NOW - 3600 });
  d.state.jobRuns.set(`prunejob/${JOB_IDS.prune}`, { state: "WARNINGS: 1", endtime: NOW - 1800 });
  d.state.jobRuns.set(`syncjob/${JOB_IDS.offsiteSync}`, {
    state: "sync failed - connection reset",
    endtime: NOW - 600,
  });
  d.state.gcRuns.set("store", {
    state: "OK",
    endtime: NOW - 900,
    upid: "UPID:pbs:00000001:00000001:00000001:00000001:garbage_collection:store:root@pam:",
  });

  dir = mkdtempSync(join(tmpdir(), "pbs-exporter-"));
  spawnSync("mkdir", ["-p", join(dir, "metrics")]);
  writeFileSync(join(dir, "header"), headerLine(plan.metricsTokenId, metricsSecret), { mode: 0o600 });
  script = join(dir, "pbs-metrics.sh");
  writeFileSync(
    script,
    renderExporterScript({
      url: d.url,
      publicKeyPin: pinOf(d.certificatePem),
      paths: { headerFile: join(dir, "header"), metricsDir: join(dir, "metrics") },
    }),
  );
}, 60_000);

afterAll(async () => {
  await d?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("PBS metrics job (bash + curl + jq against the double of proxmox-backup 4.2.3)", () => {
  it("passes shellcheck, and its systemd units run it every 15 minutes", () => {
    const r = spawnSync("shellcheck", ["-s", "bash", script], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
    const units = renderExporterUnits({ url: "https://10.0.20.11:8007", publicKeyPin: "sha256//x" });
    expect(units.map((u) => u.path)).toEqual([
      "/etc/systemd/system/homelab-pbs-metrics.service",
      "/etc/systemd/system/homelab-pbs-metrics.timer",
      "/usr/local/lib/homelab-pbs/pbs-metrics.sh",
    ]);
    expect(units[1]!.content).toContain("OnCalendar=*:0/15");
  });

  it("writes job and snapshot results that promtool accepts", async () => {
    const r = await run();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = data();
    const check = spawnSync("promtool", ["check", "metrics"], { input: out, encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
    const lines = out.split("\n");
    const has = (l: string) => expect(lines).toContain(l);
    has(`${M.jobRun}{type="verify",id="${JOB_IDS.verify}",store="store"} ${NOW - 3600}`);
    has(`${M.jobOk}{type="verify",id="${JOB_IDS.verify}",store="store"} 1`);
    has(`${M.jobSuccess}{type="verify",id="${JOB_IDS.verify}",store="store"} ${NOW - 3600}`);
    // WARNINGS: n is a success (src/api2/node/tasks.rs), an error text is not.
    has(`${M.jobOk}{type="prune",id="${JOB_IDS.prune}",store="store"} 1`);
    has(`${M.jobOk}{type="sync",id="${JOB_IDS.offsiteSync}",store="pbs-offsite"} 0`);
    expect(out).not.toContain(`${M.jobSuccess}{type="sync"`);
    has(`${M.jobOk}{type="gc",id="store",store="store"} 1`);
    // A job that never ran has a next run but no result.
    expect(out).toMatch(
      new RegExp(`${M.jobNext}\\{type="verify",id="${JOB_IDS.offsiteVerify}",store="pbs-offsite"\\} \\d+`),
    );
    expect(out).not.toContain(`${M.jobOk}{type="verify",id="${JOB_IDS.offsiteVerify}"`);
    has(`${M.snapshotLast}{store="store",backup_type="vm",backup_id="101"} ${NOW - 86400}`);
    has(`${M.snapshotVerified}{store="store",backup_type="vm",backup_id="101"} ${NOW - 2 * 86400}`);
    has(`${M.snapshotsFailed}{store="store",backup_type="vm",backup_id="102"} 1`);
    has(`${M.snapshots}{store="store",backup_type="vm",backup_id="101"} 2`);
    expect(out).not.toContain(`${M.snapshotVerified}{store="store",backup_type="vm",backup_id="102"}`);
    has(`${M.snapshotVerified}{store="pbs-offsite",backup_type="vm",backup_id="101"} ${NOW - 2 * 86400}`);
    expect(status()).toMatch(new RegExp(`^${M.up} 1$`, "m"));
    // Everything it read, it read with the metrics token, and it wrote nothing.
    const mine = d.calls.filter((c) => c.authId === plan.metricsTokenId);
    expect(mine.length).toBeGreaterThan(5);
    expect(mine.every((c) => c.method === "GET" && c.status === 200)).toBe(true);
  });

  it("keeps a job's last success when its latest run failed", async () => {
    d.state.jobRuns.set(`verificationjob/${JOB_IDS.verify}`, {
      state: "verification failed - please check the log for details",
      endtime: NOW - 60,
    });
    expect((await run()).status).toBe(0);
    const out = data();
    expect(out).toContain(`${M.jobOk}{type="verify",id="${JOB_IDS.verify}",store="store"} 0`);
    expect(out).toContain(`${M.jobRun}{type="verify",id="${JOB_IDS.verify}",store="store"} ${NOW - 60}`);
    expect(out).toContain(
      `${M.jobSuccess}{type="verify",id="${JOB_IDS.verify}",store="store"} ${NOW - 3600}`,
    );
  });

  it("refuses another key (pinned), reports up 0 and keeps the last good data", async () => {
    const before = data();
    const calls = d.calls.length;
    const bad = join(dir, "bad-pin.sh");
    writeFileSync(
      bad,
      renderExporterScript({
        url: d.url,
        publicKeyPin: `sha256//${Buffer.alloc(32).toString("base64")}`,
        paths: { headerFile: join(dir, "header"), metricsDir: join(dir, "metrics") },
      }),
    );
    const r = await run(bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("could not read");
    expect(status()).toMatch(new RegExp(`^${M.up} 0$`, "m"));
    expect(data()).toBe(before);
    // The TLS handshake ended before any request: the token was never sent.
    expect(d.calls.length).toBe(calls);
    expect(existsSync(join(dir, "metrics", "homelab_pbs.prom"))).toBe(true);
  });
});
