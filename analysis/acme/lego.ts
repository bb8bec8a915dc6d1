/**
 * The lego command lines of the renewal job. Facts from go-acme/lego at tag v4.9.1 (Debian bookworm's
 * `lego` 4.9.1-1), each naming its file:
 *
 * - cmd/flags.go: global flags --server, --email, --accept-tos, --path, --key-type, --dns,
 *   --dns.resolvers (host:port, repeatable), --dns.disable-cp, -d/--domains (repeatable).
 * - cmd/cmd_run.go: `run` registers the account if needed and obtains a certificate.
 * - cmd/cmd_renew.go: `renew` needs an existing certificate ("Error while loading the certificate" is
 *   fatal otherwise), renews when `days left <= --days` (needRenewal), and sleeps up to 8 minutes at
 *   random when stdout is not a terminal unless --no-random-sleep (the timer randomizes instead).
 * - cmd/certs_storage.go: certificates live in <path>/certificates/<first domain>.crt and .key, the
 *   domain sanitized by replacing "*" with "_"; with bundling (the default) the .crt holds the leaf and
 *   the issuer chain.
 */

export interface LegoOptions {
  server: string;
  email: string;
  domains: string[];
  dnsProvider: string;
  resolvers: string[];
  disableCompletePropagation: boolean;
  keyType: string;
  /** lego --path: account key and certificates. */
  stateDir: string;
}

/** What lego calls the files of a certificate (cmd/certs_storage.go sanitizedDomain). */
export const legoFileStem = (firstDomain: string): string => firstDomain.replace(/\*/g, "_");

export function legoGlobalArgs(o: LegoOptions): string[] {
  if (o.domains.length === 0) throw new Error("lego needs at least one domain");
  return [
    "--server",
    o.server,
    "--email",
    o.email,
    "--accept-tos",
    "--path",
    o.stateDir,
    "--key-type",
    o.keyType,
    "--dns",
    o.dnsProvider,
    ...o.resolvers.flatMap((r) => ["--dns.resolvers", r]),
    ...(o.disableCompletePropagation ? ["--dns.disable-cp"] : []),
    ...o.domains.flatMap((d) => ["--domains", d]),
  ];
}

/** `renew --days N` renews when at most N days remain: a value above any lifetime forces a renewal. */
export const FORCE_DAYS = 100000;
