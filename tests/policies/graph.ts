import type { GraphResource } from "../../policies/run";

/** Builds a recorded-graph resource the way the plan records one, for policy tests. */
export function res(
  type: string,
  name: string,
  props: Record<string, unknown>,
  propertyDependencies: Record<string, string[]> = {},
): GraphResource {
  return {
    urn: `urn:pulumi:storage::homelab::${type}::${name}`,
    type,
    name,
    parent: null,
    dependencies: Object.values(propertyDependencies).flat(),
    propertyDependencies,
    protect: false,
    ignoreChanges: [],
    props,
  };
}
