import * as pulumi from "@pulumi/pulumi";
import { composeServiceFacts } from "../../analysis/compose/facts";
import type { RenderedStack } from "../../analysis/compose/render";
import type { ComposeStackConfig } from "../../model";
import type { ComposeStackFacts } from "../../model/facts";

/**
 * The ComposeStack's facts for the container and graph policies: each service as its rendered compose
 * file configures it (read back from the document that becomes docker-compose.yml, so the policies see
 * the effective host paths, devices, capabilities and user), with the image after digest resolution.
 * No secret values: env is left out entirely.
 */
export function composeFacts(
  node: "network" | "storage",
  stack: ComposeStackConfig,
  rendered: pulumi.Output<RenderedStack>,
): pulumi.Inputs & { [K in keyof ComposeStackFacts]: pulumi.Input<ComposeStackFacts[K]> } {
  return {
    node,
    project: stack.name,
    services: rendered.apply((r) => composeServiceFacts(stack, r)),
  };
}
