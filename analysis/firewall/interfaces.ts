import type { NetworkModel } from "../../model";
import type { CompiledFirewall, InterfaceRef } from "./types";
import { WIREGUARD_GROUP } from "./opnsense-body";

/**
 * Where each compiled interface lands on the gateway: segments on the interface they are bound to
 * (by key, or by a description the provider looks up before any write), the tunnel on the `wireguard`
 * group (switched on by the provider), WAN on its key. Pure: the plan report shows it.
 */
export interface InterfaceBindingRow {
  interface: string;
  vlan: number | null;
  /** `key opt3`, or `description "IoT" (looked up)`. */
  binding: string;
  /** The key filter rules carry, when known before the gateway is asked. */
  key: string | null;
  rules: number;
}

const label = (i: InterfaceRef) => (i.kind === "segment" ? i.segment : i.kind);

export function interfaceBindings(model: NetworkModel, compiled: CompiledFirewall): InterfaceBindingRow[] {
  const count = (i: InterfaceRef) => compiled.rules.filter((r) => label(r.interface) === label(i)).length;
  return compiled.interfaces.map((i): InterfaceBindingRow => {
    if (i.kind === "segment") {
      const s = model.segmentsByName.get(i.segment)!;
      const b = s.binding;
      return {
        interface: s.name,
        vlan: s.vlan,
        binding: "key" in b ? `key ${b.key}` : `description "${b.description}" (looked up on the gateway)`,
        key: "key" in b ? b.key : null,
        rules: count(i),
      };
    }
    if (i.kind === "wireguard")
      return {
        interface: "wireguard",
        vlan: null,
        binding: "WireGuard group (switched on by the provider)",
        key: WIREGUARD_GROUP,
        rules: count(i),
      };
    const wan = model.config.opnsense.wanInterface;
    return {
      interface: "wan",
      vlan: null,
      binding: `key ${wan} (opnsense.wanInterface)`,
      key: wan,
      rules: count(i),
    };
  });
}

export function renderBindingsText(rows: InterfaceBindingRow[]): string {
  return rows
    .map(
      (r) =>
        `  ${r.interface.padEnd(12)} ${(r.vlan === null ? "" : `VLAN ${r.vlan}`).padEnd(9)} ${r.binding} · ${r.rules} rules`,
    )
    .join("\n");
}

export function renderBindingsMarkdown(rows: InterfaceBindingRow[]): string {
  return [
    "| interface | VLAN | OPNsense interface | rules |",
    "|---|---|---|---|",
    ...rows.map((r) => `| \`${r.interface}\` | ${r.vlan ?? "–"} | ${r.binding} | ${r.rules} |`),
    "",
    "The provider checks every binding (and the gateway's version) before its first write.",
  ].join("\n");
}
