import { posix } from "node:path";
import type { ComposeService, ComposeStackConfig, ConfigIssue, Dataset } from "../../model";
import { formatPath } from "../../model";

/**
 * Who owns each dataset's mountpoint, derived from the compose services that mount it. ZFS creates
 * mountpoints root:root 0755, so a service running as its image's non-root uid (postgres 999,
 * prometheus 65534, grafana 472, …) could not write its own data until the owner is set.
 *
 * - The owner is the uid:gid of the service that mounts the dataset read-write (the `user` its preset
 *   declares; root for a service with a rootReason). Two writers with different users are a config
 *   error: a directory has one owner.
 * - A dataset only mounted read-only (e.g. the ingress proxy's rendered config) is owned by its reader.
 * - Mode 0750 (only the owner, and its group, may enter), 0755 when another uid mounts it read-only.
 * - A dataset no service mounts keeps ZFS's root:root 0755.
 */
export interface DatasetAccess {
  owner: string;
  mode: "0750" | "0755";
  /** "stack/service" of every read-write mount. */
  writers: string[];
  /** "stack/service" of every read-only mount. */
  readers: string[];
}

export const ROOT_OWNER = "0:0";

/**
 * Who owns what a service writes: its `runAs` (images that start as root and drop privileges write as
 * the user they drop to: model/presets.ts), else its `user` as the kernel sees it (`user: "1000"` means
 * gid 1000 too), else root.
 */
export function serviceOwner(svc: Pick<ComposeService, "user" | "runAs">): string {
  if (svc.runAs) return `${svc.runAs.uid}:${svc.runAs.gid}`;
  if (svc.user === undefined) return ROOT_OWNER;
  const [uid, gid] = svc.user.split(":");
  if (!uid || !/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid)))
    // A user name needs the image's /etc/passwd; datasets need numbers to chown before the image runs.
    return `unresolved:${svc.user}`;
  return `${uid}:${gid ?? uid}`;
}

export function datasetAccess(
  datasets: Dataset[],
  stacks: ComposeStackConfig[],
): { access: Map<string, DatasetAccess>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const mounts = new Map<string, { who: string; owner: string; rw: boolean; path: PropertyKey[] }[]>();
  stacks.forEach((st, si) =>
    st.services.forEach((svc, vi) =>
      svc.volumes.forEach((v, i) => {
        if (v.dataset === undefined) return;
        const path = ["stacks", si, "services", vi, "volumes", i, "dataset"];
        const owner = serviceOwner(svc);
        if (owner.startsWith("unresolved:"))
          issues.push({
            path: formatPath(["stacks", si, "services", vi, "user"]),
            message: `"${svc.user}" must be numeric uid:gid so the dataset ${v.dataset} can be given to it before the container starts`,
          });
        const list = mounts.get(v.dataset) ?? [];
        list.push({ who: `${st.name}/${svc.name}`, owner, rw: !v.readOnly, path });
        mounts.set(v.dataset, list);
      }),
    ),
  );
  const access = new Map<string, DatasetAccess>();
  for (const d of datasets) {
    const list = mounts.get(d.name) ?? [];
    const writers = list.filter((m) => m.rw);
    const owners = new Set(writers.map((m) => m.owner));
    if (owners.size > 1) {
      const second = writers.find((m) => m.owner !== writers[0]!.owner)!;
      issues.push({
        path: formatPath(second.path),
        message: `${d.name} is written by ${writers.map((w) => `${w.who} (${w.owner})`).join(" and ")}; a dataset has one owner: run them as the same user or give each its own dataset`,
      });
    }
    const owner = writers[0]?.owner ?? list[0]?.owner ?? ROOT_OWNER;
    const othersRead = list.some((m) => m.owner !== owner);
    access.set(d.name, {
      owner,
      mode: list.length === 0 || othersRead ? "0755" : "0750",
      writers: writers.map((w) => w.who),
      readers: list.filter((m) => !m.rw).map((m) => m.who),
    });
  }
  return { access, issues };
}

/** How a file the deployer writes for a stack is owned: by the one service that reads it. */
export interface FileAccess {
  mode: "0600" | "0640" | "0644";
  owner: string;
}

/**
 * Files under a service's mount (a hostPath or a dataset mountpoint): a file holding a key is 0600 and
 * owned by the reading service (0640 root:<gid> when several services of one group read it); any other
 * file is root:root 0644. Files no service mounts are written root:root with the same rule.
 */
export function fileAccess(
  stack: ComposeStackConfig,
  files: string[],
  sensitive: ReadonlySet<string>,
  datasetMount: (dataset: string) => string,
): Record<string, FileAccess> {
  const out: Record<string, FileAccess> = {};
  for (const file of files) {
    if (!posix.isAbsolute(file)) continue;
    const readers = new Set<string>();
    for (const svc of stack.services)
      for (const v of svc.volumes) {
        const base =
          v.dataset !== undefined
            ? datasetMount(v.dataset)
            : v.hostPath !== undefined
              ? v.hostPath
              : undefined;
        if (base === undefined) continue;
        const m = posix.join(base, v.subPath);
        if (file === m || file.startsWith(m.endsWith("/") ? m : `${m}/`)) readers.add(serviceOwner(svc));
      }
    if (!sensitive.has(file)) {
      out[file] = { mode: "0644", owner: ROOT_OWNER };
      continue;
    }
    const list = [...readers];
    if (list.length <= 1) out[file] = { mode: "0600", owner: list[0] ?? ROOT_OWNER };
    else {
      const gids = new Set(list.map((o) => o.split(":")[1]));
      if (gids.size !== 1)
        throw new Error(
          `${file} holds a key and is read by ${list.join(", ")}: no single owner or group can be given access; mount it into one service only`,
        );
      out[file] = { mode: "0640", owner: `0:${[...gids][0]}` };
    }
  }
  return out;
}
