import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

const digestOf = (text: string): string => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/**
 * Answers the provider calls the program makes, offline and deterministically. Values are obviously
 * fake (account 123456789012, digests hashed from the image reference) and never reach a real system.
 */
export function planMocks(stackOutputs: Record<string, Record<string, unknown>>): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "pulumi:pulumi:StackReference") {
        const name = String(args.inputs["name"] ?? args.name);
        return {
          id: name,
          state: { ...state, name, outputs: stackOutputs[name] ?? {}, secretOutputNames: [] },
        };
      }
      if (args.type === "aws:s3/bucket:Bucket" || args.type === "aws:s3/bucketV2:BucketV2") {
        const bucket = String(args.inputs["bucket"] ?? `${args.name}-mock`);
        state["bucket"] = bucket;
        state["arn"] = `arn:aws:s3:::${bucket}`;
      }
      // IAM principals get ARNs in AWS's own format (account of getCallerIdentity below), so bucket policies
      // naming them can be matched to the user by the vault-history policy.
      if (args.type === "aws:iam/user:User" || args.type === "aws:iam/role:Role") {
        const kind = args.type === "aws:iam/user:User" ? "user" : "role";
        const path = String(args.inputs["path"] ?? "/");
        state["arn"] = `arn:aws:iam::123456789012:${kind}${path}${String(args.inputs["name"] ?? args.name)}`;
      }
      if (args.type.startsWith("aws:") && state["arn"] === undefined)
        state["arn"] = `arn:aws:mock:::${args.name}`;
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      switch (args.token) {
        case "docker:index/getRegistryImage:getRegistryImage":
          return { ...args.inputs, sha256Digest: digestOf(String(args.inputs["name"])) };
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return {
            accountId: "123456789012",
            arn: "arn:aws:iam::123456789012:user/mock",
            userId: "MOCK",
            id: "123456789012",
          };
        case "aws:index/getRegion:getRegion":
          return { name: "eu-central-1", region: "eu-central-1", id: "eu-central-1" };
        case "aws:index/getPartition:getPartition":
          return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        default:
          return args.inputs;
      }
    },
  };
}
