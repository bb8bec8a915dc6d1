import type { NetworkModel } from "../../model";
import { renderAutheliaConfig } from "./authelia";
import { renderHaproxyConfig } from "./haproxy";
import { FORWARD_AUTH_LUA } from "./lua";
import {
  ACME_CERT_FILE,
  AUTHELIA_CFG,
  CERT_FILE,
  HAPROXY_CFG,
  ingressLayout,
  ingressSpecFromModel,
  LUA_FILE,
} from "./spec";

export * from "./authelia";
export * from "./haproxy";
export * from "./lua";
export * from "./pem";
export * from "./spec";

/**
 * The non-secret ingress files by host path, plus the host path of the TLS bundle: the deploy writes it
 * from the secrets for a static certificate; the ACME renewal job writes it for `acme`.
 */
export interface RenderedIngress {
  files: Record<string, string>;
  certificatePath: string;
  tls: "acme" | "static";
}

/** Everything the network node's ingress and SSO containers read, rendered from the model. */
export function renderIngress(model: NetworkModel): RenderedIngress {
  const layout = ingressLayout(model);
  const spec = ingressSpecFromModel(model);
  const h = layout.haproxy.hostDir;
  return {
    files: {
      [`${h}/${HAPROXY_CFG}`]: renderHaproxyConfig(spec),
      [`${h}/${LUA_FILE}`]: FORWARD_AUTH_LUA,
      [`${layout.authelia.hostDir}/${AUTHELIA_CFG}`]: renderAutheliaConfig(spec, {
        configDir: layout.authelia.containerDir,
        port: layout.authelia.port,
        ...(layout.authelia.metricsPort !== undefined ? { metricsPort: layout.authelia.metricsPort } : {}),
      }),
    },
    certificatePath: `${h}/${model.config.ingress.tls.acme ? ACME_CERT_FILE : CERT_FILE}`,
    tls: model.config.ingress.tls.acme ? "acme" : "static",
  };
}
