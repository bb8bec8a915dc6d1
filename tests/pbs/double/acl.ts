/**
 * Roles, privileges and the ACL tree of the PBS double, after proxmox/proxmox-rs f3305009 pbs-api-types
 * src/acl.rs (PRIVILEGES, ROLE_* bitmaps) and proxmox/proxmox-backup bc863d45e pbs-config src/acl.rs
 * (AclTree::roles walks root to leaf, only propagated roles count above the leaf, a deeper node's
 * roles replace the ones above, NoAccess clears; insert_user_role adds a role, NoAccess replaces all)
 * and src/cached_user_info.rs (root@pam, not its tokens, is superuser; a token's privileges are
 * intersected with its user's; check_privs' "missing permissions" message).
 */
import { ApiError } from "./schema";

export type Priv =
  | "Sys.Audit"
  | "Sys.Modify"
  | "Sys.PowerManagement"
  | "Datastore.Audit"
  | "Datastore.Allocate"
  | "Datastore.Modify"
  | "Datastore.Read"
  | "Datastore.Verify"
  | "Datastore.Backup"
  | "Datastore.Prune"
  | "Permissions.Modify"
  | "Remote.Audit"
  | "Remote.Modify"
  | "Remote.Read"
  | "Remote.DatastoreBackup"
  | "Remote.DatastoreModify"
  | "Remote.DatastorePrune"
  | "Sys.Console"
  | "Tape.Audit"
  | "Tape.Modify"
  | "Tape.Write"
  | "Tape.Read"
  | "Realm.Allocate";

/** PRIVILEGES in declaration order (privs_to_priv_names lists them in this order). */
export const ALL_PRIVS: Priv[] = [
  "Sys.Audit",
  "Sys.Modify",
  "Sys.PowerManagement",
  "Datastore.Audit",
  "Datastore.Allocate",
  "Datastore.Modify",
  "Datastore.Read",
  "Datastore.Verify",
  "Datastore.Backup",
  "Datastore.Prune",
  "Permissions.Modify",
  "Remote.Audit",
  "Remote.Modify",
  "Remote.Read",
  "Remote.DatastoreBackup",
  "Remote.DatastoreModify",
  "Remote.DatastorePrune",
  "Sys.Console",
  "Tape.Audit",
  "Tape.Modify",
  "Tape.Write",
  "Tape.Read",
  "Realm.Allocate",
];

export const ROLE_PRIVS: Record<string, Priv[]> = {
  Admin: ALL_PRIVS,
  Audit: ["Sys.Audit", "Datastore.Audit"],
  NoAccess: [],
  DatastoreAdmin: [
    "Datastore.Audit",
    "Datastore.Modify",
    "Datastore.Read",
    "Datastore.Verify",
    "Datastore.Backup",
    "Datastore.Prune",
  ],
  DatastoreReader: ["Datastore.Audit", "Datastore.Verify", "Datastore.Read"],
  DatastoreBackup: ["Datastore.Backup"],
  DatastorePowerUser: ["Datastore.Prune", "Datastore.Backup"],
  DatastoreAudit: ["Datastore.Audit"],
  RemoteAudit: ["Remote.Audit"],
  RemoteAdmin: ["Remote.Audit", "Remote.Modify", "Remote.Read"],
  RemoteSyncOperator: ["Remote.Audit", "Remote.Read"],
  RemoteSyncPushOperator: ["Remote.Audit", "Remote.DatastoreBackup"],
  RemoteDatastorePowerUser: ["Remote.Audit", "Remote.DatastoreBackup", "Remote.DatastorePrune"],
  RemoteDatastoreAdmin: [
    "Remote.Audit",
    "Remote.DatastoreBackup",
    "Remote.DatastoreModify",
    "Remote.DatastorePrune",
  ],
  TapeAudit: ["Tape.Audit"],
  TapeAdmin: ["Tape.Audit", "Tape.Modify", "Tape.Read", "Tape.Write"],
  TapeOperator: ["Tape.Audit", "Tape.Read", "Tape.Write"],
  TapeReader: ["Tape.Audit", "Tape.Read"],
};

interface Node {
  /** auth id -> role -> propagate */
  users: Map<string, Map<string, boolean>>;
  children: Map<string, Node>;
}
const newNode = (): Node => ({ users: new Map(), children: new Map() });

export const splitPath = (path: string): string[] => path.split("/").filter((c) => c !== "");
const isToken = (authId: string) => authId.includes("!");
const userOf = (authId: string) => authId.split("!")[0]!;

export class AclTree {
  root = newNode();

  private node(path: string, create: boolean): Node | undefined {
    let n = this.root;
    for (const c of splitPath(path)) {
      let next = n.children.get(c);
      if (!next) {
        if (!create) return undefined;
        next = newNode();
        n.children.set(c, next);
      }
      n = next;
    }
    return n;
  }

  insert(path: string, authId: string, role: string, propagate: boolean): void {
    const n = this.node(path, true)!;
    const map = n.users.get(authId) ?? new Map<string, boolean>();
    if (role === "NoAccess") map.clear();
    else map.delete("NoAccess");
    map.set(role, propagate);
    n.users.set(authId, map);
  }

  remove(path: string, authId: string, role: string): void {
    const map = this.node(path, false)?.users.get(authId);
    map?.delete(role);
    if (map?.size === 0) this.node(path, false)?.users.delete(authId);
  }

  /** Removes every entry of an auth id (do_delete_token / delete_user clean-up). */
  removeAuthId(authId: string, n: Node = this.root): void {
    n.users.delete(authId);
    for (const c of n.children.values()) this.removeAuthId(authId, c);
  }

  /** Drops a whole subtree (delete_datastore: tree.delete_node("/datastore/<name>")). */
  deleteNode(path: string): void {
    const parts = splitPath(path);
    const last = parts.pop();
    if (last === undefined) return;
    this.node(parts.join("/"), false)?.children.delete(last);
  }

  private extract(n: Node, authId: string, leaf: boolean): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const [role, propagate] of n.users.get(authId) ?? []) {
      if (!propagate && !leaf) continue;
      if (role === "NoAccess") return new Map([["NoAccess", false]]);
      out.set(role, propagate);
    }
    return out;
  }

  roles(authId: string, path: string[]): Map<string, boolean> {
    let n: Node = this.root;
    let map = this.extract(n, authId, path.length === 0);
    for (let i = 0; i < path.length; i++) {
      const next = n.children.get(path[i]!);
      if (!next) return map;
      n = next;
      const m = this.extract(n, authId, i === path.length - 1);
      if (m.size > 0) map = m;
    }
    return map;
  }

  /** (privileges, propagated privileges) as lookup_privs_details computes them. */
  privsDetails(authId: string, path: string[]): [Set<Priv>, Set<Priv>] {
    if (authId === "root@pam") return [new Set(ALL_PRIVS), new Set(ALL_PRIVS)];
    const privs = new Set<Priv>();
    const propagated = new Set<Priv>();
    for (const [role, propagate] of this.roles(authId, path))
      for (const p of ROLE_PRIVS[role] ?? []) {
        privs.add(p);
        if (propagate) propagated.add(p);
      }
    if (isToken(authId)) {
      const [u, up] = this.privsDetails(userOf(authId), path);
      for (const p of [...privs]) if (!u.has(p)) privs.delete(p);
      for (const p of [...propagated]) if (!up.has(p)) propagated.delete(p);
    }
    return [privs, propagated];
  }

  privs(authId: string, path: string[]): Set<Priv> {
    return this.privsDetails(authId, path)[0];
  }

  has(authId: string, path: string[], required: Priv[], partial: boolean): boolean {
    const p = this.privs(authId, path);
    return partial ? required.some((r) => p.has(r)) : required.every((r) => p.has(r));
  }

  /** CachedUserInfo::check_privs: a plain error (400) naming the missing privileges. */
  check(authId: string, path: string[], required: Priv[], partial: boolean): void {
    if (this.has(authId, path, required, partial)) return;
    const names = ALL_PRIVS.filter((p) => required.includes(p)).join(partial ? "|" : "&");
    throw new ApiError(400, `missing permissions '${names}' on '/${path.join("/")}'`);
  }

  /** Entries for read_acl: path, ugid, ugid_type, propagate, roleid. */
  list(path: string | undefined, exact: boolean, filterUser?: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    const walk = (n: Node, p: string) => {
      for (const [authId, roles] of n.users) {
        if (filterUser !== undefined && (!isToken(authId) || userOf(authId) !== filterUser)) continue;
        for (const [role, propagate] of roles)
          out.push({ path: p === "" ? "/" : p, ugid: authId, ugid_type: "user", propagate, roleid: role });
      }
      if (exact) return;
      for (const [c, child] of n.children) walk(child, `${p}/${c}`);
    };
    const start = path === undefined ? this.root : this.node(path, false);
    if (start) walk(start, path === undefined || path === "/" ? "" : path);
    return out;
  }
}
