/**
 * Applies the host-touching resources of a recorded graph (tools/rehearse/evaluate.ts) the way the
 * Pulumi engine and the providers would, in dependency order, keeping a state file between runs:
 *
 * - `command:remote:Command` as @pulumi/command 1.x runs it (pulumi/pulumi-command v1.2.1,
 *   provider/pkg/provider/remote/commandController.go and commandOutputs.go): create runs `create`;
 *   update runs `update`, else `create`; delete runs `delete` when set; each over one SSH session
 *   (`session.Run(cmd)`, the login shell's `-c`), `stdin` when non-empty, `environment` as SSH env
 *   requests, PULUMI_COMMAND_STDOUT/STDERR only when addPreviousOutputInEnv is not false; a non-zero
 *   exit fails with the command and its combined output; stdout/stderr outputs have one trailing newline
 *   trimmed. The host key is verified as connection.go does: with `hostKey` set, only that key's
 *   algorithm is offered and the presented key must equal it (ssh.FixedHostKey); without it, any key is
 *   accepted (InsecureIgnoreHostKey), which the rehearsal reports. Any input change is an update;
 *   `triggers` changes replace (common/inputs.go, replaceOnChanges). retainOnDelete skips the delete.
 * - dynamic providers (`pulumi-nodejs:dynamic/...`) through their serialized closure, loaded with
 *   require-from-string and `.handler()` as @pulumi/pulumi's cmd/dynamic-provider does; diff, create,
 *   update, delete and read get the plain (unwrapped) values the dynamic provider host gets.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Client } from "ssh2";

export interface GraphResource {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  custom: boolean;
  dependencies: string[];
  inputs: Record<string, unknown>;
  retainOnDelete: boolean;
  provider?: string;
}

export interface RecordedGraph {
  stack: string;
  resources: GraphResource[];
}

export interface StateEntry {
  urn: string;
  type: string;
  id: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  retainOnDelete: boolean;
  provider?: string;
}

export interface State {
  resources: StateEntry[];
}

export type OpKind = "create" | "update" | "same" | "replace" | "delete" | "forget" | "read";

export interface Op {
  urn: string;
  name: string;
  type: string;
  op: OpKind;
  ms: number;
  /** For a read: what the provider observed ("in-sync", "stopped: …"). */
  detail?: string;
  error?: string;
}

export const COMMAND_TYPE = "command:remote:Command";
/** Dynamic resources that act on a node over SSH; the OPNsense ones act on the gateway's API instead. */
export const HOST_DYNAMIC_TYPES = ["pulumi-nodejs:dynamic/compose:Project"];
export const touchesHost = (type: string): boolean =>
  type === COMMAND_TYPE || HOST_DYNAMIC_TYPES.includes(type);

/** Host resources in an order that respects every dependency between them (stable otherwise). */
export function applyOrder(graph: RecordedGraph): GraphResource[] {
  const host = graph.resources.filter((r) => r.custom && touchesHost(r.type));
  const urns = new Set(host.map((r) => r.urn));
  const done = new Set<string>();
  const out: GraphResource[] = [];
  while (out.length < host.length) {
    const next = host.find(
      (r) => !done.has(r.urn) && r.dependencies.every((d) => !urns.has(d) || done.has(d)),
    );
    if (!next) throw new Error("dependency cycle among host resources");
    done.add(next.urn);
    out.push(next);
  }
  return out;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

// ---- @pulumi/command remote.Command -------------------------------------------------------------

interface Connection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  hostKey?: string;
  dialErrorLimit?: number;
}

export interface SshRun {
  code: number | null;
  stdout: string;
  stderr: string;
  combined: string;
  /** Whether the session verified a pinned host key (false: the provider would accept any host). */
  verified: boolean;
}

function dial(c: Connection): Promise<{ client: Client; verified: boolean }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let verified = false;
    let pinned: Buffer | undefined;
    let algorithms: { serverHostKey: string[] } | undefined;
    if (c.hostKey !== undefined) {
      const [type, b64] = c.hostKey.trim().split(/\s+/);
      if (!type || !b64) return reject(new Error("failed to parse host key"));
      pinned = Buffer.from(b64, "base64");
      algorithms = { serverHostKey: [type] };
    }
    client
      .on("ready", () => resolve({ client, verified }))
      .on("error", reject)
      .connect({
        host: c.host,
        port: c.port ?? 22,
        username: c.user ?? "root",
        ...(c.privateKey !== undefined ? { privateKey: c.privateKey } : {}),
        readyTimeout: 15_000,
        ...(algorithms ? { algorithms: algorithms as never } : {}),
        hostVerifier: (key: Buffer) => {
          if (!pinned) return true;
          verified = key.equals(pinned);
          return verified;
        },
      });
  });
}

async function dialWithRetry(c: Connection): Promise<{ client: Client; verified: boolean }> {
  const limit = c.dialErrorLimit ?? 10;
  let last: unknown;
  for (let i = 0; limit < 0 || i <= limit; i++) {
    try {
      return await dial(c);
    } catch (e) {
      last = e;
      // A wrong host key is not retried by the rehearsal (the provider would retry to the same result).
      if (/host key|Handshake failed|verification/i.test(String(e))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`after failed attempts: ${(last as Error)?.message ?? String(last)}`);
}

export async function sshRun(
  c: Connection,
  cmd: string,
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<SshRun> {
  const { client, verified } = await dialWithRetry(c);
  try {
    return await new Promise<SshRun>((resolve, reject) => {
      client.exec(cmd, { env: opts.env ?? {} }, (err, stream) => {
        if (err) return reject(err);
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        const both: Buffer[] = [];
        stream.on("data", (d: Buffer) => (out.push(d), both.push(d)));
        stream.stderr.on("data", (d: Buffer) => (errOut.push(d), both.push(d)));
        stream.on("close", (code: number | null) =>
          resolve({
            code,
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errOut).toString("utf8"),
            combined: Buffer.concat(both).toString("utf8"),
            verified,
          }),
        );
        if (opts.stdin !== undefined && opts.stdin.length > 0) stream.end(opts.stdin);
        else stream.end();
      });
    });
  } finally {
    client.end();
  }
}

/** Unverified sessions seen during this process (resource names), for the rehearsal's report. */
export const unverifiedSessions: string[] = [];

async function runCommand(
  r: { name: string; inputs: Record<string, unknown> },
  cmd: string,
  previous?: Record<string, unknown>,
): Promise<{ stdout: string; stderr: string }> {
  const i = r.inputs;
  const env: Record<string, string> = { ...((i["environment"] as Record<string, string>) ?? {}) };
  if (i["addPreviousOutputInEnv"] !== false && previous) {
    if (previous["stdout"]) env["PULUMI_COMMAND_STDOUT"] = String(previous["stdout"]);
    if (previous["stderr"]) env["PULUMI_COMMAND_STDERR"] = String(previous["stderr"]);
  }
  const res = await sshRun(i["connection"] as Connection, cmd, {
    ...(typeof i["stdin"] === "string" ? { stdin: i["stdin"] } : {}),
    env,
  });
  if (!res.verified) unverifiedSessions.push(r.name);
  if (res.code !== 0)
    throw new Error(
      `Process exited with status ${res.code}: running ${JSON.stringify(cmd)}:\n${res.combined}`,
    );
  return { stdout: res.stdout.replace(/\n$/, ""), stderr: res.stderr.replace(/\n$/, "") };
}

// ---- dynamic providers -------------------------------------------------------------------------

interface DynamicProvider {
  diff?(
    id: string,
    olds: unknown,
    news: unknown,
  ): Promise<{ changes?: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: unknown): Promise<{ id: string; outs?: Record<string, unknown> }>;
  update?(id: string, olds: unknown, news: unknown): Promise<{ outs?: Record<string, unknown> }>;
  delete?(id: string, props: unknown): Promise<void>;
  read?(id: string, props: unknown): Promise<{ id?: string; props?: Record<string, unknown> }>;
}

const providers = new Map<string, DynamicProvider>();
function loadProvider(text: string): DynamicProvider {
  let p = providers.get(text);
  if (!p) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const requireFromString = require("require-from-string") as (
      code: string,
      filename?: string,
    ) => { handler(): DynamicProvider };
    p = requireFromString(text).handler();
    providers.set(text, p);
  }
  return p;
}

// ---- the engine ----------------------------------------------------------------------------------

export class Engine {
  readonly ops: Op[] = [];
  constructor(
    readonly state: State,
    private readonly save: (s: State) => void = () => undefined,
  ) {}

  static load(path: string): Engine {
    let state: State = { resources: [] };
    try {
      state = JSON.parse(readFileSync(path, "utf8")) as State;
    } catch {
      /* a first run: empty state */
    }
    return new Engine(state, (s) => writeFileSync(path, JSON.stringify(s), { mode: 0o600 }));
  }

  private record(
    r: { urn: string; name?: string; type: string },
    op: OpKind,
    t0: number,
    extra: Partial<Op> = {},
  ): void {
    this.ops.push({
      urn: r.urn,
      name: r.name ?? r.urn.split("::").pop()!,
      type: r.type,
      op,
      ms: Date.now() - t0,
      ...extra,
    });
  }

  private put(e: StateEntry): void {
    const i = this.state.resources.findIndex((x) => x.urn === e.urn);
    if (i >= 0) this.state.resources[i] = e;
    else this.state.resources.push(e);
    this.save(this.state);
  }

  private drop(urn: string): void {
    this.state.resources = this.state.resources.filter((x) => x.urn !== urn);
    this.save(this.state);
  }

  private async create(r: GraphResource): Promise<StateEntry> {
    const inputs = clone(r.inputs);
    if (r.type === COMMAND_TYPE) {
      const out =
        typeof inputs["create"] === "string"
          ? await runCommand(r, inputs["create"])
          : { stdout: "", stderr: "" };
      return {
        urn: r.urn,
        type: r.type,
        id: `${r.name}-${Date.now().toString(16)}`,
        inputs,
        outputs: { ...inputs, ...out },
        retainOnDelete: r.retainOnDelete,
      };
    }
    const p = loadProvider(r.provider!);
    const props = { ...inputs, __provider: r.provider };
    const res = await p.create(props);
    return {
      urn: r.urn,
      type: r.type,
      id: res.id,
      inputs,
      outputs: clone({ ...(res.outs ?? {}), __provider: r.provider }),
      retainOnDelete: r.retainOnDelete,
      provider: r.provider!,
    };
  }

  private async delete(e: StateEntry): Promise<void> {
    if (e.type === COMMAND_TYPE) {
      const cmd = e.outputs["delete"];
      if (typeof cmd === "string") await runCommand({ name: e.urn, inputs: e.outputs }, cmd, e.outputs);
      return;
    }
    const p = loadProvider(e.provider ?? String(e.outputs["__provider"]));
    await p.delete?.(e.id, e.outputs);
  }

  /** `pulumi up`: creates, updates or replaces every host resource; deletes those no longer declared. */
  async up(graph: RecordedGraph): Promise<boolean> {
    for (const r of applyOrder(graph)) {
      const t0 = Date.now();
      const prev = this.state.resources.find((e) => e.urn === r.urn);
      try {
        if (!prev) {
          this.put(await this.create(r));
          this.record(r, "create", t0);
          continue;
        }
        const news = clone(r.inputs);
        if (r.type === COMMAND_TYPE) {
          if (same(prev.inputs, news)) {
            this.record(r, "same", t0);
            continue;
          }
          if (!same(prev.inputs["triggers"], news["triggers"])) {
            await this.delete(prev);
            this.put(await this.create(r));
            this.record(r, "replace", t0);
            continue;
          }
          const cmd = typeof news["update"] === "string" ? news["update"] : news["create"];
          const out =
            typeof cmd === "string"
              ? await runCommand(r, cmd, prev.outputs)
              : {
                  stdout: String(prev.outputs["stdout"] ?? ""),
                  stderr: String(prev.outputs["stderr"] ?? ""),
                };
          this.put({ ...prev, inputs: news, outputs: { ...news, ...out } });
          this.record(r, "update", t0);
          continue;
        }
        const p = loadProvider(r.provider!);
        const props = { ...news, __provider: r.provider };
        const d = (await p.diff?.(prev.id, prev.outputs, props)) ?? { changes: !same(prev.inputs, news) };
        if (d.changes === false) {
          this.record(r, "same", t0);
          continue;
        }
        if (d.replaces && d.replaces.length > 0) {
          await this.delete(prev);
          this.drop(prev.urn);
          this.put(await this.create(r));
          this.record(r, "replace", t0);
          continue;
        }
        const res = (await p.update?.(prev.id, prev.outputs, props)) ?? {};
        this.put({
          ...prev,
          inputs: news,
          outputs: clone({ ...(res.outs ?? {}), __provider: r.provider }),
          provider: r.provider!,
        });
        this.record(r, "update", t0);
      } catch (e) {
        this.record(r, prev ? "update" : "create", t0, { error: (e as Error).message });
        return false;
      }
    }
    const declared = new Set(graph.resources.map((r) => r.urn));
    for (const e of [...this.state.resources].reverse())
      if (!declared.has(e.urn)) if (!(await this.remove(e))) return false;
    return true;
  }

  private async remove(e: StateEntry): Promise<boolean> {
    const t0 = Date.now();
    try {
      if (e.retainOnDelete) {
        this.drop(e.urn);
        this.record(e, "forget", t0);
        return true;
      }
      await this.delete(e);
      this.drop(e.urn);
      this.record(e, "delete", t0);
      return true;
    } catch (err) {
      this.record(e, "delete", t0, { error: (err as Error).message });
      return false;
    }
  }

  /** `pulumi destroy`: deletes in the reverse order of creation. */
  async destroy(): Promise<boolean> {
    for (const e of [...this.state.resources].reverse()) if (!(await this.remove(e))) return false;
    return true;
  }

  /** `pulumi refresh`: asks each provider that can read what is on the host now. */
  async refresh(): Promise<boolean> {
    for (const e of this.state.resources) {
      if (e.type === COMMAND_TYPE) continue;
      const t0 = Date.now();
      const p = loadProvider(e.provider ?? String(e.outputs["__provider"]));
      if (!p.read) continue;
      try {
        const res = await p.read(e.id, e.outputs);
        const outputs: Record<string, unknown> = clone({
          ...(res.props ?? e.outputs),
          __provider: e.outputs["__provider"],
        });
        this.put({ ...e, id: res.id ?? e.id, outputs });
        this.record(e, "read", t0, { detail: String(outputs["observed"] ?? "") });
      } catch (err) {
        this.record(e, "read", t0, { error: (err as Error).message });
        return false;
      }
    }
    return true;
  }
}
