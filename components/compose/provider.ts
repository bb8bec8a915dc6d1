import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { renderSecretEnv } from "../../analysis/compose/secret-env";
import { shellQuote as q } from "../../analysis/text/shell";
import {
  composeCommand,
  COMPOSE_V2_MISSING,
  DETECT_COMPOSE,
  DOWN_ARGS,
  ensureNetworkCommand,
  filePath,
  healthCommand,
  layout,
  observeCommand,
  parseFlavor,
  parseHealth,
  keepFailedLogCommand,
  removeCommand,
  rootRemoveCommand,
  rootWriteCommand,
  UP_ARGS,
  wrapperScript,
  writeFileCommand,
  type ComposeFlavor,
  type HealthReport,
  type Layout,
} from "./remote";
import { SshSession, type SshTarget } from "./ssh";
import { redact } from "../../analysis/text/redact";

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
  /** Owner and mode of each absolute file (the service that reads it); public, no content. */
  fileModes: Record<string, { mode: string; owner: string }>;
  /** Docker name of the shared ingress network, when a service joins it ("" otherwise). */
  ingressNetwork: string;
  contentHash: string;
  healthTimeoutSeconds: number;
  pollIntervalMs: number;
}

export interface ComposeProjectOutputs extends ComposeProjectInputs {
  /** The compose CLI found on the host at the last deploy. */
  flavor: ComposeFlavor;
  /**
   * What the last `read` (pulumi refresh) found on the host: "in-sync", or why the stack differs from
   * its state ("stopped: web (exited)", "compose file changed on the host", "missing"). A drifted read
   * also replaces contentHash, so the next `pulumi up` shows an update and redeploys.
   */
  observed?: string;
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
  "fileModes",
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
    throw new Error(redact(e instanceof Error ? e.message : String(e), secretValues(i), { minLength: 1 }));
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

  /** A file some service reads: root-owned 0644, or 0600/0640 owned by its reader when it holds a key. */
  writeOwned(path: string, content: string, access: { mode: string; owner: string }): Promise<string> {
    return this.run(rootWriteCommand(path, access.mode, access.owner), `writing ${path}`, { stdin: content });
  }

  async flavor(): Promise<ComposeFlavor> {
    const f = parseFlavor(await this.run(DETECT_COMPOSE, "looking for compose"));
    if (!f) throw new Error(`${this.where}: ${COMPOSE_V2_MISSING}`);
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
      // Relative files live in the project directory (deploy user, 0644); host paths a service mounts are
      // written with the owner and mode fileModes gives them (a key file is never world-readable).
      for (const [key, content] of Object.entries(i.files)) {
        const access = i.fileModes?.[key];
        if (access) await d.writeOwned(filePath(d.l, key), content, access);
        else await d.write(filePath(d.l, key), content, "0644");
      }
      const stale = Object.keys(previous?.files ?? {}).filter((k) => !(k in i.files));
      const staleOwned = stale.filter((k) => previous?.fileModes?.[k]).map((k) => filePath(d.l, k));
      const staleOwn = stale.filter((k) => !previous?.fileModes?.[k]).map((k) => filePath(d.l, k));
      if (staleOwn.length > 0) await d.run(`rm -f -- ${staleOwn.map(q).join(" ")}`, "removing old files");
      if (staleOwned.length > 0) await d.run(rootRemoveCommand(staleOwned), "removing old files");
      if (i.ingressNetwork)
        await d.run(ensureNetworkCommand(i.ingressNetwork), "creating the ingress network");
      await d.compose(UP_ARGS, (i.healthTimeoutSeconds + 600) * 1000);
      await d.waitHealthy();
      await d.run(`rm -f -- ${q(d.l.failedLog)}`, "removing the log of an earlier failed create");
      return { ...i, flavor };
    }),
  );
}

/** delete: `down --remove-orphans` (bind-mounted dataset data stays), then remove the project's files. */
export function destroy(o: ComposeProjectOutputs): Promise<void> {
  return guarded(o, () => withSession(o, (d) => tearDown(d, o)));
}

async function tearDown(
  d: Deployer,
  o: ComposeProjectInputs,
  opts: { keepFailedLog?: boolean } = {},
): Promise<void> {
  const present = await d.ssh.exec(`test -x ${q(d.l.wrapper)} && test -f ${q(d.l.secretsFile)}`);
  if (present.code === 0) await d.compose(DOWN_ARGS, 600_000);
  else
    // No wrapper (a create that failed before writing it): remove the project's containers by label.
    await d.run(
      `docker ps -aq --filter ${q(`label=com.docker.compose.project=${o.project}`)} | xargs -r docker rm -f >/dev/null && ` +
        `docker network ls -q --filter ${q(`label=com.docker.compose.project=${o.project}`)} | xargs -r docker network rm >/dev/null`,
      "removing leftover containers",
    );
  const outside = Object.keys(o.files ?? {}).filter((k) => !filePath(d.l, k).startsWith(`${d.l.dir}/`));
  const owned = outside.filter((k) => o.fileModes?.[k]).map((k) => filePath(d.l, k));
  const own = outside.filter((k) => !o.fileModes?.[k]).map((k) => filePath(d.l, k));
  await d.run(removeCommand(d.l, own, opts), "removing the project files");
  if (owned.length > 0) await d.run(rootRemoveCommand(owned), "removing the project's host files");
  // The shared ingress network goes with the last project on it: Docker refuses while a container of
  // another stack is still attached, which is the answer wanted here.
  if (o.ingressNetwork)
    await d.run(
      `docker network rm ${q(o.ingressNetwork)} >/dev/null 2>&1 || true`,
      "removing the ingress network",
    );
}

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/**
 * refresh: what runs on the host. A stack stopped by hand (a container not running/healthy, or gone)
 * or a compose file edited there is drift: `observed` says which, and contentHash is replaced so the
 * next `pulumi up` diffs and redeploys. Never returns anything read from the host but that summary.
 */
export function observe(o: ComposeProjectOutputs): Promise<ComposeProjectOutputs> {
  return guarded(o, () =>
    withSession(o, async (d) => {
      const out = await d.run(observeCommand(d.l, o.project), "reading the project's state");
      const [fileHash = "missing", ...rest] = out.split("\n");
      const health = parseHealth(rest.join("\n"), o.services, o.healthchecked);
      let observed = "in-sync";
      if (fileHash.trim() === "missing") observed = "missing: no compose file on the host";
      else if (fileHash.trim() !== sha256(o.composeYaml)) observed = "compose file changed on the host";
      else if (!health.ready)
        observed = `stopped: ${health.pending.map((p) => `${p.service} (${p.state})`).join(", ")}`;
      return {
        ...o,
        observed,
        ...(observed === "in-sync" ? {} : { contentHash: `drifted:${o.contentHash}` }),
      };
    }),
  );
}

export const composeProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: ComposeProjectOutputs, news: ComposeProjectInputs) {
    return diffProject(olds, news);
  },
  async create(inputs: ComposeProjectInputs) {
    try {
      const outs = await deploy(inputs);
      return { id: `${inputs.project}@${inputs.host}`, outs };
    } catch (e) {
      // A failed create leaves no state, so nothing would ever remove what it started: tear it down now
      // (containers, networks, secrets.env, files), then report the original failure. Compose's output
      // outlives the project directory, at the path the error names instead of the removed one.
      const l = layout(inputs.baseDir, inputs.project);
      const kept = await guarded(inputs, () =>
        withSession(inputs, async (d) => {
          const moved = await d.ssh.exec(keepFailedLogCommand(d.l));
          await tearDown(d, inputs, { keepFailedLog: true });
          return moved.code === 0;
        }),
      ).catch(() => false);
      if (kept && e instanceof Error) e.message = e.message.replace(l.log, l.failedLog);
      throw e;
    }
  },
  async read(id: string, props: ComposeProjectOutputs) {
    return { id, props: await observe(props) };
  },
  async update(_id: string, olds: ComposeProjectOutputs, news: ComposeProjectInputs) {
    if (!needsDeploy(olds, news)) return { outs: { ...news, flavor: olds.flavor } };
    return { outs: await deploy(news, olds) };
  },
  async delete(_id: string, olds: ComposeProjectOutputs) {
    await destroy(olds);
  },
};
