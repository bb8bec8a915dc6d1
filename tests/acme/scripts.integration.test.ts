import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { legoGlobalArgs } from "../../analysis/acme/lego";
import { renderEnvFile, renderRenewScript, renderUnits } from "../../analysis/acme/scripts";
import { acmeSpecFromModel, type AcmeSpec } from "../../analysis/acme/spec";
import { acmeJobFiles, legoEnvFile } from "../../components/network/Certificates";
import { jobBundle } from "../../components/hostJob";
import { ingressSpecFromModel, renderHaproxyConfig } from "../../analysis/ingress";
import { resolveNetwork } from "../../model";
import { requireTool } from "../borg/helpers";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";
import { tempDir } from "../ingress/support";
import { layOutBundle } from "../support/bundle";
import { run } from "../support/proc";

const model = () => resolveNetwork(rawOf(networkFile()), allSecretsSet);
const reference = (): AcmeSpec => {
  const m = model();
  return acmeSpecFromModel(m, m.config.ingress.tls.acme!);
};
/** The reference job with its config, state and unit paths in `dir`. */
const inDir = (dir: string): AcmeSpec => {
  const s = reference();
  return {
    ...s,
    paths: { ...s.paths, configDir: join(dir, "etc"), stateDir: join(dir, "state"), unitDir: dir },
  };
};

describe("the renewal job of the reference network node", () => {
  it("writes where HAProxy's mounts show it, and talks to HAProxy's runtime socket", () => {
    const s = reference();
    expect(s.paths).toMatchObject({
      certificate: "/fast/apps/haproxy/certs/acme.pem",
      haproxyCertificate: "/usr/local/etc/haproxy/certs/acme.pem",
      socket: "/fast/apps/haproxy/run/admin.sock",
      metricsFile: "/var/lib/prometheus/node-exporter/homelab_certificates.prom",
    });
    // HAProxy's user in the docker-library image (3.0/alpine/Dockerfile: uid and gid 99).
    expect(s.certGroup).toBe(99);
    expect(s.runtimeOwner).toEqual({ uid: 99, gid: 99 });
    const cfg = renderHaproxyConfig(ingressSpecFromModel(model()));
    expect(cfg).toContain("  stats socket /run/haproxy/admin.sock mode 600 level admin");
    expect(cfg).toContain("ssl crt /usr/local/etc/haproxy/certs/acme.pem ");
  });

  it("a static certificate has neither the runtime socket nor the ACME bundle", () => {
    const raw = rawOf(networkFile());
    (raw["ingress"] as { tls: unknown }).tls = { certificate: { secret: "c" }, key: { secret: "k" } };
    delete raw["acmeDnsApiToken"]; // no longer referenced: a leftover secret is an error of its own
    const cfg = renderHaproxyConfig(ingressSpecFromModel(resolveNetwork(raw, allSecretsSet)));
    expect(cfg).not.toContain("stats socket");
    expect(cfg).toContain("ssl crt /usr/local/etc/haproxy/certs/ingress.pem ");
  });

  it("runs lego against Let's Encrypt with the provider, public resolvers and both names", () => {
    expect(legoGlobalArgs(reference().lego)).toEqual([
      "--server",
      "https://acme-v02.api.letsencrypt.org/directory",
      "--email",
      "admin@home.example.net",
      "--accept-tos",
      "--path",
      "/var/lib/homelab/acme",
      "--key-type",
      "ec256",
      "--dns",
      "cloudflare",
      "--dns.resolvers",
      "1.1.1.1:53",
      "--dns.resolvers",
      "9.9.9.9:53",
      "--domains",
      "home.example.net",
      "--domains",
      "*.home.example.net",
    ]);
  });
});

describe("the job's files as the root helper lays them out (shellcheck, systemd-analyze)", () => {
  it("shellcheck finds nothing in the job's scripts (renew.sh)", () => {
    requireTool("shellcheck", "shellcheck");
    const dir = tempDir("acme-shellcheck-");
    try {
      const s = inDir(dir);
      layOutBundle(jobBundle(acmeJobFiles(s)));
      const scripts = acmeJobFiles(s)
        .filter((f) => f.mode === "0700" || f.mode === "0755")
        .map((f) => f.path);
      expect(scripts).toEqual([join(dir, "etc", "renew.sh")]);
      const r = run("shellcheck", ["-s", "sh", ...scripts]);
      expect(r.stdout + r.stderr).toBe("");
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("systemd-analyze verifies the service and timer, and refuses a bad schedule", () => {
    requireTool("systemd-analyze", "systemd");
    const dir = tempDir("acme-units-");
    try {
      const s = inDir(dir);
      layOutBundle(jobBundle(acmeJobFiles(s)));
      // The service runs renew.sh from the job's files: verify finds it executable where the unit says.
      expect(statSync(join(dir, "etc", "renew.sh")).mode & 0o777).toBe(0o700);
      const ok = run("systemd-analyze", [
        "verify",
        join(dir, "homelab-acme.service"),
        join(dir, "homelab-acme.timer"),
      ]);
      expect(ok.stdout + ok.stderr).toBe("");
      expect(ok.code).toBe(0);
      writeFileSync(join(dir, "homelab-acme.timer"), renderUnits({ ...s, schedule: "every day" }).timer);
      const bad = run("systemd-analyze", ["verify", join(dir, "homelab-acme.timer")]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/Failed to parse calendar specification/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("lego.env and renew.sh, laid out as the root helper installs the job's bundle", () => {
  const TOKEN = `tok'en "with" $HOME and \`backticks\`\nand a second line`;

  it("lego.env is 0600 and sources to the exact token; renew.sh is 0700; only lego.env holds the token", () => {
    const root = tempDir("acme-install-");
    try {
      // A provider setting beside the credential (the reference's Cloudflare provider has none).
      const s: AcmeSpec = { ...inDir(root), env: { CLOUDFLARE_TTL: "120" } };
      const files = [...acmeJobFiles(s), legoEnvFile(s, { CF_DNS_API_TOKEN: TOKEN })];
      // The job's directories as homelab-root's job_dirs makes them (acme: config and state 0700).
      layOutBundle(jobBundle(files), [
        [0o700, s.paths.configDir],
        [0o700, s.paths.stateDir],
      ]);

      const envFile = join(s.paths.configDir, "lego.env");
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(s.paths.configDir, "renew.sh")).mode & 0o777).toBe(0o700);
      expect(readFileSync(join(s.paths.configDir, "renew.sh"), "utf8")).toBe(renderRenewScript(s));
      // What renew.sh does with it (`set -a; . lego.env`): the token survives quoting byte for byte, and
      // the provider's settings come along.
      const value = (k: string) => run("sh", ["-c", `set -a; . "${envFile}"; printf '%s' "$${k}"`]).stdout;
      expect(value("CF_DNS_API_TOKEN")).toBe(TOKEN);
      expect(value("CLOUDFLARE_TTL")).toBe("120");
      // The other files are plain text a diff of the deploy may show.
      for (const f of acmeJobFiles(s))
        expect([f.path, f.content.includes("tok'en")]).toEqual([f.path, false]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses an environment variable name that is not one", () => {
    expect(() => renderEnvFile({ "BAD NAME": "x" })).toThrow(/not an environment variable name/);
  });
});
