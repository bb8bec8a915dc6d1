import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { startDouble, type OpnsenseDouble } from "./double";
import { bootstrapped } from "./helpers";

/**
 * The same `pulumi up` of the reference network stack against a gateway that is too old. It fails, so
 * it runs in a process of its own (tests/opnsense/stack-run.ts) the way a failing program would.
 */
describe("the reference network stack against OPNsense 25.7 (double of opnsense/core 25.7)", () => {
  let double: OpnsenseDouble;
  let result: { created: { name: string }[]; errors: { name: string; message: string }[] };
  let historyBefore: string[];
  beforeAll(async () => {
    double = await startDouble(bootstrapped("25.7"));
    historyBefore = double.history();
    const root = join(__dirname, "..", "..");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(root, "tools", "run.js"),
        "tests/opnsense/stack-run.ts",
        double.url,
        double.apiKey,
        double.apiSecret,
      ],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NODE_NO_WARNINGS: "1" } },
    );
    result = JSON.parse(stdout.trim().split("\n").at(-1)!) as typeof result;
  }, 120_000);
  afterAll(() => double.close());

  it("stops before its first write with the version error", () => {
    expect(result.created).toEqual([]);
    const gateway = result.errors.find((e) => e.name === "firewall-gateway");
    expect(gateway?.message).toMatch(
      /body: the gateway at http:\/\/127\.0\.0\.1:\d+ runs OPNsense 25\.7\.11; this program needs 26\.1 or later \(destination NAT, firewall\/d_nat, has an API only from 26\.1\)\. Upgrade it under System > Firmware and run again\. Nothing was changed\./,
    );
    expect(double.writes()).toEqual([]);
    expect(double.history()).toEqual(historyBefore);
    // The version is the first thing the provider asks, and nothing but reads follow.
    expect(double.calls[0]?.path).toBe("core/firmware/status");
    expect(double.calls.every((c) => c.method === "GET")).toBe(true);
  });
});
