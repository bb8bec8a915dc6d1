import { stringify } from "yaml";
import type { IngressSpec } from "./spec";

/**
 * Secrets Authelia needs and where they come from: environment variables set by the compose stack from
 * Pulumi secrets (Authelia maps AUTHELIA_<PATH> onto its configuration and also reads <NAME>_FILE).
 * They are deliberately absent from the rendered file.
 */
export const AUTHELIA_SECRET_ENV = [
  "AUTHELIA_IDENTITY_VALIDATION_RESET_PASSWORD_JWT_SECRET",
  "AUTHELIA_SESSION_SECRET",
  "AUTHELIA_STORAGE_ENCRYPTION_KEY",
] as const;

export interface AutheliaOptions {
  /** Directory Authelia sees its state in (inside the container). */
  configDir: string;
  /** Port Authelia listens on inside its container. */
  port: number;
  /** Port of Authelia's Prometheus endpoint, if the service exposes one. */
  metricsPort?: number;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A bypass path as an Authelia resource regex: the path itself, anything below it, with or without a query. */
export const bypassResource = (path: string): string => {
  const base = path.replace(/\/+$/, "");
  return base === "" ? "^/.*$" : `^${escapeRegex(base)}([/?].*)?$`;
};

/**
 * Renders Authelia's configuration.yml. Access control mirrors the HAProxy routing: default deny, public
 * routes and bypass paths as `bypass` rules (HAProxy never asks for them; the rules keep Authelia's view
 * consistent if it is asked anyway), every other route at the spec's policy.
 */
export function renderAutheliaConfig(spec: IngressSpec, opts: AutheliaOptions): string {
  const rules: Record<string, unknown>[] = [];
  for (const r of spec.routes) {
    if (r.public) rules.push({ domain: r.host, policy: "bypass" });
    else {
      if (r.bypassPaths.length > 0)
        rules.push({ domain: r.host, resources: r.bypassPaths.map(bypassResource), policy: "bypass" });
      rules.push({ domain: r.host, policy: spec.sso.policy });
    }
  }
  const dir = opts.configDir.replace(/\/+$/, "");
  const config = {
    server: { address: `tcp://:${opts.port}/` },
    log: { level: "info" },
    ...(opts.metricsPort !== undefined
      ? { telemetry: { metrics: { enabled: true, address: `tcp://:${opts.metricsPort}/metrics` } } }
      : {}),
    totp: { issuer: spec.domain },
    authentication_backend: {
      // Users and their password hashes are administered on the host, not in this repository.
      file: { path: `${dir}/users_database.yml`, password: { algorithm: "argon2" } },
    },
    access_control: { default_policy: "deny", rules },
    session: {
      cookies: [
        { name: "authelia_session", domain: spec.domain, authelia_url: `https://${spec.sso.portalHost}` },
      ],
    },
    storage: { local: { path: `${dir}/db.sqlite3` } },
    notifier: { filesystem: { filename: `${dir}/notification.txt` } },
  };
  const header = [
    "# Rendered by homelab (analysis/ingress/authelia.ts). Do not edit on the host.",
    "# Secrets are not in this file; the sso compose stack provides them as environment variables:",
    ...AUTHELIA_SECRET_ENV.map((e) => `#   ${e}`),
  ];
  return `${header.join("\n")}\n---\n${stringify(config, { lineWidth: 0 })}`;
}
