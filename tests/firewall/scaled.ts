// The reference homelab scaled k times by the bench's generator (tools/bench/generate.ts).
import { scaleHomelab } from "../../tools/bench/generate";
import { resolveNetwork, type NetworkModel } from "../../model";
import { allSecretsSet, networkFile, rawOf, storageFile } from "../fixtures/reference";

export function scaledModel(k: number): NetworkModel {
  const scaled = scaleHomelab(rawOf(networkFile()), rawOf(storageFile()), k);
  return resolveNetwork(scaled.network, allSecretsSet);
}
