import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { contentHash } from "../../analysis/compose/hash";
import { datasetMountpoint, filesForStack, renderStack, usesIngress } from "../../analysis/compose/render";
import { fileAccess } from "../../analysis/storage/ownership";
import type { ComposeStackConfig, Dataset } from "../../model";
import { isSecretRef } from "../../model/common";
import { INGRESS_NETWORK } from "../../model/compose-checks";
import type { SecretResolver, SshConnection } from "../context";
import { composeProvider, type ComposeProjectInputs } from "./provider";
import { DEFAULT_BASE_DIR } from "./remote";
import { composeFacts } from "./facts";
import { DYNAMIC, FACT_TYPES } from "../../model/facts";
import { normalizeHostKey } from "../../model/ssh";

export interface ComposeStackArgs {
  /** "network" or "storage": the failure domain this stack runs in. */
  node: "network" | "storage";
  stack: ComposeStackConfig;
  /** Datasets the services mount, with their mountpoints on the host. */
  datasets: Dataset[];
  connection: SshConnection;
  secrets: SecretResolver;
  /** Files the stack needs on the host before start (rendered configs), keyed by host path. */
  files?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Host paths among `files` that hold keys: written 0600 (or 0640), owned by the reading service. */
  sensitiveFiles?: string[];
  /** Deployment knobs; the defaults are what the reference homelab uses. */
  options?: {
    /** Parent of /<project> on the host (default /opt/homelab/stacks). */
    baseDir?: string;
    healthTimeoutSeconds?: number;
    ingressNetwork?: string;
    /** ZFS altroot of the dataset mountpoints (default "/"). */
    altroot?: string;
  };
}

type Inputs = { [K in keyof ComposeProjectInputs]: pulumi.Input<ComposeProjectInputs[K]> };

/** The dynamic resource that owns one compose project on one host (see provider.ts). */
export class ComposeProject extends pulumi.dynamic.Resource {
  declare readonly contentHash: pulumi.Output<string>;
  declare readonly flavor: pulumi.Output<string>;
  constructor(name: string, args: Inputs, opts?: pulumi.CustomResourceOptions) {
    // Typed (FACT_TYPES.composeProject) so the plan and `pulumi stack` name what it is.
    super(
      composeProvider,
      name,
      { ...args, flavor: undefined },
      opts,
      DYNAMIC.composeProject.module,
      DYNAMIC.composeProject.type,
    );
  }
}

const pinnedAlready = (image: string, digest?: string) =>
  digest !== undefined || image.includes("@") || /^sha256:[a-f0-9]{64}$/.test(image);

/**
 * One Compose project on one node: the typed stack rendered to a Compose file (images pinned by
 * digest, secrets kept out of the file) and deployed over SSH by a dynamic provider that updates in
 * place and waits for health checks.
 */
export class ComposeStack extends pulumi.ComponentResource {
  readonly projectName: string;
  readonly services: string[];
  readonly contentHash: pulumi.Output<string>;
  readonly project: ComposeProject;

  constructor(name: string, args: ComposeStackArgs, opts?: pulumi.ComponentResourceOptions) {
    // Tags resolve to digests here, not in the provider: the lookup is a normal provider call the
    // engine (and the offline plan's mocks) answer, and the digest shows in the plan. It runs before
    // super() so the resolved references are part of the component's policy facts.
    const digests: Record<string, pulumi.Output<string>> = {};
    for (const svc of args.stack.services)
      if (!pinnedAlready(svc.image, svc.digest))
        digests[svc.name] = docker.getRegistryImageOutput(
          { name: svc.image },
          { parent: opts?.parent },
        ).sha256Digest;
    const o = args.options ?? {};
    // Rendered once: the same document becomes docker-compose.yml and the policies' facts.
    const rendered = pulumi.all(digests).apply((d) =>
      renderStack(args.stack, {
        digests: d,
        datasets: args.datasets.map((ds) => ds.name),
        altroot: o.altroot ?? "/",
        ingressNetwork: o.ingressNetwork ?? INGRESS_NETWORK,
        node: args.node,
      }),
    );
    super(FACT_TYPES.composeStack, name, composeFacts(args.node, args.stack, rendered), opts);
    const { stack, connection, secrets } = args;
    this.projectName = stack.name;
    this.services = stack.services.map((s) => s.name);

    // Only the secrets this stack references are resolved; the result is secret as a whole.
    const refs = new Set<string>();
    for (const svc of stack.services)
      for (const v of Object.values(svc.env)) if (isSecretRef(v)) refs.add(v.secret);
    const secretEnv = pulumi.secret(
      pulumi.all(Object.fromEntries([...refs].sort().map((k) => [k, secrets({ secret: k })]))),
    );
    const mount = (d: string) => datasetMountpoint(d, o.altroot ?? "/");
    const files = (pulumi.output(args.files ?? {}) as pulumi.Output<Record<string, string>>).apply((f) =>
      filesForStack(stack, f, mount),
    );
    // Modes and owners are public (paths and uids, no content): they show in the plan and diffs.
    const fileModes = files.apply((f) =>
      fileAccess(stack, Object.keys(f).sort(), new Set(args.sensitiveFiles ?? []), mount),
    );

    this.contentHash = pulumi
      .all([rendered, files])
      .apply(([r, f]) =>
        contentHash({ project: stack.name, composeYaml: r.yaml, secretKeys: r.secretKeys, files: f }),
      );

    this.project = new ComposeProject(
      name,
      {
        host: connection.host,
        port: connection.port,
        user: connection.user,
        // Secret even if a caller resolved the key to a plain string: it is stored in state for delete.
        privateKey: pulumi.secret(connection.privateKey),
        hostKey: normalizeHostKey(connection.hostKey),
        project: stack.name,
        baseDir: o.baseDir ?? DEFAULT_BASE_DIR,
        composeYaml: rendered.yaml,
        services: this.services,
        healthchecked: rendered.healthchecked,
        secretEnv,
        files: pulumi.secret(files),
        fileModes: pulumi.unsecret(fileModes),
        ingressNetwork: usesIngress(stack) ? (o.ingressNetwork ?? INGRESS_NETWORK) : "",
        contentHash: this.contentHash,
        healthTimeoutSeconds: o.healthTimeoutSeconds ?? 300,
        pollIntervalMs: 2000,
      },
      {
        parent: this,
        // The component's dependencies (Docker host baseline, datasets) hold for the deployment itself.
        dependsOn: opts?.dependsOn,
        additionalSecretOutputs: ["privateKey", "secretEnv", "files"],
        customTimeouts: { create: "30m", update: "30m", delete: "15m" },
      },
    );

    this.registerOutputs({
      projectName: this.projectName,
      services: this.services,
      contentHash: this.contentHash,
    });
  }
}
