import type { ComposeStackConfig } from "../../model/services";
import type { ServiceFacts } from "../../model/facts";
import { RenderError, unlit, type RenderedStack } from "./render";

/**
 * The container policies' facts, read back from the rendered compose document rather than from the
 * config: whatever the file tells Docker (a hostPath joined with its subPath, a dataset's mountpoint,
 * devices, capabilities, the user after compose's `$$` unescaping) is what the policies judge.
 *
 * Every key the renderer may write is listed here, either as judged (published in the facts) or as
 * not security-relevant. A key outside both lists throws: a new compose setting cannot reach a host
 * without a rule having seen it.
 */
const JUDGED = [
  "image",
  "user",
  "volumes",
  "ports",
  "networks",
  "healthcheck",
  "mem_limit",
  "cap_drop",
  "cap_add",
  "security_opt",
  "privileged",
  "devices",
  "tmpfs",
  "network_mode",
  "pid",
  "ipc",
] as const;
/** Settings that grant nothing on the host (limits, start order, logging, labels, env, command). */
const NOT_SECURITY_RELEVANT = [
  "command",
  "restart",
  "environment",
  "depends_on",
  "shm_size",
  "cpus",
  "read_only",
  "logging",
  "labels",
] as const;
const KNOWN = new Set<string>([...JUDGED, ...NOT_SECURITY_RELEVANT]);

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => unlit(String(x))) : []);

/** `source:target[:ro]`, as render.ts volumeSpec writes it (neither path contains ':'). */
function parseVolume(spec: string): { source: string; target: string; readOnly: boolean } {
  const [source = "", target = "", mode] = spec.split(":");
  return { source: unlit(source), target: unlit(target), readOnly: mode === "ro" };
}

/** `address:published:target/protocol`, as render.ts writes published ports. */
function parsePort(spec: string): ServiceFacts["ports"][number] {
  const m = /^(.*):(\d+):(\d+)\/(tcp|udp)$/.exec(spec);
  if (!m) throw new RenderError(`published port "${spec}" is not address:published:target/protocol`);
  return { address: m[1]!, published: Number(m[2]), target: Number(m[3]), protocol: m[4]! };
}

/** The last no-new-privileges option wins; moby reads "no-new-privileges", ":true" and "=true" alike. */
function noNewPrivileges(opts: string[]): boolean {
  const last = opts.filter((o) => /^no-new-privileges(?:[:=]|$)/.test(o)).pop();
  return last !== undefined && /^no-new-privileges(?:[:=]true)?$/.test(last);
}

/** Every service of the stack as its compose file configures it, for the container policies. */
export function composeServiceFacts(stack: ComposeStackConfig, rendered: RenderedStack): ServiceFacts[] {
  return stack.services.map((svc) => {
    const doc = rendered.document.services[svc.name];
    if (doc === undefined) throw new RenderError(`service ${svc.name} is missing from the rendered file`);
    for (const key of Object.keys(doc))
      if (!KNOWN.has(key))
        throw new RenderError(
          `service ${svc.name}: the compose file would set ${key}, which no container policy judges; ` +
            "publish it in ServiceFacts (model/facts.ts) and judge it in policies/rules/containers.ts first",
        );
    const volumes = strings(doc["volumes"]).map(parseVolume);
    if (volumes.length !== svc.volumes.length)
      throw new RenderError(
        `service ${svc.name}: rendered ${volumes.length} volumes for ${svc.volumes.length}`,
      );
    const text = (k: string): string | undefined =>
      typeof doc[k] === "string" ? unlit(doc[k] as string) : undefined;
    const user = text("user");
    const networkMode = text("network_mode");
    const pid = text("pid");
    const ipc = text("ipc");
    return {
      name: svc.name,
      ...(svc.preset !== undefined ? { preset: svc.preset } : {}),
      image: String(doc["image"]),
      ...(user !== undefined ? { user } : {}),
      ...(svc.rootReason !== undefined ? { rootReason: svc.rootReason } : {}),
      privileged: doc["privileged"] === true,
      capDrop: strings(doc["cap_drop"]),
      capAdd: strings(doc["cap_add"]),
      noNewPrivileges: noNewPrivileges(strings(doc["security_opt"])),
      ...(networkMode !== undefined ? { networkMode } : {}),
      ...(pid !== undefined ? { pid } : {}),
      ...(ipc !== undefined ? { ipc } : {}),
      dockerSocket: svc.dockerSocket,
      volumes: volumes.map((v, i) => {
        const own = svc.volumes[i]!;
        return {
          ...(own.dataset !== undefined ? { dataset: own.dataset } : {}),
          ...(own.hostPath !== undefined ? { hostPath: own.hostPath } : {}),
          ...(own.subPath !== "" ? { subPath: own.subPath } : {}),
          ...v,
        };
      }),
      devices: strings(doc["devices"]),
      tmpfs: strings(doc["tmpfs"]),
      ports: strings(doc["ports"]).map(parsePort),
      healthcheck: doc["healthcheck"] !== undefined,
      ...(doc["mem_limit"] !== undefined && svc.memory !== undefined ? { memory: svc.memory } : {}),
      networks: strings(doc["networks"]),
      alwaysOn: svc.alwaysOn,
      ...(svc.metrics !== undefined ? { metrics: svc.metrics } : {}),
    };
  });
}
