import { Command } from "@pulumi/command/remote/command";
import * as pulumi from "@pulumi/pulumi";
import { renderIdsAlerts } from "../../analysis/ids/alerts";
import { caFileOf, renderCurlConfig, renderPollScript, renderUnits } from "../../analysis/ids/job";
import {
  bodyKnownOffline,
  configKeys,
  IDS_UNIT,
  idsBody,
  idsJobSpec,
  type IdsJobSpec,
  type IdsModel,
} from "../../analysis/ids/spec";
import { staleRulesDays } from "../../model/ids";
import type { ResolvedIds } from "../../model/ids";
import { commandConnection, type SecretResolver, type SshConnection } from "../context";
import { jobBundle, rootHelperSteps, type JobFile } from "../hostJob";
import type { OpnsenseConnection } from "../opnsense/connection";
import type { OpnsenseGateway } from "../opnsense/OpnsenseGateway";
import { OpnsenseIds } from "../opnsense/OpnsenseIds";
import { FACT_TYPES } from "../../model/facts";

export interface IntrusionDetectionArgs {
  /** The segments (their interface keys) and the gateway's config. */
  network: IdsModel;
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
    const { network: model, ids } = args;
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
    // The job's files with curl.conf (the key and secret) in one bundle on stdin, a secret input.
    const bundle = pulumi.secret(
      pulumi
        .all([args.secrets(ids.alerts!.apiKey), args.secrets(ids.alerts!.apiSecret)])
        .apply(([key, secret]) => jobBundle([...idsJobFiles(spec), curlConfFile(spec, key, secret)])),
    );
    // Through the root helper's `ids-alerts` job. A first run now: a wrong key, a missing privilege or a
    // blocked path shows in this deploy.
    const install = rootHelperSteps(
      ["packages", "ids-alerts", "curl", "jq"],
      ["install", "ids-alerts"],
      ["start", "ids-alerts", `${IDS_UNIT}.service`],
    );
    this.alertJob = new Command(
      "ids-alerts",
      {
        connection: commandConnection(args.connection),
        create: install,
        update: install,
        // Timer stopped; poll.sh, curl.conf, the CA, the units and the metrics file removed.
        delete: rootHelperSteps(["uninstall", "ids-alerts"]),
        stdin: bundle,
      },
      // The first run reads the gateway: Suricata must be set up by then.
      { parent: this, dependsOn: [this.settings] },
    );
    this.registerOutputs({ alerts: true, alertRules: this.alertRules });
  }
}

/** poll.sh (root-only), the gateway's CA when configured, and the systemd units of the alert job. */
export function idsJobFiles(spec: IdsJobSpec): JobFile[] {
  const units = renderUnits(spec);
  return [
    ...(spec.caCertificate !== undefined
      ? [{ path: caFileOf(spec), mode: "0644" as const, content: spec.caCertificate }]
      : []),
    { path: `${spec.paths.configDir}/poll.sh`, mode: "0700", content: renderPollScript(spec) },
    { path: `${spec.paths.unitDir}/${IDS_UNIT}.service`, mode: "0644", content: units.service },
    { path: `${spec.paths.unitDir}/${IDS_UNIT}.timer`, mode: "0644", content: units.timer },
  ];
}

/** curl.conf: the API key and secret (and the gateway's CA when configured) for poll.sh, root-only. */
export function curlConfFile(spec: IdsJobSpec, apiKey: string, apiSecret: string): JobFile {
  return {
    path: `${spec.paths.configDir}/curl.conf`,
    mode: "0600",
    content: renderCurlConfig(
      apiKey,
      apiSecret,
      spec.caCertificate !== undefined ? caFileOf(spec) : undefined,
    ),
  };
}
