import type { Series } from "./endpoints";

/**
 * The gateway's release from core/firmware/status: `product.product_version` is CORE_PKGVERSION, e.g.
 * "26.1.4" or "26.1.4_2" with a package revision, and `product.product_series` is "26.1"
 * (opnsense/core Makefile, src/opnsense/version/core.in). Development builds carry a letter
 * ("26.7.r1"); the series is what decides the API.
 */
export interface GatewayVersion {
  version: string;
  series: Series;
}

const SERIES = /^(\d+)\.(\d+)/;

export function parseSeries(text: string): Series | undefined {
  const m = SERIES.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export const seriesText = (s: Series): string => `${s.major}.${s.minor}`;

export const atLeast = (s: Series, min: Series): boolean =>
  s.major > min.major || (s.major === min.major && s.minor >= min.minor);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * `statusAction` answers `{status: "error", status_msg}` without `product` when configd could not run
 * `firmware product`; that is an error here, never a guess.
 */
export function parseFirmwareStatus(json: unknown): GatewayVersion {
  const product = isRecord(json) ? json["product"] : undefined;
  const version = isRecord(product) ? product["product_version"] : undefined;
  const seriesField = isRecord(product) ? product["product_series"] : undefined;
  const series =
    (typeof seriesField === "string" ? parseSeries(seriesField) : undefined) ??
    (typeof version === "string" ? parseSeries(version) : undefined);
  if (typeof version !== "string" || series === undefined) {
    const msg = isRecord(json) && typeof json["status_msg"] === "string" ? `: ${json["status_msg"]}` : "";
    throw new Error(`core/firmware/status did not report the gateway's version${msg}`);
  }
  return { version, series };
}
