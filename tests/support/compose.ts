import { join } from "node:path";
import { must, run } from "./proc";

const SCRIPT = join(__dirname, "..", "..", "tools", "node", "install-compose-v2.sh");

/**
 * Compose v2 is the only supported compose (components/compose/remote.ts). Installs Debian trixie's
 * docker-compose (v2) plugin with the same script .ci/run and the node runbook use, once per machine
 * (flock: parallel test files), and fails loudly if that is impossible: these tests never skip.
 */
export function ensureComposeV2(): string {
  const version = () => run("docker", ["compose", "version", "--short"]).stdout.trim();
  if (/^v?2\./.test(version())) return version();
  must("flock", ["/tmp/homelab-compose-v2.lock", "sh", SCRIPT], { timeoutMs: 300_000 });
  const v = version();
  if (!/^v?2\./.test(v)) throw new Error(`Compose v2 is not available after ${SCRIPT} (got "${v}")`);
  return v;
}
