/**
 * Plans the reference storage stack with a registry double that answers one image's digest lookup
 * with a value that is not a sha256 digest (a registry or mirror returning garbage). The compose file is
 * rendered inside an `apply` once the digests are known, so the renderer's refusal surfaces there, where
 * Pulumi's mock runtime only reports an unhandled rejection. Run in its own process: Pulumi's runtime is
 * process-global, and jest fails any test that sees an unhandled rejection. Prints the plan's exit code
 * and message (tools/plan/exit.ts) as JSON.
 */
import { join } from "node:path";
import { readStackFile } from "../../../model";
import { buildPlan } from "../../../tools/plan/build";
import { failure } from "../../../tools/plan/exit";

// Run by tools/run.js from a bundle under .cache/run: the project root comes from HOMELAB_ROOT.
const ROOT = process.env["HOMELAB_ROOT"] ?? join(__dirname, "..", "..", "..");
const BAD_IMAGE = "ghcr.io/open-webui/open-webui:v0.6.13";

buildPlan({
  stack: "storage",
  file: readStackFile(join(ROOT, "Pulumi.storage.yaml")),
  networkFile: readStackFile(join(ROOT, "Pulumi.network.yaml")),
  mocks: (base) => ({
    ...base,
    call: (args) =>
      args.token === "docker:index/getRegistryImage:getRegistryImage" && args.inputs["name"] === BAD_IMAGE
        ? { ...args.inputs, sha256Digest: "sha256:not-a-digest" }
        : base.call(args),
  }),
}).then(
  (report) => process.stdout.write(JSON.stringify({ code: 0, resources: report.resources.length }) + "\n"),
  (e: unknown) => process.stdout.write(JSON.stringify(failure(e)) + "\n"),
);
