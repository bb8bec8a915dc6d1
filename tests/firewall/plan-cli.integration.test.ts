import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../fixtures/reference";

/** The index a flow appended to the reference stack gets: its flow count. */
const NEXT = (
  parse(readFileSync(join(ROOT, "Pulumi.network.yaml"), "utf8")) as { config: Record<string, unknown[]> }
).config["homelab:flows"]!.length;

/** Runs the real `plan` CLI the way `npm run plan` does. */
function plan(...args: string[]) {
  const r = spawnSync(process.execPath, ["tools/run.js", "tools/plan.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The reference network stack with one more flow appended to homelab:flows. */
function withFlow(yamlFlow: string): string {
  const text = readFileSync(join(ROOT, "Pulumi.network.yaml"), "utf8");
  const anchor = "\n  homelab:opnsense:";
  if (!text.includes(anchor)) throw new Error("fixture anchor not found");
  const path = join(mkdtempSync(join(tmpdir(), "plan-fw-")), "Pulumi.network.yaml");
  writeFileSync(path, text.replace(anchor, `\n    - ${yamlFlow}\n${anchor}`));
  return path;
}

interface Violation {
  policy: string;
  level: string;
  message: string;
}
const defaultDeny = (json: { violations: Violation[] }) =>
  json.violations.filter((v) => v.policy === "default-deny");

describe("npm run plan: reachability section", () => {
  it("shows the matrix computed from the compiled rules, consistent with the intents", () => {
    const r = plan("--stack", "network", "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.reachability.consistent).toBe(true);
    // Denied cells are not listed (`unlistedCells` says what they are).
    expect(json.reachability.matrix.iot["segment:management"]).toBeUndefined();
    expect(json.reachability.unlistedCells.status).toBe("deny");
    expect(json.reachability.matrix.wireguard["segment:management"].status).toBe("allow");
    expect(defaultDeny(json)).toEqual([]);
  });

  it("shows the OPNsense interface each segment's rules are written on", () => {
    const json = JSON.parse(plan("--stack", "network", "--json").stdout);
    expect(json.opnsenseInterfaces).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ interface: "management", vlan: 10, binding: "key lan", key: "lan" }),
        expect.objectContaining({ interface: "iot", vlan: 40, binding: "key opt3", key: "opt3" }),
        expect.objectContaining({ interface: "wireguard", key: "wireguard" }),
        expect.objectContaining({ interface: "wan", key: "wan" }),
      ]),
    );
  });

  it("prints the matrix in the text report", () => {
    const text = plan("--stack", "network").stdout;
    expect(text).toContain("Reachability (from compiled rules)");
    expect(text).toMatch(/segment:management\s+◐\s+◐\s+·\s+·\s+·\s+·\s+✓\s+·/);
  });

  it("fails the plan on an any-to-any allow", () => {
    const r = plan(
      "--stack",
      "network",
      "--json",
      "--config",
      withFlow('{ from: any, to: any, protocol: any, reason: "debug" }'),
    );
    expect(r.code).toBe(1);
    const found = defaultDeny(JSON.parse(r.stdout));
    expect(found.every((v) => v.level === "mandatory")).toBe(true);
    expect(found.map((v) => v.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^any-to-any allow in rule iot/flow-${NEXT}\\b`)),
      ]),
    );
  });

  it("fails the plan on an IoT → management flow, naming the rule", () => {
    const r = plan(
      "--stack",
      "network",
      "--json",
      "--config",
      withFlow(
        '{ from: segment:iot, to: segment:management, ports: [443], reason: "TV manages the switch" }',
      ),
    );
    expect(r.code).toBe(1);
    const found = defaultDeny(JSON.parse(r.stdout));
    expect(found).toEqual([
      expect.objectContaining({
        level: "mandatory",
        message: expect.stringMatching(
          new RegExp(`^iot/\\(other\\) reaches management: .* via iot/flow-${NEXT}\\b`),
        ),
      }),
    ]);
  });
});
