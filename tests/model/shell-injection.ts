/**
 * The shell-injection property of tests/model/shell-injection*.test.ts: for each config field that reaches
 * a shell script, a command or a systemd unit, random hostile strings (and the classics) either are
 * refused by the schema or preflight with a config path, or appear only where the shell reads them
 * literally. The unit test checks that with the literal-mask scanner below; the integration test also
 * has bash parse every script that holds the value.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { renderBorg } from "../../analysis/backup/borg";
import { borgInputFromModel } from "../../analysis/backup/borg-model";
import { renderApplyDaemonJson, renderDaemonJson } from "../../analysis/docker/daemon";
import { preflight } from "../../analysis/preflight";
import { renderEnsureDataset } from "../../analysis/storage/zfs";
import { repositoryScript } from "../../components/backup/BorgJobs";
import {
  composeCommand,
  DEFAULT_BASE_DIR,
  ensureNetworkCommand,
  healthCommand,
  layout,
  removeCommand,
  UP_ARGS,
  wrapperScript,
  writeFileCommand,
} from "../../components/compose/remote";
import { ConfigError, resolveNetwork, resolveStorage, toContract, type StorageModel } from "../../model";
import { hasControlCharacter } from "../../model/common";
import { allSecretsSet, networkFile, rawOf, storageFile } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * For each character of a POSIX sh script, whether it is literal: inside single quotes, inside a
 * comment, or in the body of a heredoc with a quoted delimiter. Anything else (unquoted text, `$`, `` ` ``
 * and `\` inside double quotes or an unquoted heredoc) is where a value could become code.
 */
export function literalMask(script: string): boolean[] {
  const lit: boolean[] = new Array(script.length).fill(false);
  const heredocs: { delim: string; literal: boolean; strip: boolean }[] = [];
  let i = 0;
  let wordStart = true;
  while (i < script.length) {
    const c = script[i]!;
    if (c === "\n" && heredocs.length > 0) {
      i++;
      for (const h of heredocs.splice(0)) {
        for (;;) {
          const end = script.indexOf("\n", i);
          const line = script.slice(i, end < 0 ? script.length : end);
          if ((h.strip ? line.replace(/^\t+/, "") : line) === h.delim) {
            i = end < 0 ? script.length : end + 1;
            break;
          }
          for (let k = i; k < i + line.length; k++) lit[k] = h.literal || !"$`\\".includes(script[k]!);
          if (end < 0) return lit;
          i = end + 1;
        }
      }
      wordStart = true;
      continue;
    }
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) return lit;
      for (let k = i + 1; k < end; k++) lit[k] = true;
      i = end + 1;
      wordStart = false;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < script.length && script[i] !== '"') {
        if (script[i] === "\\") i++;
        else lit[i] = !"$`".includes(script[i]!);
        i++;
      }
      i++;
      wordStart = false;
      continue;
    }
    if (c === "\\") {
      if (script[i + 1] !== "\n") lit[i + 1] = true;
      i += 2;
      wordStart = false;
      continue;
    }
    if (c === "#" && wordStart) {
      const end = script.indexOf("\n", i);
      for (let k = i; k < (end < 0 ? script.length : end); k++) lit[k] = true;
      i = end < 0 ? script.length : end;
      continue;
    }
    const here = /^<<(-?)\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_][A-Za-z0-9_]*))/.exec(script.slice(i));
    if (here) {
      heredocs.push({
        delim: here[2] ?? here[3] ?? here[4]!,
        literal: here[2] !== undefined || here[3] !== undefined,
        strip: here[1] === "-",
      });
      i += here[0].length;
      wordStart = false;
      continue;
    }
    wordStart = /[\s;&|()]/.test(c);
    i++;
  }
  return lit;
}

/** Every place `value` occurs in `script` is literal. */
export const onlyLiteral = (script: string, value: string): boolean => {
  const lit = literalMask(script);
  for (let at = script.indexOf(value); at >= 0; at = script.indexOf(value, at + 1))
    for (let k = at; k < at + value.length; k++) if (!lit[k]) return false;
  return true;
};

/** Characters a POSIX shell never treats specially inside an unquoted word. */
export const SHELL_SAFE = /^[A-Za-z0-9_./:@%+=,-]*$/;

/** Every shell script and command the storage stack's components would run for this model. */
export function shellArtifacts(model: StorageModel): { scripts: string[]; units: string[] } {
  const c = model.config;
  const borg = renderBorg(borgInputFromModel(model));
  const scripts = [
    ...c.datasets.map(renderEnsureDataset),
    ...borg.files.filter((f) => f.path.endsWith(".sh")).map((f) => f.content),
    ...borg.repositories.map((r) => repositoryScript(r, c.storageNode.pool, `${borg.paths.stateDir}/borg`)),
    renderApplyDaemonJson(renderDaemonJson(c.dockerHost.daemon)),
    ...c.stacks.flatMap((s) => {
      const l = layout(DEFAULT_BASE_DIR, s.name);
      return [
        writeFileCommand(l.composeFile, "0644"),
        composeCommand(l, UP_ARGS),
        ensureNetworkCommand("ingress"),
        healthCommand(s.name),
        removeCommand(l, []),
        wrapperScript(s.name, "docker compose"),
      ];
    }),
  ];
  const units = borg.files.filter((f) => /\.(service|timer)$/.test(f.path)).map((f) => f.content);
  return { scripts, units };
}

/** `bash -n` over all scripts in one process; returns the ones bash cannot parse. */
export function syntaxErrors(scripts: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "shell-prop-"));
  const files = scripts.map((s, i) => {
    const f = join(dir, `${i}.sh`);
    writeFileSync(f, s);
    return f;
  });
  const r = spawnSync(
    "bash",
    ["-c", 'for f; do bash -n "$f" 2>/dev/null || echo "$f"; done', "_", ...files],
    {
      encoding: "utf8",
    },
  );
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((f) => scripts[files.indexOf(f)]!);
}

// Random strings from what breaks shell words, systemd units and paths, around valid values.
const hostile = fc.string({
  unit: fc.constantFrom(..."abz09-_./: '\"$`;&|\\\n\t*?#%=@(){}<>!~,+".split("")),
  maxLength: 12,
});
// The classics, so every run tries them, not only what the random alphabet happens to produce.
export const CLASSICS = [
  "-oProxyCommand=touch /tmp/x",
  "--",
  "-",
  "$(id)",
  "`id`",
  "a;b",
  "a b",
  "a\nb",
  "'",
  '"',
  "*",
  "~root",
  "..",
  "%n",
  "\\",
  "#",
];
const classic = fc.constantFrom(...CLASSICS);
const around = (valid: string) =>
  fc.oneof(
    hostile,
    classic,
    fc.tuple(classic, hostile).map(([c, h]) => `${c}${h}${valid}`),
    classic.map((c) => `${c}${valid}`),
    classic.map((c) => `${valid}${c}`),
    hostile.map((h) => `${valid}${h}`),
    hostile.map((h) => `${h}${valid}`),
    fc.constant(valid),
  );

export interface Target {
  field: string;
  /** A valid value: the classics are always tried in front of it and alone, before random ones. */
  valid: string;
  /** Where the value sits in an argument list: a leading "-" would make it an option. */
  argument: boolean;
  value: fc.Arbitrary<string>;
  set: (storage: Raw, network: Raw, v: string) => void;
}

export const TARGETS: Target[] = [
  {
    field: "storageNode.ssh.user",
    valid: "deploy",
    argument: true,
    value: around("deploy"),
    set: (s, _n, v) => (s.storageNode.ssh.user = v),
  },
  // Reaches the storage node through the contract: `ssh "$user@$host"` in the Borg pull job.
  {
    field: "networkNode.ssh.user",
    valid: "deploy",
    argument: true,
    value: around("deploy"),
    set: (_s, n, v) => (n.networkNode.ssh.user = v),
  },
  {
    field: "storageNode.pool",
    valid: "tank",
    argument: true,
    value: around("tank"),
    set: (s, _n, v) => {
      s.storageNode.pool = v;
      for (const d of s.datasets) d.name = d.name.replace(/^tank\//, `${v}/`);
    },
  },
  {
    field: "datasets[0].name",
    valid: "tank/apps/x",
    argument: true,
    value: around("tank/apps/x").map((v) => `tank/${v}`),
    set: (s, _n, v) => (s.datasets[0].name = v),
  },
  {
    field: "stacks[1].name",
    valid: "llm",
    argument: true,
    value: around("llm"),
    set: (s, _n, v) => (s.stacks[1].name = v),
  },
  {
    field: "backup.vault.name",
    valid: "homelab-backups",
    argument: true,
    value: around("homelab-backups"),
    set: (s, _n, v) => (s.backup.vault.name = v),
  },
  {
    field: "backup.vault.region",
    valid: "eu-central-1",
    argument: true,
    value: around("eu-central-1"),
    set: (s, _n, v) => (s.backup.vault.region = v),
  },
  {
    field: "backup.borg.classes[0].schedule",
    valid: "*-*-* 03:00:00",
    argument: false,
    value: around("*-*-* 03:00:00"),
    set: (s, _n, v) => (s.backup.borg.classes[0].schedule = v),
  },
  {
    field: "stacks[2].services[2].volumes[0].hostPath",
    valid: "/srv",
    argument: true,
    value: around("/srv"),
    set: (s, _n, v) => (s.stacks[2].services[2].volumes[0].hostPath = v),
  },
];

// Read and resolved once: each sample only clones and mutates the parsed config.
const STORAGE = storageFile();
const NETWORK = networkFile();
const REFERENCE_CONTRACT = toContract(resolveNetwork(rawOf(NETWORK), allSecretsSet));

export function modelFor(t: Target, v: string): StorageModel | undefined {
  const storage = rawOf(STORAGE) as Raw;
  const network = t.field.startsWith("networkNode.") ? (rawOf(NETWORK) as Raw) : undefined;
  t.set(storage, network ?? {}, v);
  try {
    const contract = network ? toContract(resolveNetwork(network, allSecretsSet)) : REFERENCE_CONTRACT;
    const model = resolveStorage(storage, allSecretsSet, contract);
    if (preflight(model).length > 0) return undefined;
    return model;
  } catch (e) {
    if (e instanceof ConfigError) return undefined;
    throw e;
  }
}

/** What the schema and preflight made of the samples, so a test can check both verdicts occurred. */
export interface Verdicts {
  accepted: number;
  rejected: number;
}

/**
 * Asserts the property for one target: the classics (alone and in front of the valid value) and
 * `random.numRuns` random strings on top, from `random.seed`. With `parse`, bash also parses every script
 * that holds an accepted value (`bash -n`).
 */
export function assertNoInjection(
  t: Target,
  verdicts: Verdicts,
  opts: { random: { numRuns: number; seed?: number }; parse: boolean },
): void {
  const examples = CLASSICS.flatMap((c) => [[c], [`${c}${t.valid}`]] as [string][]);
  fc.assert(
    fc.property(t.value, (v) => {
      const model = modelFor(t, v);
      if (!model) {
        verdicts.rejected++;
        return; // the schema (or preflight) refused it, with a config path
      }
      verdicts.accepted++;
      // An accepted value never starts an argument with "-": it could only be read as an option.
      if (t.argument) expect(v.startsWith("-")).toBe(false);
      const { scripts, units } = shellArtifacts(model);
      // Either the value needs no quoting at all, or every occurrence is quoted (or in a comment).
      if (!SHELL_SAFE.test(v))
        for (const s of scripts) expect({ v, literal: onlyLiteral(s, v) }).toEqual({ v, literal: true });
      // systemd unit lines have no quoting: a value there is one printable line without specifiers.
      if (units.some((u) => u.includes(v)))
        expect({ v, unitSafe: !hasControlCharacter(v) && !/[%\\]/.test(v) }).toEqual({ v, unitSafe: true });
      if (opts.parse && !SHELL_SAFE.test(v))
        expect(syntaxErrors(scripts.filter((s) => s.includes(v)))).toEqual([]);
    }),
    // Examples count towards numRuns: the random samples come on top of them.
    { ...opts.random, numRuns: examples.length + opts.random.numRuns, examples },
  );
}
