import type { PolicyResource } from "@pulumi/policy";
import { parsePolicy, type AttachedPolicy } from "../../analysis/backup/iam-policy";
import type { Principal } from "../../analysis/backup/history";

/** @pulumi/aws v7 splits a bucket's settings into separate resources; these are their type tokens. */
export const S3 = {
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  logging: "aws:s3/bucketLogging:BucketLogging",
  kmsKey: "aws:kms/key:Key",
} as const;

/** IAM resources that give a principal permissions (inline and managed policies of users and roles). */
export const IAM = {
  user: "aws:iam/user:User",
  role: "aws:iam/role:Role",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  userPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
} as const;

type Part = Exclude<keyof typeof S3, "bucket" | "kmsKey">;

/**
 * The resource that `prop` of `r` names: through the engine's property dependencies first (known at
 * preview), else by equal name, id or ARN.
 */
function referenced(
  r: PolicyResource,
  prop: string,
  candidates: PolicyResource[],
  keys: string[],
): PolicyResource | undefined {
  const urns = new Set(candidates.map((c) => c.urn));
  const dep = (r.propertyDependencies?.[prop] ?? []).find((d) => urns.has(d.urn));
  if (dep) return candidates.find((c) => c.urn === dep.urn);
  const value = r.props[prop];
  if (value === undefined) return undefined;
  return candidates.find((c) => keys.some((k) => c.props[k] !== undefined && c.props[k] === value));
}

/**
 * A principal's ARN, or at preview (when `arn` is not known yet) the pattern every ARN of it matches:
 * arn:<partition>:iam::<account>:user<path><name> (the account is the only unknown part).
 */
function principalArn(p: PolicyResource): string {
  const arn = p.props["arn"];
  if (typeof arn === "string" && arn !== "") return arn;
  const name = p.props["name"];
  if (typeof name !== "string") return p.urn;
  const kind = p.type === IAM.user ? "user" : "role";
  return `arn:*:iam::*:${kind}${String(p.props["path"] ?? "/")}${name}`;
}

/**
 * Every IAM user and role of the stack with its identity policies (inline and attached managed ones).
 * Group memberships are not followed: the homelab's writer is a user with an inline policy.
 */
export function iamPrincipals(resources: PolicyResource[]): Principal[] {
  const of = (type: string) => resources.filter((r) => r.type === type);
  const managed = of(IAM.policy);
  const principals = [...of(IAM.user), ...of(IAM.role)];
  return principals.map((p) => {
    const isUser = p.type === IAM.user;
    const inline = of(isUser ? IAM.userPolicy : IAM.rolePolicy).filter(
      (x) => referenced(x, isUser ? "user" : "role", [p], ["name", "id"]) !== undefined,
    );
    const attached = of(isUser ? IAM.userPolicyAttachment : IAM.rolePolicyAttachment)
      .filter((x) => referenced(x, isUser ? "user" : "role", [p], ["name", "id"]) !== undefined)
      .map((x) => referenced(x, "policyArn", managed, ["arn", "id"]))
      .filter((x): x is PolicyResource => x !== undefined);
    const policies: AttachedPolicy[] = [...inline, ...attached].flatMap((x) => {
      const doc = parsePolicy(x.props["policy"]);
      return doc ? [{ kind: "identity" as const, doc, source: x.name }] : [];
    });
    return { name: p.name, arn: principalArn(p), policies };
  });
}

export interface BucketView {
  bucket: PolicyResource;
  parts: Partial<Record<Part, PolicyResource[]>>;
  /** True when some BucketLogging writes its logs into this bucket (then SSE-KMS is not possible). */
  isLogTarget: boolean;
}

/**
 * Joins each bucket with its settings resources. The join uses the engine's property dependencies
 * (known at preview, unlike a new bucket's id), falling back to equal bucket names.
 */
export function bucketViews(resources: PolicyResource[]): BucketView[] {
  const buckets = resources.filter((r) => r.type === S3.bucket);
  const owner = (r: PolicyResource, prop: string): PolicyResource | undefined => {
    const viaDeps = (r.propertyDependencies?.[prop] ?? []).find((d) => d.type === S3.bucket);
    if (viaDeps) return buckets.find((b) => b.urn === viaDeps.urn);
    const name = r.props[prop];
    return buckets.find((b) => name !== undefined && (b.props["bucket"] === name || b.props["id"] === name));
  };
  const views = new Map(
    buckets.map((b) => [b.urn, { bucket: b, parts: {}, isLogTarget: false } as BucketView]),
  );
  for (const r of resources) {
    const part = (Object.keys(S3) as (keyof typeof S3)[]).find(
      (k) => S3[k] === r.type && k !== "bucket" && k !== "kmsKey",
    ) as Part | undefined;
    if (!part) continue;
    const b = owner(r, "bucket");
    if (b) (views.get(b.urn)!.parts[part] ??= []).push(r);
    if (part === "logging") {
      const target = owner(r, "targetBucket");
      if (target) views.get(target.urn)!.isLogTarget = true;
    }
  }
  return [...views.values()];
}

/** The KMS key that `value` (an ARN or id) names, found through `prop`'s dependencies or by value. */
export function kmsKeyOf(
  r: PolicyResource,
  prop: string,
  value: unknown,
  resources: PolicyResource[],
): PolicyResource | undefined {
  const dep = (r.propertyDependencies?.[prop] ?? []).find((d) => d.type === S3.kmsKey);
  if (dep) return dep;
  return resources.find(
    (k) =>
      k.type === S3.kmsKey &&
      value !== undefined &&
      (k.props["arn"] === value || k.props["id"] === value || k.props["keyId"] === value),
  );
}

export const bucketLabel = (v: BucketView): string => String(v.bucket.props["bucket"] ?? v.bucket.name);
