import { z } from "zod";
import { parseCidr, parseIpv4 } from "./net";

/** Names become resource names, DNS labels and firewall aliases: keep them to the safe common subset. */
export const name = z
  .string()
  .regex(
    /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
    "must be lowercase letters, digits and '-', starting with a letter and not ending with '-' (max 63)",
  );

export const port = z
  .number()
  .int("must be a whole number")
  .min(1, "must be a port between 1 and 65535")
  .max(65535, "must be a port between 1 and 65535");

/** A port or an inclusive range "from-to", as firewall port aliases take them. */
export const portSpec = z.union([
  port,
  z
    .string()
    .regex(/^\d+-\d+$/, "must be a port number or a range like 8000-8010")
    .refine((s) => {
      const [a, b] = s.split("-").map(Number) as [number, number];
      return a >= 1 && b <= 65535 && a <= b;
    }, "must be a range of ports between 1 and 65535 with from <= to"),
]);
export type PortSpec = z.infer<typeof portSpec>;

export const protocol = z.enum(["tcp", "udp"]);
export type Protocol = z.infer<typeof protocol>;

export const cidr = z.string().superRefine((s, ctx) => {
  const r = parseCidr(s);
  if ("error" in r) ctx.addIssue({ code: "custom", message: r.error });
});

export const ipv4 = z
  .string()
  .refine((s) => parseIpv4(s) !== undefined, { message: "is not an IPv4 address" });

export const fqdn = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "is not a lowercase DNS name");

/**
 * A secret is never a value in config: it is the name of another config key that the user sets with
 * `pulumi config set --secret <key>`. Keeping the indirection lets the loader prove every secret exists
 * and is encrypted before any resource is touched.
 */
export const secretRef = z.strictObject({
  secret: z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/, "must be a config key name like immichDbPassword"),
});
export type SecretRef = z.infer<typeof secretRef>;

export const isSecretRef = (v: unknown): v is SecretRef =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as { secret?: unknown }).secret === "string" &&
  Object.keys(v).length === 1;

/** "512M", "2G": quota and memory sizes as ZFS and Compose write them. */
export const size = z.string().regex(/^\d+(\.\d+)?[KMGT]$/, "must be a size like 512M or 2G");
export const sizeToBytes = (s: string): number => {
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[s.slice(-1) as "K" | "M" | "G" | "T"];
  return Math.round(Number(s.slice(0, -1)) * unit);
};

/**
 * A login name that reaches `ssh user@host` inside the Borg pull job and the SSH connection of every
 * remote command: Debian's adduser NAME_REGEX (/etc/adduser.conf: ^[a-z][-a-z0-9_]*$, without the
 * trailing `$` of machine accounts), at most 32 characters (useradd's limit). Never starts with "-", so
 * it can never be read as an ssh option.
 */
export const unixUser = z
  .string()
  .regex(
    /^[a-z][-a-z0-9_]{0,31}$/,
    "must be a login name like deploy (lowercase letters, digits, '-' and '_', starting with a letter)",
  );

/** C0 control characters and DEL: a newline in a value is how one line of a file becomes two. */
export const hasControlCharacter = (s: string): boolean =>
  [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Text that becomes a description on a device or in a file: one line, printable, bounded. */
export const text = (max = 255) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !hasControlCharacter(s), "must be one line without control characters");

const hasDotSegment = (p: string) => p.split("/").some((s) => s === "." || s === "..");

/** One message per path, the first rule it breaks. */
const pathRule = (check: (p: string) => string | undefined) =>
  z.string().superRefine((p, ctx) => {
    const problem = check(p);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });

const commonPathProblem = (p: string): string | undefined =>
  hasControlCharacter(p)
    ? "must not contain control characters"
    : /[\s:]/.test(p)
      ? "must not contain ':' (Compose's volume separator) or blanks"
      : hasDotSegment(p) || p.includes("//")
        ? "must be a normalized path: no '.', '..' or '//'"
        : undefined;

/**
 * An absolute path that means what it says: normalized (no `.`/`..` segments, no `//`, no trailing
 * `/`), no `:` (Compose's short volume syntax splits on it), no control characters or blanks.
 */
export const absolutePath = pathRule((p) =>
  !p.startsWith("/")
    ? "must be an absolute path"
    : (commonPathProblem(p) ?? (p !== "/" && p.endsWith("/") ? "must not end with '/'" : undefined)),
);

/** A path below a dataset or host path: relative, normalized, never climbing out with `..`. */
export const subPath = pathRule((p) =>
  p === ""
    ? undefined
    : p.startsWith("/")
      ? "must be a relative path below the volume's root"
      : hasDotSegment(p)
        ? "must stay inside its volume: no '.' or '..'"
        : (commonPathProblem(p) ?? (p.endsWith("/") ? "must not end with '/'" : undefined)),
);

/** An environment variable name as Compose and a POSIX shell take it. */
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

// distribution/reference regexp.go (ReferenceRegexp): [domain[:port]/]path[:tag][@digest].
const ALNUM = "[a-z0-9]+";
const PATH_COMPONENT = `${ALNUM}(?:(?:[._]|__|[-]+)${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/** An image reference Docker accepts (≤ 255 characters), or a local image id `sha256:<64 hex>`. */
export const imageRef = z
  .string({ error: "every service needs an image (e.g. ghcr.io/org/app:1.2.3)" })
  .min(1, "every service needs an image")
  .max(255, "an image reference is at most 255 characters")
  .refine((s) => REFERENCE.test(s) || /^sha256:[a-f0-9]{64}$/.test(s), {
    message:
      "is not an image reference like ghcr.io/org/app:1.2.3 (lowercase repository, optional :tag and @sha256:digest)",
  });

/** An https:// URL (API credentials travel over it). */
export const httpsUrl = z
  .string()
  .url()
  .refine((u) => u.startsWith("https://"), "must be an https:// URL: API credentials travel over it");
