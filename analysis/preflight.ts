import {
  ConfigError,
  formatPath,
  type ComposeStackConfig,
  type ConfigIssue,
  type NetworkModel,
  type StorageModel,
} from "../model";
import { borgInputFromModel } from "./backup/borg-model";
import { renderBorg } from "./backup/borg";
import { renderStack } from "./compose/render";
import { renderDaemonConfig } from "./docker/daemon";
import { checkSocketProxies } from "./compose/socket-proxy";
import { compileFirewall } from "./firewall/compile";
import { renderIngress } from "./ingress";
import { prometheusFiles } from "./monitoring/prometheus";
import { backupJobSpec, vmNetwork } from "./storage/proxmox";
import { peerAllowedIps } from "./wireguard/client";

/** Stands in for a digest the registry would return: only its shape matters to the renderers. */
const PLACEHOLDER_DIGEST = `sha256:${"0".repeat(64)}`;

/**
 * Renders everything the components will render, from the model alone, before any resource exists.
 * Every renderer refuses input that would produce a file or a command doing something else than the
 * config says; run here, such a refusal is a config error naming its config path, instead of a
 * failure halfway through `pulumi up` (or inside an `apply`, where it used to vanish from the plan).
 * The model's own checks name the exact field; this is the net under them.
 */
export function preflight(model: NetworkModel | StorageModel): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const step = (path: PropertyKey[], run: () => unknown) => {
    try {
      run();
    } catch (e) {
      // A renderer refusing its input is the config's problem; a TypeError and its kin are ours.
      if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) throw e;
      if (e instanceof ConfigError) issues.push(...e.issues);
      else issues.push(located(e, path));
    }
  };
  const c = model.config;
  const stacks = (all: ComposeStackConfig[], node: "network" | "storage") =>
    all.forEach((stack, i) =>
      step(["stacks", i], () =>
        renderStack(stack, {
          digests: Object.fromEntries(stack.services.map((s) => [s.name, PLACEHOLDER_DIGEST])),
          datasets: c.datasets.map((d) => d.name),
          node,
        }),
      ),
    );
  if (model.stack === "network") {
    step(["ingress"], () => renderIngress(model));
    step(["flows"], () => compileFirewall(model));
    step(["wireguard"], () => peerAllowedIps(model));
    stacks(model.config.stacks, "network");
  } else {
    const s = model.config;
    step(["dockerHost", "daemon"], () => renderDaemonConfig(s.dockerHost.daemon));
    step(["stacks"], () => checkSocketProxies(s.stacks, s.dockerHost.socketProxy.allow));
    step(["proxmox", "backupServer", "address"], () =>
      vmNetwork(s.proxmox.backupServer.address, model.network, ["proxmox", "backupServer", "address"]),
    );
    step(["proxmox"], () => backupJobSpec(s.proxmox));
    step(["backup", "borg"], () => renderBorg(borgInputFromModel(model)));
    s.stacks.forEach((stack, i) => step(["stacks", i], () => prometheusFiles(model, stack.name)));
    stacks(s.stacks, "storage");
  }
  return issues;
}

/** Throws a ConfigError listing every preflight issue of the model, if there is one. */
export function assertPreflight(model: NetworkModel | StorageModel): void {
  const issues = preflight(model);
  if (issues.length > 0) throw new ConfigError(model.stack, issues);
}

/** A renderer's message may already start with a config path ("homelab:stacks: ..."); keep that one. */
function located(e: unknown, fallback: PropertyKey[]): ConfigIssue {
  const message = e instanceof Error ? e.message : String(e);
  const m = /^(homelab:[^\s:]+(?:\[[^\]]*\])*[^\s:]*): (.*)$/s.exec(message);
  return m ? { path: m[1]!, message: m[2]! } : { path: formatPath(fallback), message };
}
