/**
 * Golden files for the PR-comment markdown (`npm run plan -- --markdown [--baseline]`), produced by the
 * real CLI. The reference homelab keeps growing, so when a change to the program or the stack files is
 * intended, regenerate and review the diff of tests/gitops/golden/*.md:
 *
 *     UPDATE_GOLDEN=1 npx jest tests/gitops/golden
 *
 * A missing golden file fails (it is never written silently), so the suite cannot pass vacuously.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseDocument } from "yaml";
import { ROOT } from "../fixtures/reference";

jest.setTimeout(180_000);

const GOLDEN = join(__dirname, "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const run = promisify(execFile);

/** Runs the plan CLI; 0 and 1 (a mandatory violation) both print a full report. */
async function plan(...args: string[]): Promise<string> {
  try {
    const r = await run(process.execPath, ["tools/run.js", "tools/plan.ts", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    return r.stdout;
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (err.code === 1 && err.stdout) return err.stdout;
    throw new Error(`plan ${args.join(" ")} exited ${err.code}: ${err.stderr}`, { cause: e });
  }
}

const tmp = mkdtempSync(join(tmpdir(), "gitops-golden-"));

/** A copy of a reference stack file with one config value changed, through the YAML document model. */
function variant(stack: string, edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
  edit(doc);
  const dir = mkdtempSync(join(tmp, `${stack}-`));
  const path = join(dir, `Pulumi.${stack}.yaml`);
  writeFileSync(path, doc.toString());
  return path;
}

/** The change a reviewer should see in the reachability matrix: trusted devices reach Grafana directly. */
const NEW_FLOW = {
  from: "segment:trusted",
  to: "service:grafana",
  protocol: "tcp",
  ports: [3000],
  reason: "wall dashboard tablet reads Grafana directly",
};

function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file))
    throw new Error(`missing golden file ${file}: run UPDATE_GOLDEN=1 npx jest tests/gitops/golden`);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

const out: Record<string, string> = {};

beforeAll(async () => {
  const flowConfig = variant("network", (doc) => {
    const flows = doc.getIn(["config", "homelab:flows"]) as { add(v: unknown): void };
    flows.add(doc.createNode(NEW_FLOW));
  });
  const vaultConfig = variant("storage", (doc) => {
    const path = ["config", "homelab:backup", "vault", "archiveAfterDays"];
    if (doc.getIn(path) !== 30)
      throw new Error("fixture: the reference vault no longer archives after 30 days");
    doc.setIn(path, 90);
  });
  const [netJson, stoJson] = await Promise.all([
    plan("--stack", "network", "--json"),
    plan("--stack", "storage", "--json"),
  ]);
  writeFileSync(join(tmp, "network.json"), netJson);
  writeFileSync(join(tmp, "storage.json"), stoJson);
  const [refNet, refSto, addFlow, vault] = await Promise.all([
    plan("--stack", "network", "--markdown"),
    plan("--stack", "storage", "--markdown"),
    plan("--stack", "network", "--config", flowConfig, "--markdown", "--baseline", join(tmp, "network.json")),
    plan(
      "--stack",
      "storage",
      "--config",
      vaultConfig,
      "--markdown",
      "--baseline",
      join(tmp, "storage.json"),
    ),
  ]);
  Object.assign(out, { refNet, refSto, addFlow, vault });
});

describe("plan markdown (golden files)", () => {
  // Run-to-run stability is what the golden comparison itself checks; this names the usual suspects.
  it("holds no times, temp paths or secret markers", () => {
    for (const md of Object.values(out)) {
      expect(md).not.toMatch(/plan-secret-/);
      expect(md).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      expect(md).not.toContain(tmp);
    }
  });

  it("reference network plan", () => {
    expect(out.refNet!.split("\n")[0]).toBe("<!-- homelab-plan:network -->");
    expect(out.refNet).toContain("no baseline");
    expectGolden("reference-network.md", out.refNet!);
  });

  it("reference storage plan", () => {
    expect(out.refSto!.split("\n")[0]).toBe("<!-- homelab-plan:storage -->");
    expectGolden("reference-storage.md", out.refSto!);
  });

  it("a change that adds a flow shows the reachability change", () => {
    const md = out.addFlow!;
    const section = md.slice(md.indexOf("#### Reachability change"));
    expect(md).toContain("#### Reachability change");
    // The one cell the new flow opens: trusted → grafana, from denied to allowed.
    expect(section).toMatch(/\| trusted → service:grafana \| deny \| \*\*(allow|partial)[^|]*\*\* \|/);
    expect(md).toMatch(/\*\*\d+ to create · \d+ to update · \d+ to delete\*\*/);
    expectGolden("add-flow.md", md);
  });

  it("a change to the vault shows the cost change", () => {
    const md = out.vault!;
    expect(md).toContain("#### Cost change");
    expect(md).toMatch(
      /Monthly: \$[\d,.]+ → \*\*\$[\d,.]+\*\*, [+-]\$[\d,.]+ \([+-][\d.]+%\) month over month/,
    );
    expect(md).toMatch(
      /✏️ update \| `aws:s3\/bucketLifecycleConfiguration:BucketLifecycleConfiguration::[^`]+` \| `rules`/,
    );
    expectGolden("vault-change.md", md);
  });
});

describe("--baseline errors (exit 2 before anything is evaluated)", () => {
  const fails = async (...args: string[]) =>
    run(process.execPath, ["tools/run.js", "tools/plan.ts", ...args], {
      cwd: ROOT,
      encoding: "utf8",
    }).then(
      () => {
        throw new Error("expected a failure");
      },
      (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr ?? "" }),
    );

  it("rejects a baseline of the other stack, a missing file and a baseline without --markdown", async () => {
    const [other, missing, json] = await Promise.all([
      fails("--stack", "storage", "--markdown", "--baseline", join(tmp, "network.json")),
      fails("--stack", "network", "--markdown", "--baseline", join(tmp, "nope.json")),
      fails("--stack", "network", "--json", "--baseline", join(tmp, "network.json")),
    ]);
    expect(other).toEqual({
      code: 2,
      stderr: expect.stringContaining('is a plan of stack "network", not "storage"'),
    });
    expect(missing).toEqual({ code: 2, stderr: expect.stringContaining("nope.json") });
    expect(json).toEqual({
      code: 2,
      stderr: expect.stringContaining("--baseline only changes the --markdown report"),
    });
  });
});
