/**
 * The renewal job's metrics, written as a node-exporter textfile (the same mechanism as the Borg jobs):
 * every run rewrites the file atomically, so a job that stops running leaves a growing age behind.
 */

/** notAfter of the certificate HAProxy serves (`source="haproxy"`), or of the file if HAProxy is not reachable. */
export const METRIC_EXPIRY = "homelab_certificate_expiry_timestamp_seconds";
export const METRIC_LAST_RUN = "homelab_certificate_renewal_last_run_timestamp_seconds";
export const METRIC_LAST_SUCCESS = "homelab_certificate_renewal_last_success_timestamp_seconds";
/** 1 when the last run renewed (or did not need to) and HAProxy serves the current certificate. */
export const METRIC_OK = "homelab_certificate_renewal_ok";

export const METRIC_HELP: Record<string, string> = {
  [METRIC_EXPIRY]:
    "notAfter of the certificate HAProxy serves (source=haproxy) or of the bundle file (source=file)",
  [METRIC_LAST_RUN]: "When the ACME renewal job last ran",
  [METRIC_LAST_SUCCESS]: "When the ACME renewal job last succeeded",
  [METRIC_OK]: "1 if the last renewal run succeeded and HAProxy serves the current certificate",
};

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format lines this job writes (no escapes in our label values). */
export function parseTextfile(text: string): ParsedSample[] {
  const out: ParsedSample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line.trim());
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const part of (m[2] ?? "").split(",").filter(Boolean)) {
      const [k, v] = part.split("=") as [string, string];
      labels[k] = v.replace(/^"|"$/g, "");
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
