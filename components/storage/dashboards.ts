import backups from "../../monitoring/grafana/dashboards/backups.json";
import firewall from "../../monitoring/grafana/dashboards/firewall.json";
import ingress from "../../monitoring/grafana/dashboards/ingress.json";
import nodes from "../../monitoring/grafana/dashboards/nodes.json";

/**
 * The Grafana dashboards kept in the repository (monitoring/grafana/dashboards), by file name. Imported,
 * not read from disk, so the bundled plan CLI carries them too.
 */
export const DASHBOARDS: Record<string, string> = Object.fromEntries(
  Object.entries({ backups, firewall, ingress, nodes }).map(([name, d]) => [
    `${name}.json`,
    `${JSON.stringify(d, null, 2)}\n`,
  ]),
);
