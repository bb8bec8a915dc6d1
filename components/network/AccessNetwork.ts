import * as pulumi from "@pulumi/pulumi";
import { accessFacts } from "../../analysis/access/facts";
import { accessPlan } from "../../analysis/access/plan";
import type { NetworkModel } from "../../model";
import { expandPorts } from "../../model/access";
import type { SecretResolver } from "../context";
import { UnifiObject, type UnifiConnection } from "../unifi/UnifiObject";
import { FACT_TYPES } from "../../model/facts";

export interface AccessNetworkArgs {
  model: NetworkModel;
  secrets: SecretResolver;
}

/** Resource names from SSIDs: lowercase letters, digits and '-'; a hash keeps distinct SSIDs distinct. */
function slug(s: string): string {
  const base = s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  let h = 0;
  for (const c of s) h = (h * 31 + c.codePointAt(0)!) >>> 0;
  return base === s ? base : `${base || "ssid"}-${h.toString(36)}`;
}

/**
 * The access network on the network controller (UniFi Network Application): one VLAN-only network per
 * segment, each segment's Wi-Fi networks bound to it, the port profiles and the switch ports. Every
 * object is a UnifiObject (components/unifi/); its body is plain, so the plan shows where each SSID and
 * port lands, while the controller password and the passphrases are secret inputs.
 */
export class AccessNetwork extends pulumi.ComponentResource {
  readonly objects: UnifiObject[] = [];

  constructor(name: string, args: AccessNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.accessNetwork, name, { ...accessFacts(args.model) }, opts);
    const { model, secrets } = args;
    const access = model.config.access;
    if (!access) {
      this.registerOutputs({});
      return;
    }
    const c = access.controller;
    const connection: UnifiConnection = {
      url: c.url,
      site: c.site,
      username: c.username,
      password: secrets(c.password),
      ...(c.caCertificate !== undefined ? { caCertificate: c.caCertificate } : {}),
    };
    const child = { parent: this };
    const networks = model.segments.map(
      (s) =>
        new UnifiObject(
          `network-${s.name}`,
          { connection, kind: "network", key: s.name, body: { name: s.name, vlan: s.vlan } },
          child,
        ),
    );
    const wlans = model.segments.flatMap((s) =>
      s.wifi.map(
        (w) =>
          new UnifiObject(
            `wlan-${slug(w.ssid)}`,
            {
              connection,
              kind: "wlan",
              key: w.ssid,
              body: {
                ssid: w.ssid,
                network: s.name,
                security: w.security,
                band: w.band,
                purpose: w.purpose,
                hidden: w.hidden,
              },
              ...(w.passphrase ? { passphrase: secrets(w.passphrase) } : {}),
            },
            { parent: this, dependsOn: networks },
          ),
      ),
    );
    const profiles = access.portProfiles.map(
      (p) =>
        new UnifiObject(
          `port-profile-${p.name}`,
          {
            connection,
            kind: "portProfile",
            key: p.name,
            body: { name: p.name, native: p.native, tagged: p.tagged, poe: p.poe, isolation: p.isolation },
          },
          { parent: this, dependsOn: networks },
        ),
    );
    const switches = access.switches.map(
      (sw) =>
        new UnifiObject(
          `switch-${sw.name}`,
          {
            connection,
            kind: "switchPorts",
            key: sw.mac,
            body: {
              name: sw.name,
              mac: sw.mac,
              ports: sw.ports
                .flatMap((p) => (expandPorts(p.port) ?? []).map((port) => ({ port, profile: p.profile })))
                .sort((a, b) => a.port - b.port),
            },
          },
          { parent: this, dependsOn: profiles },
        ),
    );
    this.objects.push(...networks, ...wlans, ...profiles, ...switches);
    const plan = accessPlan(model);
    this.registerOutputs({
      wifi: plan.wifi.map((w) => `${w.ssid} -> ${w.segment} (VLAN ${w.vlan})`),
    });
  }
}
