import type * as pulumi from "@pulumi/pulumi";
import { renderSecretEnv, shellQuote as q } from "../../analysis/compose/secret-env";
import {
  composeCommand,
  DETECT_COMPOSE,
  DOWN_ARGS,
  ensureNetworkCommand,
  filePath,
  healthCommand,
  layout,
  parseFlavor,
  parseHealth,
  redact,
  removeCommand,
  UP_ARGS,
  wrapperScript,
  writeFileCommand,
  type ComposeFlavor,
  type HealthReport,
  type Layout,
} from "./remote";
import { SshSession, type SshTarget } from "./ssh";

/** The dynamic resource's inputs, as the provider receives them (secrets unwrapped). */
export interface ComposeProjectInputs extends SshTarget {
  project: string;
  baseDir: string;
  composeYaml: string;
  services: string[];
  healthchecked: string[];
  /** Secret config key -> value, for secrets.env. Stored as a secret output. */
  secretEnv: Record<string, string>;
  /** Extra files by path (absolute on the host, or relative to <dir>/files). Stored as secret. */
  files: Record<string, string>;
  /** Docker name of the shared ingress network, when a service joins it ("" otherwise). */
  ingressNetwork: string;
  contentHash: string;
  healthTimeoutSeconds: number;
  pollIntervalMs: number;
}

export interface ComposeProjectOutputs extends ComposeProjectInputs {
  /** The compose CLI found on the host at the last deploy. */
  flavor: ComposeFlavor;
}

/** Moving a project to another host, name or directory is a new project: tear down first (ports). */
const REPLACE_KEYS = ["host", "project", "baseDir"] as const;
/** Keys whose change needs a deploy; the rest (credentials, timeouts) are only recorded. */
const DEPLOY_KEYS = [
  "port",
  "composeYaml",
  "services",
  "healthchecked",
  "secretEnv",
  "files",
  "ingressNetwork",
  "contentHash",
] as const;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

const INPUT_KEYS: (keyof ComposeProjectInputs)[] = [
  ...REPLACE_KEYS,
  ...DEPLOY_KEYS,
  "user",
  "privateKey",
  "hostKey",
  "healthTimeoutSeconds",
  "pollIntervalMs",
];

/** Pure: which inputs changed. Never returns values, so nothing secret can reach the diff display. */
export function diffProject(
  olds: Partial<ComposeProjectInputs>,
  news: ComposeProjectInputs,
): pulumi.dynamic.DiffResult {
  const changed = INPUT_KEYS.filter((k) => !same(olds[k], news[k]));
  const replaces = REPLACE_KEYS.filter((k) => changed.includes(k));
  return {
    changes: changed.length > 0,
    replaces: [...replaces],
    stables: [],
    deleteBeforeReplace: replaces.length > 0,
  };
}

export const needsDeploy = (olds: Partial<ComposeProjectInputs>, news: ComposeProjectInputs): boolean =>
  DEPLOY_KEYS.some((k) => !same(olds[k], news[k]));

/** Every value that must never appear in a message: secrets, their lines, the private key. */
export function secretValues(i: Partial<ComposeProjectInputs>): string[] {
  const all = [...Object.values(i.secretEnv ?? {}), i.privateKey ?? ""];
  const lines = all.flatMap((v) => v.split("\n").filter((l) => l.trim().length >= 8));
  return [...all, ...lines];
}

/** Errors leave the provider with secret values replaced, and without causes that could carry them. */
async function guarded<T>(i: Partial<ComposeProjectInputs>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    // No `cause`: the original error (and its stack) may carry the very values this removes.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(redact(e instanceof Error ? e.message : String(e), secretValues(i)));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Deployer {
  readonly where: string;
  constructor(
    readonly ssh: SshSession,
    readonly i: ComposeProjectInputs,
    readonly l: Layout,
  ) {
    this.where = `compose project ${i.project} on ${i.host}`;
  }

  async run(
    command: string,
    what: string,
    opts: { stdin?: string; timeoutMs?: number } = {},
  ): Promise<string> {
    const r = await this.ssh.exec(command, opts);
    // Only our own wording: the command's output may hold anything (compose echoes config on errors).
    if (r.code !== 0) throw new Error(`${this.where}: ${what} failed (exit ${r.code ?? "signal"})`);
    return r.stdout;
  }

  write(path: string, content: string, mode: "0600" | "0644" | "0700"): Promise<string> {
    return this.run(writeFileCommand(path, mode), `writing ${path}`, { stdin: content });
  }

  async flavor(): Promise<ComposeFlavor> {
    const f = parseFlavor(await this.run(DETECT_COMPOSE, "looking for compose"));
    if (!f)
      throw new Error(`${this.where}: neither "docker compose" (v2) nor docker-compose (v1) is installed`);
    return f;
  }

  async compose(args: string, timeoutMs: number): Promise<void> {
    const r = await this.ssh.exec(composeCommand(this.l, args), { timeoutMs });
    if (r.code !== 0)
      throw new Error(
        `${this.where}: "${args}" failed (exit ${r.code ?? "signal"}); compose's output is in ${this.l.log} on the host`,
      );
  }

  async waitHealthy(): Promise<void> {
    const deadline = Date.now() + this.i.healthTimeoutSeconds * 1000;
    const poll = async (): Promise<HealthReport> =>
      parseHealth(
        await this.run(healthCommand(this.i.project), "reading container health"),
        this.i.services,
        this.i.healthchecked,
      );
    let last = await poll();
    while (!last.ready && Date.now() < deadline) {
      await sleep(this.i.pollIntervalMs);
      last = await poll();
    }
    if (last.ready) return;
    const list = last.pending.map((p) => `${p.service} (${p.state})`).join(", ");
    throw new Error(
      `${this.where}: not healthy after ${this.i.healthTimeoutSeconds}s: ${list}. ` +
        `Inspect with ${this.l.wrapper} ps and docker inspect on the host`,
    );
  }
}

async function withSession<T>(i: ComposeProjectInputs, fn: (d: Deployer) => Promise<T>): Promise<T> {
  const ssh = await SshSession.connect(i);
  try {
    return await fn(new Deployer(ssh, i, layout(i.baseDir, i.project)));
  } finally {
    ssh.end();
  }
}

/** create and update: upload, `up -d --remove-orphans` (compose recreates only changed services), wait. */
export function deploy(
  i: ComposeProjectInputs,
  previous?: ComposeProjectOutputs,
): Promise<ComposeProjectOutputs> {
  return guarded(i, () =>
    withSession(i, async (d) => {
      const flavor = await d.flavor();
      await d.write(d.l.secretsFile, renderSecretEnv(i.secretEnv), "0600");
      await d.write(d.l.composeFile, i.composeYaml, "0600");
      await d.write(d.l.wrapper, wrapperScript(i.project, flavor), "0700");
      // Config files are read by non-root containers through bind mounts, hence 0644.
      for (const [key, content] of Object.entries(i.files))
        await d.write(filePath(d.l, key), content, "0644");
      const stale = Object.keys(previous?.files ?? {})
        .filter((k) => !(k in i.files))
        .map((k) => filePath(d.l, k));
      if (stale.length > 0) await d.run(`rm -f -- ${stale.map(q).join(" ")}`, "removing old files");
      if (i.ingressNetwork)
        await d.run(ensureNetworkCommand(i.ingressNetwork), "creating the ingress network");
      await d.compose(UP_ARGS, (i.healthTimeoutSeconds + 600) * 1000);
      await d.waitHealthy();
      return { ...i, flavor };
    }),
  );
}

/** delete: `down --remove-orphans` (bind-mounted dataset data stays), then remove the project's files. */
export function destroy(o: ComposeProjectOutputs): Promise<void> {
  return guarded(o, () =>
    withSession(o, async (d) => {
      const present = await d.ssh.exec(`test -x ${q(d.l.wrapper)}`);
      if (present.code === 0) await d.compose(DOWN_ARGS, 600_000);
      const files = Object.keys(o.files ?? {})
        .map((k) => filePath(d.l, k))
        .filter((p) => !p.startsWith(`${d.l.dir}/`));
      await d.run(removeCommand(d.l, files), "removing the project files");
    }),
  );
}

export const composeProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: ComposeProjectOutputs, news: ComposeProjectInputs) {
    return diffProject(olds, news);
  },
  async create(inputs: ComposeProjectInputs) {
    const outs = await deploy(inputs);
    return { id: `${inputs.project}@${inputs.host}`, outs };
  },
  async update(_id: string, olds: ComposeProjectOutputs, news: ComposeProjectInputs) {
    if (!needsDeploy(olds, news)) return { outs: { ...news, flavor: olds.flavor } };
    return { outs: await deploy(news, olds) };
  },
  async delete(_id: string, olds: ComposeProjectOutputs) {
    await destroy(olds);
  },
};
