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
