import { FACT_TYPES, type FirewallFacts } from "../../model/facts";
import * as pulumi from "@pulumi/pulumi";
import {
  aliasBody,
  compileFirewall,
  defaultInterfaceNames,
  filterRuleBody,
  hostOverrideBody,
  interfaceKey,
  portForwardBody,
  vlanBody,
  type Address,
  type CompiledFirewall,
  type FilterRule,
  type InterfaceNames,
} from "../../analysis/firewall";
import type { NetworkModel } from "../../model";
import type { OpnsenseConnection } from "../opnsense/connection";
import { OpnsenseObject, type OpnsenseKind } from "../opnsense/OpnsenseObject";

export interface FirewallArgs {
  model: NetworkModel;
  opnsense: OpnsenseConnection;
  /** How segments, the tunnel and WAN are named on the gateway; defaults documented in opnsense-body.ts. */
  interfaceNames?: InterfaceNames;
}

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

/** VLANs, aliases, default-deny filter rules, port forward and DNS overrides on OPNsense (issue 3). */
export class Firewall extends pulumi.ComponentResource {
  /** What is deployed, as typed data: the reachability analysis and policies read this, not the API. */
  readonly compiled: CompiledFirewall;
  readonly vlans: ReadonlyMap<string, OpnsenseObject>;
  readonly aliases: ReadonlyMap<string, OpnsenseObject>;
  /** By compiled rule id (e.g. `iot/flow-6`). */
  readonly rules: ReadonlyMap<string, OpnsenseObject>;
  readonly portForwards: OpnsenseObject[];
  readonly hostOverrides: OpnsenseObject[];

  constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    const compiled = compileFirewall(args.model);
    // Facts for the default-deny policy (model/facts.ts): the compiled rule set as deployed, and the
    // intents it must honour. The config holds secret references only, never values.
    const facts: FirewallFacts = { config: args.model.config, compiled };
    super(FACT_TYPES.firewall, name, facts, opts);
    const { model, opnsense } = args;
    const names = args.interfaceNames ?? defaultInterfaceNames(model.config.opnsense.wanInterface);
    this.compiled = compiled;

    // The key is written into the object's name/description field by the provider: for rules it is
    // the description, which carries the rule id and so is unique.
    const object = (
      resource: string,
      kind: OpnsenseKind,
      key: string,
      body: Record<string, unknown>,
      dependsOn: pulumi.Resource[] = [],
    ) =>
      new OpnsenseObject(
        `${name}-${resource}`,
        { connection: opnsense, kind, key, body },
        { parent: this, dependsOn },
      );

    const vlans = new Map(
      compiled.vlans.map((v) => [v.segment, object(`vlan-${v.segment}`, "vlan", v.description, vlanBody(v))]),
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
      const rule = object(`rule-${slug(r.id)}`, "filterRule", r.description, filterRuleBody(r, names), deps);
      rules.set(r.id, rule);
      if (r.action === "pass") passByInterface.set(iface, [...(passByInterface.get(iface) ?? []), rule]);
    }

    const wanRules = compiled.rules.filter((r) => r.interface.kind === "wan" && r.action === "pass");
    this.portForwards = compiled.portForwards.map((f) =>
      object(
        `forward-${f.port}`,
        "portForward",
        f.description,
        portForwardBody(f, names),
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
