/**
 * Checks the offsite copy of the VM backups in the vault (docs/runbooks/pbs-restore.md): every VM
 * with backup: true has a recent snapshot under the PBS datastore's prefix, each newest snapshot's
 * manifest and indexes are intact, and every chunk they reference exists (with --deep: downloads and
 * verifies every chunk). Reads S3 through the AWS CLI with whatever credentials it is given (a
 * read-only identity is enough); never writes.
 *
 *   npm run pbs-offsite-check -- [--config Pulumi.storage.yaml] [--endpoint-url URL] [--deep] [--json]
 *
 * Exit codes: 0 intact, 1 problems found, 2 bad usage or config.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { allowance } from "../analysis/pbs/alerts";
import { checkOffsite, type ObjectStore } from "../analysis/pbs/offsite-check";
import { offsitePrefix } from "../analysis/pbs/objects";
import { readStackFile, storageConfig } from "../model";
import { parseStackConfig } from "../model/parse";

const run = promisify(execFile);

export function awsStore(bucket: string, endpointUrl: string | undefined): ObjectStore & { close(): void } {
  const base = endpointUrl ? ["--endpoint-url", endpointUrl] : [];
  const dir = mkdtempSync(join(tmpdir(), "pbs-offsite-check-"));
  let n = 0;
  return {
    async list(prefix) {
      // The CLI follows the continuation tokens itself and prints one merged answer.
      const r = await run(
        "aws",
        [...base, "s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix, "--output", "json"],
        {
          maxBuffer: 512 * 1024 * 1024,
        },
      );
      if (r.stdout.trim() === "") return [];
      const j = JSON.parse(r.stdout) as { Contents?: { Key: string; Size: number }[] };
      return (j.Contents ?? []).map((c) => ({ key: c.Key, size: c.Size }));
    },
    async get(key) {
      const file = join(dir, `object-${n++}`);
      await run("aws", [...base, "s3api", "get-object", "--bucket", bucket, "--key", key, file], {
        maxBuffer: 16 * 1024 * 1024,
      });
      const data = readFileSync(file);
      rmSync(file, { force: true });
      return data;
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

interface Args {
  config: string;
  endpointUrl?: string;
  deep: boolean;
  json: boolean;
  now?: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { config: "Pulumi.storage.yaml", deep: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const next = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${v} needs a value`);
      return x;
    };
    if (v === "--config") a.config = next();
    else if (v === "--endpoint-url") a.endpointUrl = next();
    else if (v === "--deep") a.deep = true;
    else if (v === "--json") a.json = true;
    else if (v === "--now") a.now = Number(next());
    else throw new Error(`unknown argument ${v}`);
  }
  return a;
}

export async function main(argv: string[]): Promise<number> {
  let args: Args;
  let c;
  try {
    args = parseArgs(argv);
    c = parseStackConfig("storage", storageConfig, readStackFile(args.config).raw);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const o = c.pbs.offsite;
  if (!o) {
    process.stderr.write(
      `${args.config}: homelab:pbs.offsite is not set; there is no offsite copy to check\n`,
    );
    return 2;
  }
  // The newest copy may be as old as backup + local verify + sync allow (the PbsOffsiteStale alert).
  const maxAge =
    allowance(c.proxmox.backupSchedule) + allowance(c.pbs.verify.schedule) + allowance(o.syncSchedule);
  const store = awsStore(c.backup.vault.name, args.endpointUrl);
  try {
    const report = await checkOffsite(store, {
      prefix: offsitePrefix(o.datastore),
      expectVms: c.proxmox.vms.filter((v) => v.backup).map((v) => ({ vmId: v.vmId, name: v.name })),
      maxAgeSeconds: maxAge,
      now: args.now ?? Math.floor(Date.now() / 1000),
      deep: args.deep,
    });
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      process.stdout.write(
        `s3://${c.backup.vault.name}/${offsitePrefix(o.datastore)} (in use by ${report.inUseBy ?? "nobody"})\n`,
      );
      for (const s of report.snapshots)
        process.stdout.write(
          `  ${s.group} ${new Date(s.time * 1000).toISOString()} verify=${s.verifyState ?? "none"} files=${s.files.length} chunks=${s.chunks}\n`,
        );
      process.stdout.write(
        `  chunks present: ${report.chunksPresent}${args.deep ? `, downloaded and checked: ${report.chunksDownloaded}` : ""}\n`,
      );
      for (const p of report.problems) process.stdout.write(`  PROBLEM: ${p}\n`);
      process.stdout.write(
        report.problems.length === 0 ? "  intact\n" : `  ${report.problems.length} problem(s)\n`,
      );
    }
    return report.problems.length === 0 ? 0 : 1;
  } catch (e) {
    process.stderr.write(`cannot read the vault: ${(e as Error).message}\n`);
    return 2;
  } finally {
    store.close();
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
