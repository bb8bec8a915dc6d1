import { ConfigError, resolveNetwork } from "../../model";
import { covers } from "../../model/acme";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";

type Raw = Record<string, unknown>;
const ref = () => rawOf(networkFile());
const ingressOf = (raw: Raw) => raw["ingress"] as { tls: Raw; routes: { host: string }[] };
const acmeOf = (raw: Raw) => ingressOf(raw).tls["acme"] as Raw & { dnsProvider: Raw };

function problems(raw: Raw, secrets = allSecretsSet): string[] {
  try {
    resolveNetwork(raw, secrets);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe("ingress.tls: ACME by default, a static certificate as the explicit opt-out", () => {
  it("the reference issues through ACME with Cloudflare DNS-01 and the domain's wildcard", () => {
    const m = resolveNetwork(ref(), allSecretsSet);
    expect(m.config.ingress.tls.acme).toMatchObject({
      email: "admin@home.example.net",
      server: "https://acme-v02.api.letsencrypt.org/directory",
      dnsProvider: { name: "cloudflare", credentials: { CF_DNS_API_TOKEN: { secret: "acmeDnsApiToken" } } },
      renewDays: 30,
      keyType: "ec256",
    });
    expect(m.secrets.map((s) => s.key)).toContain("acmeDnsApiToken");
  });

  it("accepts a static certificate and key instead", () => {
    const raw = ref();
    ingressOf(raw).tls = { certificate: { secret: "crt" }, key: { secret: "key" } };
    delete raw["acmeDnsApiToken"]; // no longer referenced: a leftover secret is an error of its own
    expect(problems(raw)).toEqual([]);
  });

  it("refuses both, neither, or half a static certificate, naming the path", () => {
    const both = ref();
    ingressOf(both).tls["certificate"] = { secret: "crt" };
    expect(problems(both)).toEqual([
      expect.stringMatching(/^homelab:ingress\.tls: set either acme .* not both$/),
    ]);
    const neither = ref();
    ingressOf(neither).tls = {};
    expect(problems(neither)).toEqual([
      expect.stringMatching(/^homelab:ingress\.tls: set acme .* to opt out/),
    ]);
    const half = ref();
    ingressOf(half).tls = { certificate: { secret: "crt" } };
    expect(problems(half)).toEqual([
      "homelab:ingress.tls.key: a static certificate needs both certificate and key secrets",
    ]);
  });

  it("names an unknown DNS provider and suggests the close one", () => {
    const raw = ref();
    acmeOf(raw).dnsProvider["name"] = "cloudfare";
    expect(problems(raw)).toEqual([
      expect.stringMatching(
        /^homelab:ingress\.tls\.acme\.dnsProvider\.name: "cloudfare" is not a DNS provider of lego 4\.9\.1 \(did you mean "cloudflare"/,
      ),
    ]);
  });

  it("refuses a variable lego's provider does not read, and a token outside credentials", () => {
    const typo = ref();
    acmeOf(typo).dnsProvider["credentials"] = { CF_API_TOKEN: { secret: "t" } };
    delete typo["acmeDnsApiToken"]; // no longer referenced: a leftover secret is an error of its own
    expect(problems(typo)).toEqual([
      expect.stringMatching(
        /^homelab:ingress\.tls\.acme\.dnsProvider\.credentials\.CF_API_TOKEN: lego's cloudflare provider does not read CF_API_TOKEN \(known: .*CF_DNS_API_TOKEN/,
      ),
      expect.stringMatching(/credentials: lego's cloudflare provider needs one of CF_DNS_API_TOKEN/),
    ]);
    const plain = ref();
    acmeOf(plain).dnsProvider["credentials"] = {};
    acmeOf(plain).dnsProvider["settings"] = { CF_DNS_API_TOKEN: "abc" };
    delete plain["acmeDnsApiToken"];
    expect(problems(plain)).toEqual([
      "homelab:ingress.tls.acme.dnsProvider.settings.CF_DNS_API_TOKEN: CF_DNS_API_TOKEN authenticates to the DNS provider: move it to credentials as { secret: <key> }",
    ]);
  });

  it("accepts lego's own CA variables with any provider (a private or test CA), as settings", () => {
    // go-acme/lego v4.9.1 lego/client_config.go reads these whatever the DNS provider.
    const raw = ref();
    acmeOf(raw).dnsProvider = {
      name: "exec",
      settings: {
        EXEC_PATH: "/usr/local/lib/dns-provider.sh",
        LEGO_CA_CERTIFICATES: "/etc/ssl/private-ca.pem",
        LEGO_CA_SERVER_NAME: "ca.lab",
      },
    };
    delete raw["acmeDnsApiToken"];
    expect(problems(raw)).toEqual([]);
    acmeOf(raw).dnsProvider = { name: "exec", settings: { EXEC_PATH: "/x", LEGO_CA_CERT: "/y" } };
    expect(problems(raw)).toEqual([
      expect.stringMatching(/settings\.LEGO_CA_CERT: lego's exec provider does not read LEGO_CA_CERT/),
    ]);
  });

  it("refuses a certificate that does not cover a route", () => {
    const raw = ref();
    acmeOf(raw)["domains"] = ["home.example.net", "photos.home.example.net"];
    const p = problems(raw);
    expect(p).toContain(
      "homelab:ingress.tls.acme.domains: the certificate (home.example.net, photos.home.example.net) does not cover the route auth.home.example.net; add it or a wildcard",
    );
    expect(p.some((x) => x.includes("photos.home.example.net;"))).toBe(false);
  });

  it("a wildcard covers exactly one label", () => {
    expect(covers(["*.home.example.net"], "ha.home.example.net")).toBe(true);
    expect(covers(["*.home.example.net"], "home.example.net")).toBe(false);
    expect(covers(["*.home.example.net"], "a.b.home.example.net")).toBe(false);
    expect(covers(["*.home.example.net"], "xhome.example.net")).toBe(false);
  });

  it("needs HAProxy's runtime directory mounted writable, and says which mount to add", () => {
    const raw = ref();
    const stacks = raw["stacks"] as { services: { volumes: { target: string }[] }[] }[];
    const haproxy = stacks[0]!.services[0]!;
    haproxy.volumes = haproxy.volumes.filter((v) => v.target !== "/run/haproxy");
    expect(problems(raw)).toEqual([
      "homelab:stacks[0].services[0].volumes: ingress.tls.acme hands renewed certificates to HAProxy through its runtime socket: add a writable mount { dataset: fast/apps/haproxy, subPath: run, target: /run/haproxy }",
    ]);
  });

  it("requires the DNS token to be a set, encrypted secret", () => {
    const raw = ref();
    const p = problems(raw, { has: (k) => k !== "acmeDnsApiToken", isSecret: () => true });
    expect(p).toEqual([
      "homelab:acmeDnsApiToken: missing required secret (used at homelab:ingress.tls.acme.dnsProvider.credentials.CF_DNS_API_TOKEN); run: pulumi config set --secret acmeDnsApiToken <value> --stack network",
    ]);
  });
});
