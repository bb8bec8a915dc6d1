/**
 * The host firewall analysis at the bench's sizes (integration tier: building the 100x homelab takes
 * about a second). Decision counts depend only on the config, so they are asserted; the time is the
 * bench's business (`npm run bench`, "host firewall analysis").
 */
import { networkNodeBaseline, storageNodeBaseline } from "../../analysis/host/baseline";
import { analyzeHost } from "../../analysis/host/reachability";
import { resolveNetwork, resolveStorage, toContract } from "../../model";
import { scaleHomelab } from "../../tools/bench/generate";
import { allSecretsSet, networkFile, rawOf, storageFile } from "../fixtures/reference";

describe("host firewall analysis at scale", () => {
  it("at 100x (the bench's homelab), within a few thousand decisions where packets were millions", () => {
    // 3 564 and 102 decisions; the per-packet analysis tried 169 341 and 5.1 million packets.
    const scaled = scaleHomelab(rawOf(networkFile()), rawOf(storageFile()), 100);
    const network = resolveNetwork(scaled.network, allSecretsSet);
    const storage = resolveStorage(scaled.storage, allSecretsSet, toContract(network));
    const decisions = [networkNodeBaseline(network), storageNodeBaseline(storage)].map(
      (b) =>
        analyzeHost({
          firewall: b.facts.firewall,
          intents: b.facts.intents,
          topology: b.facts.topology,
          gateway: b.gateway,
          paths: b.facts.paths,
          ...(b.facts.networkNode ? { networkNode: b.facts.networkNode } : {}),
        }).evaluations,
    );
    expect(decisions).toEqual([3564, 102]);
  });
});
