import { z } from "zod";
import { parseCidr, parseIpv4 } from "./net";

/** Names become resource names, DNS labels and firewall aliases: keep them to the safe common subset. */
export const name = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    "must be lowercase letters, digits and '-', starting with a letter (max 63)",
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
