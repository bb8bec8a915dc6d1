import { helperSteps, parseBundle } from "../support/bundle";
import { evaluateProgram, type Evaluation } from "../../tools/plan/evaluate";
import { networkFile } from "../fixtures/reference";

/** The network stack of the reference homelab under Pulumi's mocks, secrets fed as markers. */
let ev: Evaluation;
beforeAll(async () => {
  ev = await evaluateProgram({ stack: "network", file: networkFile(), secretValue: (k) => `marker-${k}` });
}, 120_000);

const byName = (name: string) => ev.resources.find((r) => r.name === name)!;

describe("Certificates under Pulumi mocks (the reference: ACME)", () => {
  it("records the ACME settings as plain facts, without any secret", () => {
    const c = byName("certificates");
    expect(c.type).toBe("homelab:network:Certificates");
    expect(c.inputs).toMatchObject({
      mode: "acme",
      dnsProvider: "cloudflare",
      providerEnv: ["CF_DNS_API_TOKEN"],
      domains: ["home.example.net", "*.home.example.net"],
      renewDays: 30,
    });
    expect(JSON.stringify(c.inputs)).not.toContain("marker-");
  });

  it("installs the job with a plain script, the DNS token only on the command's secret stdin", () => {
    const cmd = byName("acme-renewal");
    expect(cmd.type).toBe("command:remote:Command");
    expect(cmd.secretPaths).toEqual(expect.arrayContaining(["stdin", "connection"]));
    expect(typeof cmd.inputs["create"]).toBe("string");
    expect(JSON.stringify(cmd.inputs)).not.toContain("marker-");
    const files = parseBundle(String(ev.policyInputs.get(cmd.urn)!["stdin"]));
    expect(files["/etc/homelab-acme/lego.env"]!.mode).toBe("0600");
    expect(files["/etc/homelab-acme/lego.env"]!.content).toContain(
      "export CF_DNS_API_TOKEN='marker-acmeDnsApiToken'",
    );
    expect(files["/etc/homelab-acme/renew.sh"]!.mode).toBe("0700");
    expect(files["/etc/systemd/system/homelab-acme.timer"]!.content).toContain(
      "OnCalendar=*-*-* 03,15:00:00",
    );
    // The reference deploy user is not root: narrow operations of the root helper, no root shell.
    expect(helperSteps(String(cmd.inputs["create"]))).toEqual([
      ["dir", "/fast/apps/haproxy/run", "0700", "99:99"],
      ["dir", "/fast/apps/haproxy/certs", "0750", "99:99"],
      ["packages", "acme", "lego", "socat", "openssl"],
      ["install", "acme"],
      ["start", "acme", "homelab-acme.service"],
    ]);
    expect(String(cmd.inputs["create"])).not.toContain("sh -c");
    expect(helperSteps(String(cmd.inputs["delete"]))).toEqual([["uninstall", "acme"]]);
  });

  it("installs the job only after HAProxy's dataset exists (the certificate and the socket live in it)", () => {
    expect(byName("acme-renewal").dependencies).toContain(byName("dataset-fast-apps-haproxy").urn);
  });

  it("starts the compose stacks only after the job is installed (the first certificate exists)", () => {
    // A dependency on a component is a dependency on the resources inside it.
    const certs = byName("acme-renewal").urn;
    const stacks = ev.resources.filter((r) => r.type === "homelab:compose:ComposeStack");
    expect(stacks.length).toBeGreaterThan(0);
    for (const s of stacks) expect(s.dependencies).toContain(certs);
  });

  it("no compose stack carries a TLS bundle: HAProxy's certificate comes from the renewal job", () => {
    const ingress = ev.resources.find(
      (r) => r.type === "pulumi-nodejs:dynamic/compose:Project" && r.name === "ingress",
    )!;
    const files = ev.policyInputs.get(ingress.urn)!["files"] as Record<string, string>;
    expect(Object.keys(files).some((f) => f.endsWith(".pem"))).toBe(false);
  });
});
