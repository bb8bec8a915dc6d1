import * as pulumi from "@pulumi/pulumi";
import { pinnedImage } from "../../analysis/compose/render";
import type { ComposeStackConfig } from "../../model";
import type { ComposeStackFacts } from "../../model/facts";

/**
 * The ComposeStack's facts for the container and graph policies: each service's settings as the
 * renderer deploys them (it always sets no-new-privileges and never host namespaces) with the image
 * reference after digest resolution. No secret values: env is left out entirely.
 */
export function composeFacts(
  node: "network" | "storage",
  stack: ComposeStackConfig,
  digests: pulumi.Input<Record<string, string>>,
): pulumi.Inputs & { [K in keyof ComposeStackFacts]: pulumi.Input<ComposeStackFacts[K]> } {
  return {
    node,
    project: stack.name,
    services: pulumi.output(digests).apply((d) =>
      stack.services.map((s) => ({
        name: s.name,
        ...(s.preset !== undefined ? { preset: s.preset } : {}),
        image: pinnedImage(s, d[s.name]),
        ...(s.user !== undefined ? { user: s.user } : {}),
        ...(s.rootReason !== undefined ? { rootReason: s.rootReason } : {}),
        privileged: s.privileged,
        capDrop: s.capDrop,
        capAdd: s.capAdd,
        noNewPrivileges: true,
        dockerSocket: s.dockerSocket,
        volumes: s.volumes.map((v) => ({
          ...(v.dataset !== undefined ? { dataset: v.dataset } : {}),
          ...(v.hostPath !== undefined ? { hostPath: v.hostPath } : {}),
          target: v.target,
          readOnly: v.readOnly,
        })),
        ports: s.ports,
        healthcheck: s.healthcheck !== undefined,
        ...(s.memory !== undefined ? { memory: s.memory } : {}),
        networks: s.networks,
        alwaysOn: s.alwaysOn,
        ...(s.metrics !== undefined ? { metrics: s.metrics } : {}),
      })),
    ),
  };
}
