import { z } from "zod";
import { fqdn, secretRef } from "./common";
import type { IssueList } from "./errors";
import { suggest } from "./errors";

/**
 * The ingress certificate: issued and renewed by ACME with a DNS-01 challenge (the default), or a static
 * certificate pasted in as two secrets (the explicit opt-out, renewed by hand).
 *
 * The ACME client is Debian's `lego` (bookworm: 4.9.1). The facts below come from go-acme/lego at tag
 * v4.9.1; each names its file.
 */

/** Key types lego accepts for `--key-type` (go-acme/lego v4.9.1 cmd/setup.go getKeyType). */
export const ACME_KEY_TYPES = ["ec256", "ec384", "rsa2048", "rsa4096", "rsa8192"] as const;

/**
 * Every DNS provider code lego 4.9.1 knows (the `case` labels of go-acme/lego v4.9.1
 * providers/dns/dns_providers.go, aliases included). `manual` is left out: it waits for a human.
 */
export const LEGO_DNS_PROVIDERS = [
  "acme-dns", "alidns", "allinkl", "arvancloud", "azure", "auroradns", "autodns", "bindman", "bluecat",
  "checkdomain", "civo", "clouddns", "cloudflare", "cloudns", "cloudxns", "conoha", "constellix", "desec",
  "designate", "digitalocean", "dnsimple", "dnsmadeeasy", "dnspod", "dode", "domeneshop", "domainnameshop",
  "dreamhost", "duckdns", "dyn", "dynu", "easydns", "edgedns", "fastdns", "epik", "exec", "exoscale",
  "freemyip", "gandi", "gandiv5", "gcloud", "gcore", "glesys", "godaddy", "hetzner", "hostingde", "hosttech",
  "httpreq", "hurricane", "hyperone", "ibmcloud", "iij", "iijdpf", "infoblox", "infomaniak", "internetbs",
  "inwx", "ionos", "iwantmyname", "joker", "lightsail", "linode", "linodev4", "liquidweb", "luadns", "loopia",
  "mydnsjp", "mythicbeasts", "namecheap", "namedotcom", "namesilo", "nearlyfreespeech", "netcup", "netlify",
  "nicmanager", "nifcloud", "njalla", "ns1", "oraclecloud", "otc", "ovh", "pdns", "porkbun", "rackspace",
  "regru", "rfc2136", "rimuhosting", "route53", "safedns", "sakuracloud", "scaleway", "selectel", "servercow",
  "simply", "sonic", "stackpath", "tencentcloud", "transip", "variomedia", "vegadns", "vercel", "versio",
  "vinyldns", "vkcloud", "vultr", "vscale", "wedos", "yandex", "yandexcloud", "zoneee", "zonomi",
] as const; // prettier-ignore

/**
 * The environment variables of common providers, transcribed from go-acme/lego v4.9.1
 * providers/dns/<code>/<code>.toml ([Configuration.Credentials] and [Configuration.Additional]); exec's
 * from providers/dns/exec/exec.go (its toml has no configuration section). `secret` are the ones that
 * authenticate (API keys, tokens, passwords, TSIG secrets); they must come from Pulumi secrets. `anyOf`:
 * at least one of these must be set or lego stops with "some credentials information are missing".
 */
interface ProviderVars {
  secret: string[];
  plain: string[];
  anyOf: string[];
}
const timing = (p: string, extra: string[] = []) => [
  `${p}_POLLING_INTERVAL`,
  `${p}_PROPAGATION_TIMEOUT`,
  `${p}_TTL`,
  `${p}_HTTP_TIMEOUT`,
  ...extra,
];
export const LEGO_PROVIDER_VARS: Record<string, ProviderVars> = {
  cloudflare: {
    secret: [
      "CF_API_KEY",
      "CF_DNS_API_TOKEN",
      "CF_ZONE_API_TOKEN",
      "CLOUDFLARE_API_KEY",
      "CLOUDFLARE_DNS_API_TOKEN",
      "CLOUDFLARE_ZONE_API_TOKEN",
    ],
    plain: ["CF_API_EMAIL", "CLOUDFLARE_EMAIL", ...timing("CLOUDFLARE")],
    anyOf: ["CF_DNS_API_TOKEN", "CLOUDFLARE_DNS_API_TOKEN", "CF_API_KEY", "CLOUDFLARE_API_KEY"],
  },
  route53: {
    secret: ["AWS_SECRET_ACCESS_KEY"],
    plain: [
      "AWS_ACCESS_KEY_ID",
      "AWS_REGION",
      "AWS_HOSTED_ZONE_ID",
      "AWS_PROFILE",
      "AWS_SDK_LOAD_CONFIG",
      "AWS_ASSUME_ROLE_ARN",
      "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_MAX_RETRIES",
      "AWS_POLLING_INTERVAL",
      "AWS_PROPAGATION_TIMEOUT",
      "AWS_TTL",
    ],
    anyOf: ["AWS_SECRET_ACCESS_KEY"],
  },
  digitalocean: {
    secret: ["DO_AUTH_TOKEN"],
    plain: ["DO_API_URL", ...timing("DO")],
    anyOf: ["DO_AUTH_TOKEN"],
  },
  hetzner: { secret: ["HETZNER_API_KEY"], plain: timing("HETZNER"), anyOf: ["HETZNER_API_KEY"] },
  desec: { secret: ["DESEC_TOKEN"], plain: timing("DESEC"), anyOf: ["DESEC_TOKEN"] },
  gandiv5: { secret: ["GANDIV5_API_KEY"], plain: timing("GANDIV5"), anyOf: ["GANDIV5_API_KEY"] },
  ovh: {
    secret: ["OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"],
    plain: ["OVH_ENDPOINT", "OVH_APPLICATION_KEY", ...timing("OVH")],
    anyOf: ["OVH_APPLICATION_SECRET"],
  },
  porkbun: {
    secret: ["PORKBUN_SECRET_API_KEY", "PORKBUN_API_KEY"],
    plain: timing("PORKBUN"),
    anyOf: ["PORKBUN_SECRET_API_KEY"],
  },
  duckdns: {
    secret: ["DUCKDNS_TOKEN"],
    plain: timing("DUCKDNS", ["DUCKDNS_SEQUENCE_INTERVAL"]),
    anyOf: ["DUCKDNS_TOKEN"],
  },
  rfc2136: {
    secret: ["RFC2136_TSIG_SECRET"],
    plain: [
      "RFC2136_TSIG_KEY",
      "RFC2136_TSIG_ALGORITHM",
      "RFC2136_NAMESERVER",
      "RFC2136_POLLING_INTERVAL",
      "RFC2136_PROPAGATION_TIMEOUT",
      "RFC2136_TTL",
      "RFC2136_DNS_TIMEOUT",
      "RFC2136_SEQUENCE_INTERVAL",
    ],
    anyOf: ["RFC2136_NAMESERVER"],
  },
  httpreq: {
    secret: ["HTTPREQ_PASSWORD"],
    plain: [
      "HTTPREQ_MODE",
      "HTTPREQ_ENDPOINT",
      "HTTPREQ_USERNAME",
      "HTTPREQ_POLLING_INTERVAL",
      "HTTPREQ_PROPAGATION_TIMEOUT",
      "HTTPREQ_HTTP_TIMEOUT",
    ],
    anyOf: ["HTTPREQ_ENDPOINT"],
  },
  exec: {
    secret: [],
    plain: [
      "EXEC_PATH",
      "EXEC_MODE",
      "EXEC_PROPAGATION_TIMEOUT",
      "EXEC_POLLING_INTERVAL",
      "EXEC_SEQUENCE_INTERVAL",
    ],
    anyOf: ["EXEC_PATH"],
  },
  pdns: {
    secret: ["PDNS_API_KEY"],
    plain: ["PDNS_API_URL", "PDNS_SERVER_NAME", ...timing("PDNS")],
    anyOf: ["PDNS_API_KEY"],
  },
  godaddy: {
    secret: ["GODADDY_API_KEY", "GODADDY_API_SECRET"],
    plain: timing("GODADDY"),
    anyOf: ["GODADDY_API_SECRET"],
  },
  ionos: { secret: ["IONOS_API_KEY"], plain: timing("IONOS"), anyOf: ["IONOS_API_KEY"] },
  linode: { secret: ["LINODE_TOKEN"], plain: timing("LINODE"), anyOf: ["LINODE_TOKEN"] },
  namecheap: {
    secret: ["NAMECHEAP_API_KEY"],
    plain: ["NAMECHEAP_API_USER", "NAMECHEAP_SANDBOX", ...timing("NAMECHEAP")],
    anyOf: ["NAMECHEAP_API_KEY"],
  },
};

/**
 * Variables lego itself reads whatever the provider (go-acme/lego v4.9.1 lego/client_config.go): the CA's
 * certificates (a private ACME CA such as step-ca, or a test CA), whether the system pool is added to
 * them, and the server name to verify. Settings, never credentials.
 */
export const LEGO_GLOBAL_VARS = ["LEGO_CA_CERTIFICATES", "LEGO_CA_SYSTEM_CERT_POOL", "LEGO_CA_SERVER_NAME"];

const envName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, "must be an environment variable name like CF_DNS_API_TOKEN");

/** host:port of a recursive resolver lego asks (`--dns.resolvers`, go-acme/lego v4.9.1 cmd/flags.go). */
const resolver = z
  .string()
  .regex(/^[A-Za-z0-9.:[\]-]+:\d{1,5}$/, "must be host:port of a DNS resolver, e.g. 1.1.1.1:53");

/** A systemd OnCalendar expression; the unit's `systemd-analyze calendar` check happens on the node. */
const onCalendar = z
  .string()
  .trim()
  .min(1)
  .regex(/^[A-Za-z0-9 *:,./~-]+$/, "must be a systemd OnCalendar expression like *-*-* 03,15:00:00");

export const acmeDnsProvider = z.strictObject({
  /** A lego DNS provider code (`lego dnshelp`), e.g. cloudflare, route53, hetzner, rfc2136. */
  name: z.string().min(1),
  /** Provider environment variables that authenticate (API token, key, TSIG secret): Pulumi secrets. */
  credentials: z.record(envName, secretRef).default({}),
  /** Provider environment variables that are not secret (region, zone id, endpoint, TTL). */
  settings: z.record(envName, z.string()).default({}),
});

export const acmeConfig = z.strictObject({
  /** Account contact for expiry and policy mail from the CA. */
  email: z.email("must be an email address for the ACME account"),
  /** The CA's ACME directory; Let's Encrypt production unless set (the staging CA is for trials). */
  server: z.url().default("https://acme-v02.api.letsencrypt.org/directory"),
  /** Names on the certificate; empty means the homelab domain and its wildcard. */
  domains: z.array(z.string()).default([]),
  /** The DNS provider lego answers the DNS-01 challenge through, and its credentials. */
  dnsProvider: acmeDnsProvider,
  /**
   * Recursive resolvers lego asks whether the TXT record is visible. Set public ones when the gateway's
   * resolver answers the homelab domain itself (split horizon): it would never see the provider's record.
   */
  resolvers: z.array(resolver).default([]),
  /** Skip the check that every authoritative name server has the record (some providers lag). */
  disableCompletePropagation: z.boolean().default(false),
  /** Renew when fewer days than this remain (lego renew --days; 30 is lego's own default). */
  renewDays: z.number().int().min(7).max(60).default(30),
  /** The certificate's key type (lego --key-type). */
  keyType: z.enum(ACME_KEY_TYPES).default("ec256"),
  /** When the renewal timer fires; twice a day so one failed run is retried within hours. */
  schedule: onCalendar.default("*-*-* 03,15:00:00"),
});

/**
 * `ingress.tls`: either `acme` (certificates issued and renewed on the network node) or `certificate` +
 * `key` (a static certificate: the explicit opt-out, renewed by hand).
 */
export const ingressTls = z
  .strictObject({
    /** Certificates issued and renewed on the network node through ACME with a DNS-01 challenge. */
    acme: acmeConfig.optional(),
    certificate: secretRef.optional(),
    key: secretRef.optional(),
  })
  .superRefine((t, ctx) => {
    const statik = t.certificate !== undefined || t.key !== undefined;
    if (t.acme !== undefined && statik)
      ctx.addIssue({
        code: "custom",
        message:
          "set either acme (automatic certificates) or certificate + key (a static certificate renewed by hand), not both",
      });
    else if (t.acme === undefined && !statik)
      ctx.addIssue({
        code: "custom",
        message:
          "set acme (automatic certificates through a DNS-01 challenge) or, to opt out, certificate + key secrets",
      });
    else if (statik && (t.certificate === undefined || t.key === undefined))
      ctx.addIssue({
        code: "custom",
        path: [t.certificate === undefined ? "certificate" : "key"],
        message: "a static certificate needs both certificate and key secrets",
      });
  });

export type AcmeConfig = z.output<typeof acmeConfig>;
export type IngressTls = z.output<typeof ingressTls>;

/** The names on the certificate: as configured, or the domain and its wildcard. */
export const acmeDomains = (acme: AcmeConfig, domain: string): string[] =>
  acme.domains.length > 0 ? acme.domains : [domain, `*.${domain}`];

/** Whether a certificate for `names` is valid for `host` (a wildcard covers exactly one label). */
export function covers(names: string[], host: string): boolean {
  return names.some((n) =>
    n.startsWith("*.")
      ? host.endsWith(n.slice(1)) && !host.slice(0, -n.length + 1).includes(".")
      : n === host,
  );
}

const dnsName = (s: string) => fqdn.safeParse(s).success;

/** Cross-checks of `ingress.tls.acme` against the routes; every problem names its config path. */
export function checkAcme(acme: AcmeConfig, domain: string, routeHosts: string[], issues: IssueList): void {
  const at = ["ingress", "tls", "acme"];
  acme.domains.forEach((d, i) => {
    const base = d.startsWith("*.") ? d.slice(2) : d;
    if (!dnsName(base))
      issues.add([...at, "domains", i], `"${d}" is not a DNS name (a wildcard is *.<name>)`);
  });
  const names = acmeDomains(acme, domain);
  for (const host of routeHosts)
    if (!covers(names, host))
      issues.add(
        [...at, "domains"],
        `the certificate (${names.join(", ")}) does not cover the route ${host}; add it or a wildcard`,
      );

  const p = acme.dnsProvider;
  const known = (LEGO_DNS_PROVIDERS as readonly string[]).includes(p.name);
  if (!known) {
    issues.add(
      [...at, "dnsProvider", "name"],
      `"${p.name}" is not a DNS provider of lego 4.9.1${suggest(
        p.name,
        LEGO_DNS_PROVIDERS.filter((n) => n.startsWith(p.name[0] ?? "")),
      )}; see \`lego dnshelp\``,
    );
    return;
  }
  for (const k of Object.keys(p.credentials))
    if (k in p.settings)
      issues.add([...at, "dnsProvider", "settings", k], `${k} is set in both credentials and settings`);
  const vars = LEGO_PROVIDER_VARS[p.name];
  if (!vars) return;
  const documented = [...vars.secret, ...vars.plain, ...LEGO_GLOBAL_VARS];
  for (const [where, keys] of [
    ["credentials", Object.keys(p.credentials)],
    ["settings", Object.keys(p.settings)],
  ] as const)
    for (const k of keys)
      if (!documented.includes(k))
        issues.add(
          [...at, "dnsProvider", where, k],
          `lego's ${p.name} provider does not read ${k}${suggest(k, documented)}`,
        );
  for (const k of Object.keys(p.settings))
    if (vars.secret.includes(k))
      issues.add(
        [...at, "dnsProvider", "settings", k],
        `${k} authenticates to the DNS provider: move it to credentials as { secret: <key> }`,
      );
  const set = [...Object.keys(p.credentials), ...Object.keys(p.settings)];
  if (vars.anyOf.length > 0 && !vars.anyOf.some((k) => set.includes(k)))
    issues.add(
      [...at, "dnsProvider", vars.secret.some((k) => vars.anyOf.includes(k)) ? "credentials" : "settings"],
      `lego's ${p.name} provider needs ${vars.anyOf.length === 1 ? vars.anyOf[0] : `one of ${vars.anyOf.join(", ")}`}`,
    );
}

/**
 * Where HAProxy's runtime API socket lives inside its container. The renewal job hands new certificates
 * to the running HAProxy through it (`set ssl cert` + `commit ssl cert`), so the haproxy service must
 * mount a writable host directory here (its root filesystem is read-only). The reference mounts the
 * subdirectory `run` of HAProxy's own dataset, which needs no backup (it is rendered on every deploy).
 */
export const HAPROXY_RUNTIME_DIR = "/run/haproxy";

interface StackLike {
  services: {
    name: string;
    preset?: string | undefined;
    volumes: {
      dataset?: string | undefined;
      hostPath?: string | undefined;
      target: string;
      readOnly: boolean;
    }[];
  }[];
}

/** ACME delivery needs a writable directory mounted at HAPROXY_RUNTIME_DIR in the haproxy service. */
export function checkAcmeRuntimeMount(stacks: StackLike[], issues: IssueList): void {
  stacks.forEach((stack, i) =>
    stack.services.forEach((s, j) => {
      if (s.preset !== "haproxy" && s.name !== "haproxy") return;
      const v = s.volumes.find((x) => x.target === HAPROXY_RUNTIME_DIR);
      if (!v || v.readOnly) {
        const config = s.volumes.find((x) => x.target === "/usr/local/etc/haproxy")?.dataset ?? "<dataset>";
        issues.add(
          ["stacks", i, "services", j, "volumes"],
          `ingress.tls.acme hands renewed certificates to HAProxy through its runtime socket: add a writable mount { dataset: ${config}, subPath: run, target: ${HAPROXY_RUNTIME_DIR} }`,
        );
      }
    }),
  );
}

/** The `certificate` label of the ingress certificate in the renewal job's metrics and alerts. */
export const INGRESS_CERTIFICATE_NAME = "ingress";
