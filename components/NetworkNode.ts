import * as pulumi from "@pulumi/pulumi";
import { toContract, type NetworkContract, type NetworkModel } from "../model";
import { ComposeStack } from "./compose/ComposeStack";
import type { SecretResolver, SshConnection } from "./context";
import { AccessNetwork } from "./network/AccessNetwork";
import { Certificates } from "./network/Certificates";
import { acmeSpecFromModel } from "../analysis/acme/spec";
import { compileFirewall } from "../analysis/firewall";
import { renderIngress } from "../analysis/ingress";
import { peerAllowedIps } from "../analysis/wireguard";
import { networkFacts } from "../model/network-facts";
import { Firewall, segmentBindings } from "./network/Firewall";
import { Datasets } from "./storage/Datasets";
import { Ingress } from "./network/Ingress";
import { IntrusionDetection } from "./network/IntrusionDetection";
import { WireGuard } from "./network/WireGuard";
import type { OpnsenseConnection } from "./opnsense/connection";
import { HostMonitoring } from "./storage/HostMonitoring";
import { DEFAULT_SCHEDULES } from "../model/monitoring";
import { networkNodeBaseline } from "../analysis/host/baseline";
import { HostBaseline } from "./host/HostBaseline";
import { FACT_TYPES } from "../model/facts";

export interface NetworkNodeArgs {
  model: NetworkModel;
  secrets: SecretResolver;
}

/** The gateway (OPNsense) and the Docker host beside it, as one failure domain. */
export class NetworkNode extends pulumi.ComponentResource {
  readonly contract: NetworkContract;
  readonly firewall: Firewall;
  readonly wireguard: WireGuard;
  readonly ingress: Ingress;
  readonly certificates: Certificates;
  readonly access: AccessNetwork;
  readonly stacks: ComposeStack[];
  readonly datasets: Datasets;
  /** Suricata on the gateway, when `homelab:ids` is set. */
  readonly ids: IntrusionDetection | undefined;
  /** The node's host firewall and security updates (homelab:hostBaseline). */
  readonly baseline: HostBaseline;

  constructor(name: string, args: NetworkNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FACT_TYPES.networkNode, name, {}, opts);
    const { model, secrets } = args;
    const c = model.config;
    const parent = { parent: this };
    const opnsense: OpnsenseConnection = {
      url: c.opnsense.url,
      apiKey: secrets(c.opnsense.apiKey),
      apiSecret: secrets(c.opnsense.apiSecret),
      ...(c.opnsense.caCertificate !== undefined ? { caCertificate: c.opnsense.caCertificate } : {}),
    };
    this.firewall = new Firewall(
      "firewall",
      {
        compiled: compileFirewall(model),
        network: networkFacts(model),
        segments: segmentBindings(model.segments),
        wanInterface: c.opnsense.wanInterface,
        opnsense,
      },
      parent,
    );
    this.wireguard = new WireGuard(
      "wireguard",
      { wireguard: c.wireguard, peerAllowedIps: peerAllowedIps(model), opnsense, secrets },
      { parent: this, dependsOn: [this.firewall] },
    );
    this.ingress = new Ingress(
      "ingress",
      { rendered: renderIngress(model), routes: model.routes, tls: c.ingress.tls, secrets },
      parent,
    );

    const node = model.hosts.get(c.networkNode.host)!;
    const connection: SshConnection = {
      host: node.address,
      port: c.networkNode.ssh.port,
      user: c.networkNode.ssh.user,
      privateKey: secrets(c.networkNode.ssh.privateKey),
      hostKey: c.networkNode.ssh.hostKey,
    };
    this.ids = model.ids
      ? new IntrusionDetection(
          "ids",
          {
            network: model,
            ids: model.ids,
            opnsense,
            gateway: this.firewall.gateway,
            secrets,
            connection,
            after: [this.firewall],
          },
          parent,
        )
      : undefined;
    // The node's own pool (homelab:datasets): created and owned like the storage node's, before any
    // stack mounts them (a missing bind source would be created by Docker as root:root 0755).
    this.datasets = new Datasets(
      "datasets",
      { datasets: c.datasets, stacks: c.stacks, connection, node: "network" },
      { parent: this },
    );
    // Before the stacks: HAProxy cannot start until the first certificate is issued. After the datasets:
    // the certificate and the runtime API's directory live in HAProxy's dataset.
    this.certificates = new Certificates(
      "certificates",
      {
        acme: c.ingress.tls.acme
          ? { spec: acmeSpecFromModel(model, c.ingress.tls.acme), config: c.ingress.tls.acme }
          : undefined,
        secrets,
        connection,
      },
      { parent: this, dependsOn: [this.datasets] },
    );
    // Before the stacks: a published port never exists without the host firewall in front of it.
    this.baseline = new HostBaseline(
      "network-node-baseline",
      { baseline: networkNodeBaseline(model), connection },
      parent,
    );
    this.stacks = c.stacks.map(
      (stack) =>
        new ComposeStack(
          stack.name,
          {
            node: "network",
            stack,
            datasets: c.datasets,
            connection,
            secrets,
            files: this.ingress.files,
            // The TLS bundle holds the private key: 0600, owned by the proxy that reads it.
            sensitiveFiles: [this.ingress.certificatePath],
          },
          { parent: this, dependsOn: [this.firewall, this.certificates, this.datasets, this.baseline] },
        ),
    );
    // node-exporter and the health timers (its pool, the ingress certificate's expiry) on this host too.
    new HostMonitoring(
      "network-node-monitoring",
      {
        host: {
          host: node.name,
          listenAddress: node.address,
          pools: [...new Set(c.datasets.map((d) => d.name.split("/")[0]!))],
          certificates: [this.ingress.certificatePath],
          smart: true,
          schedules: DEFAULT_SCHEDULES,
        },
        connection,
      },
      parent,
    );
    // The controller itself runs in one of the stacks.
    this.access = new AccessNetwork(
      "access",
      { network: model, secrets },
      { parent: this, dependsOn: this.stacks },
    );
    this.contract = toContract(model);
    this.registerOutputs({ contract: this.contract });
  }
}
