import type { NetworkModel } from "../../model";
import { renderAutheliaConfig } from "./authelia";
import { renderHaproxyConfig } from "./haproxy";
import { FORWARD_AUTH_LUA } from "./lua";
import { AUTHELIA_CFG, CERT_FILE, HAPROXY_CFG, ingressLayout, ingressSpecFromModel, LUA_FILE } from "./spec";

export * from "./authelia";
export * from "./haproxy";
export * from "./lua";
export * from "./pem";
export * from "./spec";

/** The non-secret ingress files by host path, plus the host path where the secret TLS bundle goes. */
export interface RenderedIngress {
  files: Record<string, string>;
  certificatePath: string;
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
    certificatePath: `${h}/${CERT_FILE}`,
  };
}
