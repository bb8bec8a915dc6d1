import { resolveNetwork, type NetworkModel } from "../../model";
import { allSecretsSet, networkFile, rawOf } from "../fixtures/reference";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The reference network model, optionally with its raw config edited first. */
export function referenceModel(edit?: (raw: Raw) => void): NetworkModel {
  const raw = rawOf(networkFile()) as Raw;
  edit?.(raw);
  return resolveNetwork(raw, allSecretsSet);
}

/** A flow as the YAML writes it. */
export const flow = (from: string, to: string, extra: Raw = {}): Raw => ({
  from,
  to,
  protocol: "tcp",
  reason: "test flow",
  ...extra,
});
