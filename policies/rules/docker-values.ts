/**
 * How the Docker engine reads capability names and `user` values, so the container policies compare
 * what the engine will do rather than how a value is spelt. Checked against the real engine in
 * tests/policies/docker-engine.integration.test.ts. Upstream files read at moby/moby b985e2313a (docker-v29.7.2+),
 * whose behaviour here matches Debian's docker.io 20.10 that the engine test runs.
 */

/**
 * Docker's default capability set (moby/moby daemon/pkg/oci/caps/defaults.go, DefaultCapabilities): what
 * a container may add back after dropping ALL. SYS_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO,
 * DAC_READ_SEARCH, NET_ADMIN, BPF, PERFMON, SYS_TIME and the rest of the kernel's list are outside it.
 */
export const DOCKER_DEFAULT_CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FSETID",
  "FOWNER",
  "MKNOD",
  "NET_RAW",
  "SETGID",
  "SETUID",
  "SETFCAP",
  "SETPCAP",
  "NET_BIND_SERVICE",
  "SYS_CHROOT",
  "KILL",
  "AUDIT_WRITE",
];

/** Every capability Docker knows (containerd pkg/cap/cap_linux.go, vendored by moby); others are refused. */
export const KNOWN_CAPABILITIES = new Set(
  [
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE",
    "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT",
    "SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE",
    "AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ",
    "PERFMON BPF CHECKPOINT_RESTORE",
  ]
    .join(" ")
    .split(" ")
    .map((c) => `CAP_${c}`),
);

/**
 * A capability as Docker reads it (moby daemon/pkg/oci/caps/utils.go, NormalizeLegacyCapabilities):
 * upper-cased, "ALL" kept as is, otherwise CAP_-prefixed. No trimming: " NET_RAW" is refused.
 */
export const normalizeCapability = (c: string): string => {
  const up = c.toUpperCase();
  return up === "ALL" || up.startsWith("CAP_") ? up : `CAP_${up}`;
};

export type ParsedUser =
  | { kind: "unset" }
  | { kind: "invalid" }
  | { kind: "root" }
  | { kind: "name"; name: string }
  | { kind: "uid"; uid: bigint };

const MAX_ID = 2n ** 31n - 1n;
/** strconv.Atoi: an optional sign and decimal digits. */
const goInt = (s: string): bigint | undefined => (/^[+-]?[0-9]+$/.test(s) ? BigInt(s) : undefined);
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;

/**
 * A `user` value as Docker resolves it (moby/sys/user GetExecUser, used by moby daemon/oci_linux.go
 * getUser): "user[:group]", split on ':' with further parts ignored; a part Atoi accepts is an id and
 * must be 0..2^31-1; an empty user part keeps uid 0. A name is looked up in the image's /etc/passwd.
 */
export function parseUser(spec: string | undefined): ParsedUser {
  if (spec === undefined || spec === "") return { kind: "unset" };
  const [user = "", group = ""] = spec.split(":");
  const validPart = (p: string) => {
    const n = goInt(p);
    return n !== undefined ? n >= 0n && n <= MAX_ID : p === "" || NAME.test(p);
  };
  if (!validPart(user) || !validPart(group)) return { kind: "invalid" };
  if (user === "" || user === "root") return { kind: "root" };
  const uid = goInt(user);
  if (uid === undefined) return { kind: "name", name: user };
  return uid === 0n ? { kind: "root" } : { kind: "uid", uid };
}
