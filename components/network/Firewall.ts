import { FACT_TYPES, type FirewallFacts } from "../../model/facts";
import { networkFacts } from "../../model/network-facts";
import * as pulumi from "@pulumi/pulumi";
import {
  aliasBody,
  compileFirewall,
  filterRuleBody,
  hostOverrideBody,
  interfaceKey,
  interfaceNames,
  portForwardBody,
  vlanBody,
  type Address,
  type CompiledFirewall,
  type FilterRule,
  type InterfaceRef,
} from "../../analysis/firewall";
import type { NetworkModel } from "../../model";
import type { OpnsenseConnection } from "../opnsense/connection";
import type { OpnsenseKind } from "../opnsense/endpoints";
import type { SegmentBinding } from "../opnsense/gateway";
import { OpnsenseGateway } from "../opnsense/OpnsenseGateway";
import { OpnsenseObject } from "../opnsense/OpnsenseObject";

export interface FirewallArgs {
  model: NetworkModel;
  opnsense: OpnsenseConnection;
}

/** Each segment's binding as the gateway preflight checks it (model: segments[i].interface). */
export const segmentBindings = (model: NetworkModel): SegmentBinding[] =>
  model.segments.map((s, i) => ({
    segment: s.name,
    vlan: s.vlan,
    path: `homelab:segments[${i}].interface`,
    ...s.binding,
  }));

const aliasesOf = (r: FilterRule): string[] => {
  const names: string[] = [];
  const add = (a: Address) => a.kind === "alias" && names.push(a.name);
  add(r.source);
  add(r.destination);
  if (r.destinationPort.kind === "alias") names.push(r.destinationPort.name);
  return names;
};

/** Pulumi names allow more, but these also end up in URNs people read: keep them plain. */
const slug = (s: string): string => s.replace(/[^a-zA-Z0-9-]+/g, "-").replace(/^-|-$/g, "");

/** VLANs, aliases, default-deny filter rules, port forward and DNS overrides on OPNsense. */
export class Firewall extends pulumi.ComponentResource {
  /** What is deployed, as typed data: the reachability analysis and policies read this, not the API. */
  readonly compiled: CompiledFirewall;
  readonly vlans: ReadonlyMap<string, OpnsenseObject>;
  readonly aliases: ReadonlyMap<string, OpnsenseObject>;
  /** By compiled rule id (e.g. `iot/flow-6`). */
  readonly rules: ReadonlyMap<string, OpnsenseObject>;
  readonly portForwards: OpnsenseObject[];
  readonly hostOverrides: OpnsenseObject[];
  /** The preflight every object here depends on (version, interface keys, WireGuard switched on). */
  readonly gateway: OpnsenseGateway;

  constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    const compiled = compileFirewall(args.model);
    // Facts for the default-deny policy (model/facts.ts): the compiled rule set as deployed, and the
    // resolved network whose intents it must honour. No secrets: names, addresses and ports.
    const facts: FirewallFacts = { network: networkFacts(args.model), compiled };
    super(FACT_TYPES.firewall, name, facts, opts);
    const { model, opnsense } = args;
    const wan = model.config.opnsense.wanInterface;
    this.compiled = compiled;

    // Nothing is written before the gateway passed its preflight: every object depends on it.
    const gateway = new OpnsenseGateway(
      `${name}-gateway`,
      {
        connection: opnsense,
        expect: {
          segments: segmentBindings(model),
          wan,
          wireguard: compiled.rules.some((r) => r.interface.kind === "wireguard"),
        },
      },
      { parent: this },
    );
    this.gateway = gateway;
    // A segment bound by key is known from config (the offline plan shows it; the preflight verifies
    // it before any write). A segment bound by description is only known once the preflight looked it
    // up on the gateway: a preview shows those rules' bodies as unknown.
    const configKeys: Record<string, string> = {};
    for (const s of model.segments) if ("key" in s.binding) configKeys[s.name] = s.binding.key;
    const segmentsOf = (r: { interface: InterfaceRef; source?: Address; destination?: Address }) => {
      const refs = [
        r.interface,
        ...[r.source, r.destination].flatMap((a) => (a?.kind === "interfaceAddress" ? [a.interface] : [])),
      ];
      return refs.flatMap((i) => (i.kind === "segment" ? [i.segment] : []));
    };
    const bodyOf = <T extends { interface: InterfaceRef; source?: Address; destination?: Address }>(
      r: T,
      build: (r: T, n: ReturnType<typeof interfaceNames>) => Record<string, unknown>,
    ): pulumi.Input<Record<string, unknown>> =>
      segmentsOf(r).every((seg) => seg in configKeys)
        ? build(r, interfaceNames(configKeys, wan))
        : gateway.interfaces.apply((found) => build(r, interfaceNames({ ...configKeys, ...found }, wan)));

    // The key is written into the object's name/description field by the provider: for rules it is
    // the description, which carries the rule id and so is unique.
    const object = (
      resource: string,
      kind: OpnsenseKind,
      key: pulumi.Input<string>,
      body: pulumi.Input<Record<string, unknown>>,
      dependsOn: pulumi.Resource[] = [],
      extra: pulumi.CustomResourceOptions = {},
    ) =>
      new OpnsenseObject(
        `${name}-${resource}`,
        { connection: opnsense, kind, key, body },
        { parent: this, dependsOn: [gateway, ...dependsOn], ...extra },
      );

    // VLAN devices are made during bootstrap (the API is reached over one of them, and an interface can
    // only be assigned to an existing device): they are adopted by the device name their assignment
    // uses and kept in line with the segment, and never deleted by a destroy, which the gateway refuses
    // for an assigned device (VlanSettingsController::delItemAction) and which would cut management.
    const vlans = new Map(
      compiled.vlans.map((v) => [
        v.segment,
        object(
          `vlan-${v.segment}`,
          "vlan",
          gateway.devices.apply((found) => found?.[v.segment] ?? v.device),
          vlanBody(v),
          [],
          { retainOnDelete: true },
        ),
      ]),
    );
    const aliases = new Map(
      compiled.aliases.map((a) => [a.name, object(`alias-${slug(a.name)}`, "alias", a.name, aliasBody(a))]),
    );

    const rules = new Map<string, OpnsenseObject>();
    const passByInterface = new Map<string, OpnsenseObject[]>();
    for (const r of compiled.rules) {
      const deps: pulumi.Resource[] = aliasesOf(r).map((a) => {
        const alias = aliases.get(a);
        if (!alias) throw new Error(`rule ${r.id} uses alias ${a}, which was not compiled`);
        return alias;
      });
      if (r.interface.kind === "segment") deps.push(vlans.get(r.interface.segment)!);
      const iface = interfaceKey(r.interface);
      // The logged block goes in last (and out first): never a moment with the block and without the allows.
      if (r.origin.kind === "defaultDeny") deps.push(...(passByInterface.get(iface) ?? []));
      const rule = object(`rule-${slug(r.id)}`, "filterRule", r.description, bodyOf(r, filterRuleBody), deps);
      rules.set(r.id, rule);
      if (r.action === "pass") passByInterface.set(iface, [...(passByInterface.get(iface) ?? []), rule]);
    }

    const wanRules = compiled.rules.filter((r) => r.interface.kind === "wan" && r.action === "pass");
    this.portForwards = compiled.portForwards.map((f) =>
      object(
        `forward-${f.port}`,
        "portForward",
        f.description,
        bodyOf(f, portForwardBody),
        // The redirect is useless (and looks broken) until the WAN rule that passes it exists.
        wanRules
          .filter((r) => r.origin.kind === "portForward" && r.origin.port === f.port)
          .map((r) => rules.get(r.id)!),
      ),
    );
    this.hostOverrides = compiled.hostOverrides.map((h) =>
      object(`dns-${slug(h.fqdn)}`, "unboundHostOverride", h.description, hostOverrideBody(h)),
    );
    this.vlans = vlans;
    this.aliases = aliases;
    this.rules = rules;
    this.registerOutputs({
      vlans: compiled.vlans.length,
      aliases: compiled.aliases.length,
      rules: compiled.rules.length,
      portForwards: compiled.portForwards.length,
      hostOverrides: compiled.hostOverrides.length,
    });
  }
}
