import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The root helper's `install` bundle (`<mode> <path> <base64>` per line), decoded: path -> file. */
export function parseBundle(text: string): Record<string, { mode: string; content: string }> {
  const out: Record<string, { mode: string; content: string }> = {};
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [mode, path, b64, ...rest] = line.split(" ");
    if (!mode || !path || b64 === undefined || rest.length > 0) throw new Error(`not a bundle line: ${line}`);
    out[path] = { mode, content: Buffer.from(b64, "base64").toString("utf8") };
  }
  return out;
}

/** The helper operations of a command built by rootHelperSteps, as word lists (quotes removed). */
export function helperSteps(command: string): string[][] {
  const prefix = 'if [ "$(id -u)" -eq 0 ]; then R=; else R="sudo -n"; fi; ';
  if (!command.startsWith(prefix)) throw new Error(`not a root helper command: ${command.slice(0, 80)}`);
  return command
    .slice(prefix.length)
    .split(" && ")
    .map((step) => {
      const m = /^\$R \/usr\/local\/sbin\/homelab-root ((?:'[^']*' ?)+)$/.exec(step);
      if (!m) throw new Error(`not a helper step: ${step}`);
      return [...m[1]!.matchAll(/'([^']*)'/g)].map((w) => w[1]!);
    });
}

/**
 * Lays out a job's `install` bundle as the root helper does (tools/node/homelab-root install_job): the
 * job's directories first, at their modes (its job_dirs), then every file at its mode, its directory made
 * 0755 when missing (its put). At the paths the bundle names: tests point a spec's paths into a temp
 * directory. What this leaves out (the allow-list, root ownership, units verified and enabled) is the
 * real helper's, run in the deploy rehearsal.
 */
export function layOutBundle(bundle: string, dirs: [mode: number, path: string][] = []): void {
  for (const [mode, dir] of dirs) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, mode);
  }
  for (const [path, f] of Object.entries(parseBundle(bundle))) {
    if (!existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    const tmp = `${path}.homelab-root-test`;
    writeFileSync(tmp, f.content);
    chmodSync(tmp, parseInt(f.mode, 8));
    renameSync(tmp, path);
  }
}
