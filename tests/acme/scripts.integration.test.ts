import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { legoGlobalArgs } from "../../analysis/acme/lego";
import { shellQuote } from "../../analysis/text/shell";
import {
  renderEnvFile,
  renderInstallScript,
  renderRenewScript,
  renderUninstallScript,
  renderUnits,
} from "../../analysis/acme/scripts";
import { acmeSpecFromModel, type AcmeSpec } from "../../analysis/acme/spec";
import { ingressSpecFromModel, renderHaproxyConfig } from "../../analysis/ingress";
import { resolveNetwork } from "../../model";
import { requireTool } from "../borg/helpers";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";
import { tempDir } from "../ingress/support";
import { run } from "../support/proc";

const model = () => resolveNetwork(rawOf(networkFile()), allSecretsSet);
const reference = (): AcmeSpec => {
  const m = model();
  return acmeSpecFromModel(m, m.config.ingress.tls.acme!);
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

describe("rendered scripts and units (shellcheck, systemd-analyze)", () => {
  it("shellcheck finds nothing in renew.sh, the installer and the uninstaller", () => {
    requireTool("shellcheck", "shellcheck");
    const dir = tempDir("acme-shellcheck-");
    try {
      const s = reference();
      const files = {
        "renew.sh": renderRenewScript(s),
        "install.sh": renderInstallScript(s),
        "uninstall.sh": renderUninstallScript(s),
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const r = run("shellcheck", ["-s", "sh", ...Object.keys(files).map((f) => join(dir, f))]);
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
      const s = { ...reference(), paths: { ...reference().paths, configDir: dir, unitDir: dir } };
      writeFileSync(join(dir, "renew.sh"), renderRenewScript(s), { mode: 0o700 });
      const units = renderUnits(s);
      writeFileSync(join(dir, "homelab-acme.service"), units.service);
      writeFileSync(join(dir, "homelab-acme.timer"), units.timer);
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

describe("the installer (run for real into temp directories, without apt and systemctl)", () => {
  const TOKEN = `tok'en "with" $HOME and \`backticks\`\nand a second line`;

  it("writes lego.env from stdin (0600, exact value when sourced) and renew.sh, and never prints the token", () => {
    const root = tempDir("acme-install-");
    try {
      const base = reference();
      const p = (x: string) => join(root, x);
      const s: AcmeSpec = {
        ...base,
        paths: {
          ...base.paths,
          configDir: p("etc/homelab/acme"),
          stateDir: p("var/lib/homelab/acme"),
          certificate: p("fast/apps/haproxy/certs/acme.pem"),
          runtimeDir: p("fast/apps/haproxy/run"),
          socket: p("fast/apps/haproxy/run/admin.sock"),
          unitDir: p("etc/systemd/system"),
        },
        certGroup: process.getgid!(),
        runtimeOwner: { uid: process.getuid!(), gid: process.getgid!() },
      };
      mkdirSync(p("fast/apps/haproxy"), { recursive: true });
      const env = renderEnvFile({ CF_DNS_API_TOKEN: TOKEN, CLOUDFLARE_TTL: "120" });
      // As the deploy runs it (`sudo -n sh -c <script>`, here without sudo): the script is an argument,
      // lego.env arrives on stdin.
      const script = renderInstallScript(s, { withoutSystem: true });
      const r = run("sh", ["-c", `sh -c ${shellQuote(script)}`], { input: env });
      expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: "" });
      expect(r.stdout).toBe("installed homelab-acme (schedule *-*-* 03,15:00:00)\n");
      expect(r.stdout + r.stderr).not.toContain("tok'en");

      const envFile = join(s.paths.configDir, "lego.env");
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      expect(statSync(s.paths.configDir).mode & 0o777).toBe(0o700);
      expect(statSync(s.paths.stateDir).mode & 0o777).toBe(0o700);
      expect(statSync(s.paths.runtimeDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(s.paths.configDir, "renew.sh")).mode & 0o777).toBe(0o700);
      expect(readFileSync(join(s.paths.configDir, "renew.sh"), "utf8")).toBe(renderRenewScript(s));
      const sourced = run("sh", ["-c", `set -a; . "${envFile}"; printf '%s' "$CF_DNS_API_TOKEN"`]);
      expect(sourced.stdout).toBe(TOKEN);
      // The installer's own text holds no secret: it is what a diff of the deploy shows.
      expect(renderInstallScript(s)).not.toContain("tok'en");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses content that would end its heredoc early", () => {
    const s = reference();
    expect(() => renderInstallScript({ ...s, schedule: "x\nHOMELAB_ACME_UNIT_EOF\n" })).toThrow(
      /must not contain the heredoc marker/,
    );
  });

  it("refuses an environment variable name that is not one", () => {
    expect(() => renderEnvFile({ "BAD NAME": "x" })).toThrow(/not an environment variable name/);
  });
});
