import { createHash } from "node:crypto";
import { shellQuote as shq } from "../analysis/text/shell";
import { ROOT_HELPER } from "../analysis/storage/zfs";

/**
 * How a component installs a systemd job on a node: through the root helper's job operations
 * (tools/node/homelab-root: `packages`, `install`, `start`, `run`, `uninstall`), never a root shell. The
 * helper holds the allow-list of each job (which files, units and packages it may install), so what the
 * deploy user's sudo rule grants is that list and nothing else (docs/runbooks/node-preparation.md).
 */
export type HostJob =
  | "host-monitoring"
  | "acme"
  | "ids-alerts"
  | "pbs-metrics"
  | "pbs-metrics-token"
  | "borg"
  | "borg-setup"
  | "borg-credentials"
  | "host-firewall"
  | "security-updates";

export interface JobFile {
  path: string;
  /** 0600 for files holding credentials (root-only), 0700 for root-only scripts. */
  mode: "0600" | "0644" | "0700" | "0755";
  content: string;
}

/** The helper's `install` stdin: `<mode> <path> <base64>` per line; paths are checked to hold no whitespace. */
export function jobBundle(files: JobFile[]): string {
  return files
    .map((f) => {
      if (/\s/.test(f.path)) throw new Error(`rendered path with whitespace: ${f.path}`);
      return `${f.mode} ${f.path} ${Buffer.from(f.content).toString("base64")}\n`;
    })
    .join("");
}

/**
 * Helper operations run one after another (stopping at the first failure): as root directly (a node
 * reached as root), else through `sudo -n`, whose rule allows exactly the helper. Arguments are quoted
 * words; only the operation that reads stdin (`install`, `run`) gets it, the others read nothing.
 */
export function rootHelperSteps(...steps: string[][]): string {
  const body = steps.map((args) => `$R ${ROOT_HELPER} ${args.map(shq).join(" ")}`).join(" && ");
  return `if [ "$(id -u)" -eq 0 ]; then R=; else R="sudo -n"; fi; ${body}`;
}

/** sha256 of a setup script as the helper's `run` checks it before running the installed copy. */
export const scriptDigest = (content: string): string => createHash("sha256").update(content).digest("hex");
