// `npm run rehearse`: brings the reference homelab up on two local rehearsal hosts (network namespaces
// with their own systemd, sshd and dockerd), prepared by docs/runbooks/node-preparation.md, applies
// both stacks as the deploy user, prints what runs where, then destroys and tears everything down.
// Needs root (namespaces, mounts). Options: --keep (leave it running until Enter is pressed).
import { createInterface } from "node:readline";
import { Rehearsal, type NodeName } from "./rehearse/rehearsal";

const log = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  const keep = process.argv.includes("--keep");
  const t0 = Date.now();
  const r = await Rehearsal.start(log);
  let ok = true;
  try {
    for (const node of ["network", "storage"] as NodeName[]) {
      const graph = r.evaluate(node);
      const rep = r.apply(node, "up", graph);
      const failed = rep.ops.filter((o) => o.error);
      log(`pulumi up (${node}): ${rep.ops.length} host resources, ${rep.ok ? "ok" : "FAILED"}`);
      for (const f of failed) log(`  ${f.name}: ${f.error}`);
      ok &&= rep.ok;
      if (!rep.ok) break;
    }
    for (const node of ["network", "storage"] as NodeName[]) {
      log(
        `\n${r.hosts[node].spec.name} (${r.hosts[node].spec.interfaces.map((i) => i.address).join(", ")}):`,
      );
      for (const c of r.containers(node)) {
        const img = r.images[c.service];
        log(
          `  ${c.project}/${c.service}: ${c.status} ${c.health === "-" ? "" : c.health} [${img?.kind ?? "?"}]`,
        );
      }
    }
    if (keep) {
      log(
        `\nkept running (work dir ${r.work}; enter a host with: nsenter -t <pid> -a, network node ${r.hosts.network.pid}, storage node ${r.hosts.storage.pid}). Press Enter (or close stdin) to tear down.`,
      );
      // A closed stdin (the terminal gone, a script's pipe ended) tears down too: never hosts left behind.
      await new Promise<void>((resolve) => {
        const rl = createInterface({ input: process.stdin });
        rl.once("line", () => resolve());
        rl.once("close", () => resolve());
      });
    }
    for (const node of ["storage", "network"] as NodeName[]) {
      const rep = r.apply(node, "destroy");
      log(`pulumi destroy (${node}): ${rep.ok ? "ok" : "FAILED"}, ${rep.ops.length} resources`);
      ok &&= rep.ok;
    }
  } finally {
    await r.stop();
    log(`torn down; wall time ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`rehearse failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(2);
  },
);
