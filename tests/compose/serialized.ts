import * as pulumi from "@pulumi/pulumi";
import { composeProvider } from "../../components/compose/provider";

/**
 * The compose provider as the Pulumi engine runs it: closure-serialized by the SDK, then loaded from
 * that text alone. Tests drive this copy so a capture that does not survive serialization fails them.
 */
export async function serializedComposeProvider(): Promise<pulumi.dynamic.ResourceProvider> {
  const sf = await pulumi.runtime.serializeFunction(() => composeProvider);
  const exports: Record<string, () => pulumi.dynamic.ResourceProvider> = {};
  new Function("exports", "require", sf.text)(exports, require);
  return exports[sf.exportName]!();
}
