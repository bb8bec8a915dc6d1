import { Command } from "@pulumi/command/remote/command";
import * as pulumi from "@pulumi/pulumi";
import { renderAcmeAlerts } from "../../analysis/acme/alerts";
import { shellQuote } from "../../analysis/text/shell";
import { renderEnvFile, renderInstallScript, renderUninstallScript } from "../../analysis/acme/scripts";
import { ACME_UNIT, acmeSpecFromModel } from "../../analysis/acme/spec";
import type { NetworkModel } from "../../model";
import { commandConnection, type SecretResolver, type SshConnection } from "../context";
import { FACT_TYPES } from "../../model/facts";

export interface CertificatesArgs {
  model: NetworkModel;
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
    const { model, secrets } = args;
    const acme = model.config.ingress.tls.acme;
    const spec = acme ? acmeSpecFromModel(model, acme) : undefined;
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
    const envFile = pulumi.secret(
      pulumi
        .all(credentials.map(([, ref]) => secrets(ref)))
        .apply((values) =>
          renderEnvFile({ ...spec.env, ...Object.fromEntries(credentials.map(([k], i) => [k, values[i]!])) }),
        ),
    );
    // The job is system configuration (units, /etc, packages): as root, through sudo for the deploy
    // user (which needs passwordless sudo on the network node, as for the Borg jobs' zfs calls). The
    // script is an argument, stdin stays lego.env.
    const user = args.connection.user;
    const asRoot = (script: string) => (user === "root" ? script : `sudo -n sh -c ${shellQuote(script)}`);
    const install = asRoot(renderInstallScript(spec));
    this.installer = new Command(
      "acme-renewal",
      {
        connection: commandConnection(args.connection),
        // Same script for create and update: it rewrites the job in place and issues only when no
        // certificate exists yet. stdin carries lego.env (the credentials), never the command line.
        create: install,
        update: install,
        delete: asRoot(renderUninstallScript(spec)),
        stdin: envFile,
      },
      { parent: this },
    );
    this.registerOutputs({ mode: this.mode, alertRules: this.alertRules });
  }
}
