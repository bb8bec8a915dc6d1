import { Command } from "@pulumi/command/remote/command";
import * as pulumi from "@pulumi/pulumi";
import { shellQuote } from "../../analysis/text/shell";
import { renderIdsAlerts } from "../../analysis/ids/alerts";
import {
  caFileOf,
  renderCurlConfig,
  renderInstallScript,
  renderUninstallScript,
} from "../../analysis/ids/job";
import { bodyKnownOffline, configKeys, idsBody, idsJobSpec } from "../../analysis/ids/spec";
import { staleRulesDays } from "../../model/ids";
import type { NetworkModel } from "../../model";
import type { ResolvedIds } from "../../model/ids";
import { commandConnection, type SecretResolver, type SshConnection } from "../context";
import type { OpnsenseConnection } from "../opnsense/connection";
import type { OpnsenseGateway } from "../opnsense/OpnsenseGateway";
import { OpnsenseIds } from "../opnsense/OpnsenseIds";
import { FACT_TYPES } from "../../model/facts";

export interface IntrusionDetectionArgs {
  model: NetworkModel;
  ids: ResolvedIds;
  opnsense: OpnsenseConnection;
  /** The preflight: segment interface keys, version; the IDS settings are written after it. */
  gateway: OpnsenseGateway;
  secrets: SecretResolver;
  /** SSH to the network node, where the alert job runs. */
  connection: SshConnection;
  /** Written after these (the firewall: its rules let the alert job reach the API, and keep management). */
  after?: pulumi.Resource[];
}

/**
 * Suricata on the gateway (OpnsenseIds: settings, rulesets, update job) and, with `ids.alerts`, the job on
 * the network node that turns its alerts into metrics. The job is installed by a remote command whose
 * script is plain; the API key reaches the node only on the command's stdin, a secret input.
 */
export class IntrusionDetection extends pulumi.ComponentResource {
  readonly settings: OpnsenseIds;
  /** Prometheus rule file for the alert job's metrics (promtool-tested), when alerts are exported. */
  readonly alertRules: string | undefined;
  readonly alertJob: Command | undefined;

  constructor(name: string, args: IntrusionDetectionArgs, opts?: pulumi.ComponentResourceOptions) {
    const { model, ids } = args;
    const keys = configKeys(model);
    const exported = ids.alerts !== undefined && ids.enabled;
    // What a reviewer (and the plan) sees: names and settings, never the alert job's key.
    super(
      FACT_TYPES.intrusionDetection,
      name,
      {
        enabled: ids.enabled,
        mode: ids.mode,
        ipsUnsupported: ids.ipsUnsupported,
        segments: ids.segments.map((s) => s.name),
        wan: ids.wan,
        trunk: model.config.opnsense.trunkInterface,
        rulesets: ids.rulesets,
        schedule: ids.schedule,
        homeNetworks: ids.homeNetworks,
        alerts: exported,
      },
      opts,
    );
    // Segments bound by key are known from config; the others once the preflight looked them up.
    const body = bodyKnownOffline(ids, keys)
      ? idsBody(model, ids, keys)
      : args.gateway.interfaces.apply((found) => idsBody(model, ids, { ...keys, ...found }));
    this.settings = new OpnsenseIds(
      "ids",
      { connection: args.opnsense, body },
      { parent: this, dependsOn: [args.gateway, ...(args.after ?? [])] },
    );

    if (!exported) {
      this.alertRules = undefined;
      this.alertJob = undefined;
      this.registerOutputs({ alerts: false });
      return;
    }
    const spec = idsJobSpec(model);
    this.alertRules = renderIdsAlerts({ staleRulesDays: staleRulesDays(ids.schedule.weekdays) });
    const curlConfig = pulumi.secret(
      pulumi
        .all([args.secrets(ids.alerts!.apiKey), args.secrets(ids.alerts!.apiSecret)])
        .apply(([key, secret]) =>
          renderCurlConfig(key, secret, spec.caCertificate !== undefined ? caFileOf(spec) : undefined),
        ),
    );
    const user = args.connection.user;
    const asRoot = (script: string) => (user === "root" ? script : `sudo -n sh -c ${shellQuote(script)}`);
    const install = asRoot(renderInstallScript(spec));
    this.alertJob = new Command(
      "ids-alerts",
      {
        connection: commandConnection(args.connection),
        create: install,
        update: install,
        delete: asRoot(renderUninstallScript(spec)),
        // curl.conf (the key and secret) travels on stdin, never on the command line.
        stdin: curlConfig,
      },
      // The first run reads the gateway: Suricata must be set up by then.
      { parent: this, dependsOn: [this.settings] },
    );
    this.registerOutputs({ alerts: true, alertRules: this.alertRules });
  }
}
