import { ingressFacts } from "../../analysis/ingress/facts";
import { HAPROXY_CFG } from "../../analysis/ingress/spec";
import { FACT_TYPES } from "../../model/facts";
import * as pulumi from "@pulumi/pulumi";
import { combinePem, type RenderedIngress } from "../../analysis/ingress";
import type { NetworkConfig, NetworkModel } from "../../model";
import type { SecretResolver } from "../context";

export interface IngressArgs {
  /** The HAProxy and Authelia files (analysis/ingress renderIngress). */
  rendered: RenderedIngress;
  /** The routes, whose TLS and SSO the published facts state as the rendered haproxy.cfg does them. */
  routes: NetworkModel["routes"];
  /** homelab:ingress.tls: a static certificate's secrets, or ACME. */
  tls: NetworkConfig["ingress"]["tls"];
  secrets: SecretResolver;
}

/**
 * Renders the HAProxy and Authelia configuration from the typed routes (issue 3). The files are handed
 * to the network node's compose stacks, which mount them.
 */
export class Ingress extends pulumi.ComponentResource {
  /**
   * Host path -> file content, deployed before the ingress and SSO stacks start. Secret as a whole: it
   * carries the TLS certificate and key bundle.
   */
  readonly files: pulumi.Output<Record<string, string>>;
  /** The rendered haproxy.cfg, plain: it holds no secret and is worth reading in a diff. */
  readonly haproxyConfig: string;
  /** The rendered Authelia configuration.yml, plain for the same reason. */
  readonly autheliaConfig: string;
  /** Host path of the combined certificate + key PEM inside `files`. */
  readonly certificatePath: string;

  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    const { rendered, tls, secrets } = args;
    const haproxyCfg =
      Object.entries(rendered.files).find(([path]) => path.endsWith(`/${HAPROXY_CFG}`))?.[1] ?? "";
    super(FACT_TYPES.ingress, name, { ...ingressFacts({ routes: args.routes }, haproxyCfg) }, opts);
    this.certificatePath = rendered.certificatePath;
    if (tls.certificate !== undefined && tls.key !== undefined) {
      // A static certificate (the opt-out): the deploy writes the bundle from the two secrets. Built only
      // from the secret inputs, and marked secret again so a refactor cannot drop the flag.
      const bundle = pulumi.secret(
        pulumi.all([secrets(tls.certificate), secrets(tls.key)]).apply(([cert, key]) => {
          try {
            return combinePem(cert, key);
          } catch (e) {
            // A real update stops on a malformed bundle; a preview (and the offline plan, which feeds
            // placeholder strings for secrets) still shows the graph. The value stays secret either way.
            if (!pulumi.runtime.isDryRun()) throw e;
            return `${cert}\n${key}\n`;
          }
        }),
      );
      this.files = pulumi.secret(
        bundle.apply((pem) => ({ ...rendered.files, [rendered.certificatePath]: pem })),
      );
    } else {
      // ACME: the renewal job on the node writes the bundle (components/network/Certificates.ts). Still
      // secret as a whole, so the output's type does not depend on the mode.
      this.files = pulumi.secret(pulumi.output(rendered.files));
    }
    const byName = (suffix: string) =>
      Object.entries(rendered.files).find(([path]) => path.endsWith(suffix))?.[1] ?? "";
    this.haproxyConfig = byName("/haproxy.cfg");
    this.autheliaConfig = byName("/configuration.yml");
    this.registerOutputs({
      files: this.files,
      haproxyConfig: this.haproxyConfig,
      autheliaConfig: this.autheliaConfig,
      certificatePath: this.certificatePath,
    });
  }
}
