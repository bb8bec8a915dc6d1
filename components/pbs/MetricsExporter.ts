import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderPbsAlerts } from "../../analysis/pbs/alerts";
import {
  EXPORTER_PATHS,
  EXPORTER_UNIT,
  headerLine,
  renderExporterUnits,
  type RenderedFile,
} from "../../analysis/pbs/exporter";
import type { StorageModel } from "../../model";
import { commandConnection, type SshConnection } from "../context";
import type { BackupServer } from "./BackupServer";
import { shellQuote as shq } from "../../analysis/text/shell";
import { FACT_TYPES } from "../../model/facts";

export interface MetricsExporterArgs {
  model: StorageModel;
  /** The storage node, where node-exporter's textfile collector runs. */
  connection: SshConnection;
  server: BackupServer;
}

/** Where the PBS alert rules land on the node, beside the Borg ones, for the monitoring stack. */
export const PBS_ALERTS_PATH = "/etc/homelab-backup/prometheus/homelab-pbs.rules.yml";

const asRoot = (script: string): string =>
  `if [ "$(id -u)" -eq 0 ]; then sh -c ${shq(script)}; else sudo -n sh -c ${shq(script)}; fi`;

/** `<mode> <path> <base64>` per line, as the install script reads them. */
export const bundle = (files: RenderedFile[]): string =>
  files.map((f) => `${f.mode} ${f.path} ${Buffer.from(f.content).toString("base64")}\n`).join("");

/** Installs every file atomically, then reloads systemd and (re)starts the timer. */
export const installScript = (): string => `set -eu
umask 022
while read -r mode path b64; do
  install -d -m 0755 "$(dirname "$path")"
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s' "$b64" | base64 -d >"$tmp"
  chmod "$mode" "$tmp"
  chown root:root "$tmp"
  mv -f "$tmp" "$path"
done
command -v jq >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q --no-install-recommends jq curl >/dev/null; }
systemctl daemon-reload
systemctl enable --now ${EXPORTER_UNIT}.timer
`;

/** Writes the token header (from stdin) root-only, atomically. */
const headerScript = (path: string): string => `set -eu
umask 077
install -d -m 0700 ${shq(path.replace(/\/[^/]*$/, ""))}
tmp=$(mktemp ${shq(`${path}.XXXXXX`)})
cat >"$tmp"
chmod 0600 "$tmp"
mv -f "$tmp" ${shq(path)}
`;

/**
 * The PBS metrics job on the storage node (analysis/pbs/exporter.ts) and the PBS alert rules
 * (analysis/pbs/alerts.ts). The metrics token travels only on stdin, as a secret, into a root-only
 * header file; the script and units carry no secret.
 */
export class MetricsExporter extends pulumi.ComponentResource {
  /** Prometheus rule file for the monitoring stack (also installed at PBS_ALERTS_PATH on the node). */
  readonly alertRules: string;

  constructor(name: string, args: MetricsExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.pbsMetricsExporter, name, {}, opts);
    const { server } = args;
    const conn = commandConnection(args.connection);
    this.alertRules = renderPbsAlerts(args.model.config);
    const quiet: pulumi.CustomResourceOptions = {
      parent: this,
      additionalSecretOutputs: ["stdout", "stderr"],
    };

    const header = new command.remote.Command(
      `${name}-token`,
      {
        connection: conn,
        create: asRoot(headerScript(EXPORTER_PATHS.headerFile)),
        update: asRoot(headerScript(EXPORTER_PATHS.headerFile)),
        stdin: pulumi.secret(server.metricsTokenSecret.apply((s) => headerLine(server.metricsTokenId, s))),
        delete: asRoot(`rm -f ${shq(EXPORTER_PATHS.headerFile)}`),
      },
      quiet,
    );
    const files = server.publicKeyPin.apply((pin) => [
      ...renderExporterUnits({ url: server.url, publicKeyPin: pin }),
      { path: PBS_ALERTS_PATH, mode: "0644" as const, content: this.alertRules },
    ]);
    const install = new command.remote.Command(
      `${name}-install`,
      {
        connection: conn,
        create: asRoot(installScript()),
        update: asRoot(installScript()),
        stdin: files.apply(bundle),
        delete: asRoot(`systemctl disable --now ${EXPORTER_UNIT}.timer 2>/dev/null || true`),
      },
      { ...quiet, dependsOn: [header] },
    );
    this.registerOutputs({ alertRules: this.alertRules, installed: install.id });
  }
}
