import { posix } from "node:path";
import { Command } from "@pulumi/command/remote/command";
import * as pulumi from "@pulumi/pulumi";
import { renderAcmeAlerts } from "../../analysis/acme/alerts";
import { renderEnvFile, renderRenewScript, renderUnits } from "../../analysis/acme/scripts";
import { ACME_UNIT, type AcmeSpec } from "../../analysis/acme/spec";
import type { AcmeConfig } from "../../model/acme";
import { commandConnection, type SecretResolver, type SshConnection } from "../context";
import { FACT_TYPES } from "../../model/facts";
import { jobBundle, rootHelperSteps, type JobFile } from "../hostJob";

export interface CertificatesArgs {
  /**
   * With `ingress.tls.acme`: the renewal job (analysis/acme acmeSpecFromModel) and the config it came
   * from, whose DNS provider credentials are secret references. None with a static certificate.
   */
  acme: { spec: AcmeSpec; config: AcmeConfig } | undefined;
  secrets: SecretResolver;
  /** SSH to the network node, where the renewal job runs next to HAProxy. */
  connection: SshConnection;
}

/**
 * The ingress certificate. With `ingress.tls.acme` (the default), a renewal job on the network node: a
 * systemd timer runs lego (Debian's package) with the DNS provider's credentials, and hands each new
 * certificate to the running HAProxy through its runtime API; metrics go to node-exporter's textfile
 * directory, alerts are rendered here. With a static certificate this component only records that.
 *
 * The job is installed by a remote command whose script is plain (reviewable in a diff); the provider's
 * credentials reach the node only on the command's stdin, a secret input.
 */
export class Certificates extends pulumi.ComponentResource {
  readonly mode: "acme" | "static";
  /** Prometheus rule file with the expiry and renewal alerts (promtool-tested), for the ACME mode. */
  readonly alertRules: string | undefined;
  readonly installer: Command | undefined;

  constructor(name: string, args: CertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    const { secrets } = args;
    const spec = args.acme?.spec;
    const acme = args.acme?.config;
    // What a reviewer (and the plan) sees: no secret values, only names and settings.
    const facts = spec
      ? {
          mode: "acme",
          domains: spec.lego.domains,
          server: spec.lego.server,
          dnsProvider: spec.lego.dnsProvider,
          providerEnv: spec.secretEnv,
          renewDays: spec.renewDays,
          schedule: spec.schedule,
          unit: `${ACME_UNIT}.timer`,
          certificate: spec.paths.certificate,
          metricsFile: spec.paths.metricsFile,
        }
      : { mode: "static" };
    super(FACT_TYPES.certificates, name, facts, opts);
    this.mode = spec ? "acme" : "static";
    if (!spec || !acme) {
      this.alertRules = undefined;
      this.installer = undefined;
      this.registerOutputs({ mode: this.mode });
      return;
    }
    this.alertRules = renderAcmeAlerts({ name: spec.name, renewDays: spec.renewDays });
    const credentials = Object.entries(acme.dnsProvider.credentials);
    // The job's files with lego.env (the credentials) in one bundle on stdin, a secret input; the
    // command line is plain and reviewable, and carries no secret.
    const bundle = pulumi.secret(
      pulumi
        .all(credentials.map(([, ref]) => secrets(ref)))
        .apply((values) =>
          jobBundle([
            ...acmeJobFiles(spec),
            legoEnvFile(spec, Object.fromEntries(credentials.map(([k], i) => [k, values[i]!]))),
          ]),
        ),
    );
    // System configuration (units, packages) through the root helper's `acme` job; the runtime API's
    // directory and the certificate's directory inside HAProxy's dataset are made by HAProxy's own uid. The first run issues the first
    // certificate (HAProxy cannot start without one); later runs renew only when due.
    const haproxy = `${spec.runtimeOwner.uid}:${spec.runtimeOwner.gid}`;
    const install = rootHelperSteps(
      ["dir", spec.paths.runtimeDir, "0700", haproxy],
      // renew.sh writes the bundle here as root (0640, HAProxy's group); HAProxy must be able to enter.
      ["dir", posix.dirname(spec.paths.certificate), "0750", haproxy],
      ["packages", "acme", "lego", "socat", "openssl"],
      ["install", "acme"],
      ["start", "acme", `${ACME_UNIT}.service`],
    );
    this.installer = new Command(
      "acme-renewal",
      {
        connection: commandConnection(args.connection),
        // Same steps for create and update: the job is rewritten in place.
        create: install,
        update: install,
        // Timer stopped, units, renew.sh and lego.env removed; the issued certificate stays for HAProxy.
        delete: rootHelperSteps(["uninstall", "acme"]),
        stdin: bundle,
      },
      // Into HAProxy's dataset: only once it exists with its owner (a directory made before the dataset
      // would be hidden by its mount).
      { parent: this, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) },
    );
    this.registerOutputs({ mode: this.mode, alertRules: this.alertRules });
  }
}

/** renew.sh (root-only: it reads lego.env) and the systemd units of the renewal job. */
export function acmeJobFiles(spec: AcmeSpec): JobFile[] {
  const units = renderUnits(spec);
  return [
    { path: `${spec.paths.configDir}/renew.sh`, mode: "0700", content: renderRenewScript(spec) },
    { path: `${spec.paths.unitDir}/${ACME_UNIT}.service`, mode: "0644", content: units.service },
    { path: `${spec.paths.unitDir}/${ACME_UNIT}.timer`, mode: "0644", content: units.timer },
  ];
}

/** lego.env: the provider's settings and credentials (sourced by renew.sh), root-only. */
export function legoEnvFile(spec: AcmeSpec, credentials: Record<string, string>): JobFile {
  return {
    path: `${spec.paths.configDir}/lego.env`,
    mode: "0600",
    content: renderEnvFile({ ...spec.env, ...credentials }),
  };
}
