import type { IssueList } from "./errors";
import type { NetworkConfig } from "./network";
import {
  aliasName,
  aliasNameProblems,
  descriptionProblems,
  portAliasEntries,
  portAliasName,
  PRIVATE_ALIAS,
  TUNNEL_ALIAS,
} from "./opnsense-names";

/**
 * Checks of the names and texts the firewall compiler derives from config against what the OPNsense
 * models accept (model/opnsense-names.ts), reported at the config path they come from, before any
 * resource exists. The compiler's own naming functions are the ones used here.
 */

type Path = ReadonlyArray<PropertyKey>;

/** Alias names must be valid and unique: two different sources producing one name would share an alias. */
export class AliasNames {
  private readonly owners = new Map<string, { owner: string; path: Path }>();
  constructor(private readonly issues: IssueList) {}

  /** `owner` identifies what the alias holds; the same owner may name the same alias twice. */
  claim(name: string, owner: string, path: Path): void {
    for (const p of aliasNameProblems(name)) this.issues.add(path, p);
    const first = this.owners.get(name);
    if (first === undefined) this.owners.set(name, { owner, path });
    else if (first.owner !== owner)
      this.issues.add(path, `alias name "${name}" is also derived for ${first.owner}; rename one of them`);
  }
}

const portRanges = (ports: ReadonlyArray<number | string>) =>
  ports.map((p) =>
    typeof p === "number"
      ? { from: p, to: p }
      : { from: Number(p.split("-")[0]), to: Number(p.split("-")[1]) },
  );

/** The interface labels a flow's rules land on, as compile.ts names them in rule ids. */
function flowLabels(config: NetworkConfig, from: string): string[] {
  if (from === "wireguard") return ["wireguard"];
  if (from === "any") return [...config.segments.map((s) => s.name), "wireguard"];
  const [kind, name] = from.split(":");
  if (kind === "segment") return [name ?? ""];
  if (kind === "host") return [config.hosts.find((h) => h.name === name)?.segment ?? ""];
  return [];
}

export function checkOpnsenseNames(config: NetworkConfig, issues: IssueList): void {
  const aliases = new AliasNames(issues);
  aliases.claim(PRIVATE_ALIAS, "the private networks", ["segments"]);
  aliases.claim(TUNNEL_ALIAS, "the WireGuard tunnel", ["wireguard", "tunnelCidr"]);
  config.segments.forEach((s, i) => {
    aliases.claim(aliasName("net", s.name), `segment "${s.name}"`, ["segments", i, "name"]);
    // compile.ts: the VLAN device's description.
    const vlanDescr = s.description ? `${s.name}: ${s.description}` : s.name;
    for (const p of descriptionProblems(vlanDescr))
      issues.add(["segments", i, "description"], `"${s.name}: <description>" ${p}`);
  });
  config.hosts.forEach((h, i) =>
    aliases.claim(aliasName("host", h.name), `host "${h.name}"`, ["hosts", i, "name"]),
  );
  config.flows.forEach((f, i) => {
    if (f.ports.length > 1) {
      const entries = portAliasEntries(portRanges(f.ports));
      if (entries.length > 1)
        aliases.claim(portAliasName(entries), `ports ${entries.join(", ")}`, ["flows", i, "ports"]);
    }
    // compile.ts writes "<reason> [<interface>/flow-<i>]" into each rule's description.
    const longest = Math.max(0, ...flowLabels(config, f.from).map((l) => Buffer.byteLength(l, "utf8")));
    const suffix = ` [${"x".repeat(longest)}/flow-${i}]`;
    for (const p of descriptionProblems(`${f.reason}${suffix}`))
      issues.add(
        ["flows", i, "reason"],
        `with the rule id appended (${suffix.length} bytes) the reason ${p}`,
      );
  });
  config.ingress.routes.forEach((r, i) => {
    for (const p of descriptionProblems(`ingress route ${r.host} to ${r.service}`))
      issues.add(["ingress", "routes", i, "host"], `the host override's description ${p}`);
  });
}

/** A segment's interface binding, with the default filled in: the segment's name as the description. */
export const bindingOf = (s: {
  name: string;
  interface?: { key: string } | { description: string } | undefined;
}) => s.interface ?? { description: s.name };

/** Two segments cannot share an interface: their rules would land on one interface. */
export function checkBindings(config: NetworkConfig, issues: IssueList): void {
  const seen = new Map<string, string>();
  config.segments.forEach((s, i) => {
    const b = bindingOf(s);
    const id = "key" in b ? `key ${b.key}` : `description "${b.description}"`;
    const other = seen.get(id);
    if (other !== undefined)
      issues.add(["segments", i, "interface"], `${id} is already the interface of segment "${other}"`);
    seen.set(id, s.name);
  });
}
