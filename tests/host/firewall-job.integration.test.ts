/**
 * The host-firewall job's script (analysis/host/firewall-job.ts) run for real: the real `nft` and
 * `unshare` in a network namespace this test creates, with stand-ins for systemd-run and systemctl
 * (named as such: they record their arguments; the rollback timer is fired by the test).
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firewallScript, renderFirewallJob } from "../../analysis/host/firewall-job";
import { networkNodeBaseline } from "../../analysis/host/baseline";
import { resolveNetwork } from "../../model";
import { allSecretsSet, networkFile } from "../fixtures/reference";
import { must, run } from "../support/proc";

const NS = `hfj${process.pid % 10000}`;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const baseline = networkNodeBaseline(resolveNetwork(networkFile().raw, allSecretsSet));

let dir: string;
const paths = () => ({
  etc: join(dir, "etc"),
  state: join(dir, "state"),
  stubs: join(dir, "stubs"),
  log: join(dir, "systemd.log"),
  script: join(dir, "firewall.sh"),
});

/** Runs one step of the script as its unit would, inside the test's network namespace. */
const step = (...args: string[]) => {
  const p = paths();
  return run("ip", ["netns", "exec", NS, "sh", p.script, ...args], {
    env: {
      HOMELAB_FIREWALL_STUBS: p.stubs,
      HOMELAB_FIREWALL_ETC: p.etc,
      HOMELAB_FIREWALL_STATE: p.state,
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    },
  });
};
const install = (nft: string) => writeFileSync(join(paths().etc, "candidate.nft"), nft);
const tables = () => must("ip", ["netns", "exec", NS, "nft", "list", "tables"]).trim();
const loaded = () => run("ip", ["netns", "exec", NS, "nft", "list", "table", "inet", "homelab_host"]).stdout;
const systemdCalls = () => (existsSync(paths().log) ? readFileSync(paths().log, "utf8") : "");

/** A second, different ruleset: the reference one with an extra comment. */
const second = baseline.nft.replace("chain admitted {", 'chain admitted {\n\t\tcomment "second ruleset"');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hostfw-job-"));
  const p = paths();
  for (const d of [p.etc, p.state, p.stubs]) mkdirSync(d);
  writeFileSync(p.script, firewallScript());
  // STAND-INS for systemd-run and systemctl: record the call, succeed.
  for (const tool of ["systemd-run", "systemctl"]) {
    writeFileSync(join(p.stubs, tool), `#!/bin/sh\necho "${tool} $*" >>${p.log}\n`);
    chmodSync(join(p.stubs, tool), 0o755);
  }
  must("ip", ["netns", "add", NS]);
});
afterEach(() => {
  run("ip", ["netns", "del", NS]);
  rmSync(dir, { recursive: true, force: true });
});

describe("host-firewall job script (real nft in a network namespace; systemd-run/systemctl stand-ins)", () => {
  test("the job's files: the script, the candidate, and units naming the ruleset's digest", () => {
    const job = renderFirewallJob(baseline.nft, baseline.sha256, 120);
    const byPath = new Map(job.files.map((f) => [f.path, f]));
    expect(byPath.get("/etc/homelab-firewall/candidate.nft")!.content).toBe(baseline.nft);
    expect(byPath.get("/usr/local/lib/homelab-firewall/firewall.sh")!.mode).toBe("0700");
    expect(byPath.get("/etc/systemd/system/homelab-firewall-trial.service")!.content).toContain(
      `firewall.sh trial 120 ${baseline.sha256}`,
    );
    expect(byPath.get("/etc/systemd/system/homelab-firewall-confirm.service")!.content).toContain(
      `firewall.sh confirm ${baseline.sha256}`,
    );
    expect(baseline.sha256).toBe(sha(baseline.nft));
    const sc = run("shellcheck", ["-s", "sh", "-"], { input: firewallScript() });
    expect([sc.code, sc.stdout]).toEqual([0, ""]);
  });

  test("trial arms the rollback before loading, confirm keeps the ruleset and enables the boot unit", () => {
    install(baseline.nft);
    const t = step("trial", "120", baseline.sha256);
    expect([t.code, t.stderr]).toEqual([0, ""]);
    expect(t.stdout).toContain("on trial: confirm within 120s");
    expect(tables()).toBe("table inet homelab_host");
    expect(systemdCalls()).toContain(
      "systemd-run --quiet --unit=homelab-firewall-rollback --on-active=120s --timer-property=AccuracySec=1s /usr/local/lib/homelab-firewall/firewall.sh rollback",
    );
    const c = step("confirm", baseline.sha256);
    expect([c.code, c.stdout.trim()]).toEqual([0, "confirmed"]);
    expect(readFileSync(join(paths().state, "confirmed.nft"), "utf8")).toBe(baseline.nft);
    expect(existsSync(join(paths().state, "trial.nft"))).toBe(false);
    expect(systemdCalls()).toContain("systemctl enable homelab-firewall.service");
    // The same ruleset again: nothing to try, the confirm says so.
    expect(step("trial", "120", baseline.sha256).stdout.trim()).toBe("unchanged");
    expect(step("confirm", baseline.sha256).stdout.trim()).toBe("unchanged");
  });

  test("a ruleset nobody confirms is rolled back to the last confirmed one (the lockout guard)", () => {
    install(baseline.nft);
    step("trial", "120", baseline.sha256);
    step("confirm", baseline.sha256);
    install(second);
    expect(step("trial", "60", sha(second)).code).toBe(0);
    expect(loaded()).toContain("second ruleset");
    // The timer fires (the confirming session never came): the node goes back by itself.
    const r = step("rollback");
    expect(r.stdout).toContain("rolled back to");
    expect(loaded()).not.toContain("second ruleset");
    expect(loaded()).toContain('comment "management"');
    // A late confirm keeps nothing and says why.
    const late = step("confirm", sha(second));
    expect(late.code).toBe(2);
    expect(late.stderr).toContain("it was rolled back");
  });

  test("rollback with nothing confirmed removes the table: the node is as before the first deploy", () => {
    install(baseline.nft);
    step("trial", "120", baseline.sha256);
    expect(tables()).toBe("table inet homelab_host");
    step("rollback");
    expect(tables()).toBe("");
  });

  test.each([
    ["flush ruleset", "flush ruleset\n", /include or touch the whole ruleset/],
    ["an include", 'include "/etc/shadow"\n', /include or touch the whole ruleset/],
    ["another table", "table ip filter {\n}\n", /must define table inet homelab_host and nothing else/],
    [
      "a syntax error",
      "table inet homelab_host {\n\tchain input { nonsense }\n}\n",
      /nft refused the rule set/,
    ],
  ])("trial refuses %s before anything is loaded or armed", (_what, extra, message) => {
    const nft = `${baseline.nft}${extra}`;
    install(nft);
    const r = step("trial", "120", sha(nft));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(tables()).toBe("");
    expect(systemdCalls()).toBe("");
  });

  test("trial refuses a candidate that is not the ruleset the deploy named, and out-of-range trial lengths", () => {
    install(second);
    const r = step("trial", "120", baseline.sha256);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining("is not " + baseline.sha256)]);
    install(baseline.nft);
    expect(step("trial", "5", baseline.sha256).stderr).toContain("seconds must be 30-900");
    expect(tables()).toBe("");
  });
});
